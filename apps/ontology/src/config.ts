import { artifactDir, eventServiceEnv, llmBaseUrl, qdrantUrl } from '@studio/config';
import { z } from 'zod';

export const ONTOLOGY_NAME = 'ontology';
export const ONTOLOGY_PORT = 3002;

export const OntologyEnv = z.object({
  ...eventServiceEnv(ONTOLOGY_NAME),
  LLM_BASE_URL: llmBaseUrl,
  EMBEDDING_MODEL: z.string().min(1).default('all-minilm-l6-v2').describe('embedding model on the LLM endpoint (default all-minilm-l6-v2)'),
  QDRANT_URL: qdrantUrl,
  /** Where the framer writes each framed document's clauses (the framed event names the file). */
  STUDIO_ARTIFACT_DIR: artifactDir,
});
