import { z } from 'zod';
import { ContextId, Id, NonNegativeInt, Sha256 } from '../../common';

export const DATASET_VERSION_PUBLISHED_V1 = 'dataset.version.published.v1';

export const DatasetSplitInfo = z.object({
  path: z.string().min(1).describe('Hugging Face conversational or preference JSON lines'),
  sha256: Sha256,
  examples: NonNegativeInt,
});

export const DatasetDocument = z.object({ documentId: Id, version: z.number().int().min(1).nullable(), sha256: Sha256 });
export type DatasetDocument = z.infer<typeof DatasetDocument>;

/** How a version was derived from the previous one after documents changed; null when generated in full. */
export const IncrementalGeneration = z.object({
  fromDatasetVersionId: Id,
  kept: NonNegativeInt.describe('Examples of the previous version kept verbatim: all their clauses are unchanged'),
  regenerated: NonNegativeInt.describe('Examples generated for added, changed and renumbered clauses'),
  dropped: NonNegativeInt.describe('Examples of the previous version left out: they cite a changed, removed or renumbered clause'),
});
export type IncrementalGeneration = z.infer<typeof IncrementalGeneration>;

/** How a version was made from another by a person's review; null for a generated version. */
export const DatasetReview = z.object({
  parentDatasetVersionId: Id.describe('The version that was reviewed'),
  reviewedBy: z.string().min(1).describe("The reviewer's subject"),
  approved: NonNegativeInt.describe('Examples approved as they stood'),
  edited: NonNegativeInt.describe('Examples replaced by an edited question or answer (same clauses)'),
  rejected: NonNegativeInt.describe('Examples left out'),
  unreviewed: NonNegativeInt.describe('Examples of the new version that nobody has reviewed yet (its review queue)'),
});
export type DatasetReview = z.infer<typeof DatasetReview>;

export const DatasetVersionPublishedV1 = z.object({
  version: z.literal('v1'),
  contextId: ContextId,
  datasetVersionId: Id,
  sha256: Sha256.describe('Content hash of the whole version'),
  documentId: Id.describe('The framed document the version was generated from (of several: the most recently received)'),
  documentSha256: Sha256,
  documents: z
    .array(DatasetDocument)
    .optional()
    .describe(
      'Every document (its current version) whose clauses the version was generated from; absent from older producers: then only documentId',
    ),
  systemPrompt: z.string().min(1).describe('The system prompt of every example'),
  format: z.enum(['conversational', 'preference']),
  splits: z.object({ train: DatasetSplitInfo, heldOut: DatasetSplitInfo }),
  examplesByKind: z.record(z.string(), NonNegativeInt),
  clauseCoverage: z.number().min(0).max(1).describe('Share of clauses cited by at least one example'),
  incremental: IncrementalGeneration.nullable().optional(),
  review: DatasetReview.nullable()
    .optional()
    .describe('Set when the version is a review of another (its parent); absent or null for a generated one'),
});
export type DatasetVersionPublishedV1 = z.infer<typeof DatasetVersionPublishedV1>;
