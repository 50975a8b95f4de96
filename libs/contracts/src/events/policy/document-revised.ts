import { z } from 'zod';
import { ContextId, Id, NonNegativeInt, Sha256 } from '../../common';

export const DOCUMENT_REVISED_V1 = 'policy.document.revised.v1';

/** How many clauses of a document's new version are unchanged, moved (renumbered only), changed, added or removed. */
export const ClauseChangeCounts = z.object({
  unchanged: NonNegativeInt,
  moved: NonNegativeInt.describe('Same text under another numbering: a renumbering, not a change of content'),
  changed: NonNegativeInt,
  added: NonNegativeInt,
  removed: NonNegativeInt,
});
export type ClauseChangeCounts = z.infer<typeof ClauseChangeCounts>;

/** A dataset version some of whose examples cite clauses the new version no longer has. */
export const StaleDatasetVersion = z.object({
  datasetVersionId: Id,
  staleExamples: NonNegativeInt.describe('Examples citing a changed, removed or renumbered clause'),
  examples: NonNegativeInt.describe('All examples of the version'),
});
export type StaleDatasetVersion = z.infer<typeof StaleDatasetVersion>;

/**
 * A new version of a document was framed (an upload with the same document id and other bytes).
 * Published after `policy.document.framed` of the new version. The full diff, with texts, is at
 * `GET /v1/contexts/{contextId}/documents/{documentId}/diff?from=&to=`.
 */
export const DocumentRevisedV1 = z.object({
  version: z.literal('v1'),
  contextId: ContextId,
  documentId: Id,
  fromVersion: z.number().int().min(1),
  toVersion: z.number().int().min(2),
  fromSha256: Sha256,
  toSha256: Sha256,
  summary: ClauseChangeCounts,
  staleClauseIds: z
    .array(Id)
    .describe('Clause ids of the old version that are no longer current: changed, removed, or renumbered (their citation changed)'),
  addedClauseIds: z.array(Id).describe('Clause ids of the new version that the old one did not have (added, changed or renumbered)'),
  staleDatasetVersions: z
    .array(StaleDatasetVersion)
    .describe('Dataset versions of the context with examples on stale clauses: what was trained and audited on them is stale'),
});
export type DocumentRevisedV1 = z.infer<typeof DocumentRevisedV1>;
