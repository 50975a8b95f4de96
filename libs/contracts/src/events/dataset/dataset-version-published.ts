import { z } from 'zod';
import { ContextId, Id, NonNegativeInt, Sha256 } from '../../common';

export const DATASET_VERSION_PUBLISHED_V1 = 'dataset.version.published.v1';

export const DatasetSplitInfo = z.object({
  path: z.string().min(1).describe('Hugging Face conversational or preference JSON lines'),
  sha256: Sha256,
  examples: NonNegativeInt,
});

export const DatasetVersionPublishedV1 = z.object({
  version: z.literal('v1'),
  contextId: ContextId,
  datasetVersionId: Id,
  sha256: Sha256.describe('Content hash of the whole version'),
  documentId: Id.describe('The framed document the version was generated from'),
  documentSha256: Sha256,
  systemPrompt: z.string().min(1).describe('The system prompt of every example'),
  format: z.enum(['conversational', 'preference']),
  splits: z.object({ train: DatasetSplitInfo, heldOut: DatasetSplitInfo }),
  examplesByKind: z.record(z.string(), NonNegativeInt),
  clauseCoverage: z.number().min(0).max(1).describe('Share of clauses cited by at least one example'),
});
export type DatasetVersionPublishedV1 = z.infer<typeof DatasetVersionPublishedV1>;
