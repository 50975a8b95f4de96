import { artifactDir, eventServiceEnv, llmApiKey, llmBaseUrl, qdrantApiKey, qdrantUrl, serviceTokenEnv } from '@studio/config';
import { z } from 'zod';

export const ONTOLOGY_NAME = 'ontology';
export const ONTOLOGY_PORT = 3002;

export const OntologyEnv = z.object({
  ...eventServiceEnv(ONTOLOGY_NAME),
  ...serviceTokenEnv,
  LLM_BASE_URL: llmBaseUrl,
  LLM_API_KEY: llmApiKey,
  EMBEDDING_MODEL: z.string().min(1).default('all-minilm-l6-v2').describe('embedding model on the LLM endpoint (default all-minilm-l6-v2)'),
  QDRANT_URL: qdrantUrl,
  QDRANT_API_KEY: qdrantApiKey,
  /** Where the framer writes each framed document's clauses (the framed event names the file). */
  STUDIO_ARTIFACT_DIR: artifactDir,
});
