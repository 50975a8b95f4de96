import { z } from 'zod';
import { ContextId, Id, IsoTime, NonNegativeInt, Sha256 } from '../common';
import { ClauseChangeCounts } from '../events/policy/document-revised';

/**
 * One version of a document: every upload of the same document (same id in the context, from its
 * file name or declared id) with other bytes is a new version. The context's clauses are those
 * of the current (last framed) version of each of its documents.
 */
export const DocumentVersionV1 = z.object({
  id: Id.describe('<documentId>.v<version>'),
  contextId: ContextId,
  documentId: Id,
  version: z.number().int().min(1),
  filename: z.string().min(1),
  mediaType: z.string().min(1),
  sha256: Sha256,
  sizeBytes: NonNegativeInt,
  status: z.enum(['framed', 'rejected']),
  current: z.boolean().describe('Whether this is the version the context uses now'),
  title: z.string().nullable(),
  clauseCount: NonNegativeInt.nullable(),
  statementCount: NonNegativeInt.nullable(),
  error: z.string().nullable().describe('Why a rejected version could not be framed'),
  previousVersion: z.number().int().min(1).nullable().describe('The framed version this one revises'),
  changes: ClauseChangeCounts.nullable().describe('Clause changes against the previous version; null for the first'),
  receivedAt: IsoTime,
});
export type DocumentVersionV1 = z.infer<typeof DocumentVersionV1>;

/** `GET /v1/contexts/{contextId}/documents/{documentId}/versions` */
export const DocumentVersionsV1 = z.object({
  contextId: ContextId,
  documentId: Id,
  currentVersion: z.number().int().min(1).nullable(),
  versions: z.array(DocumentVersionV1).describe('Newest first'),
});
export type DocumentVersionsV1 = z.infer<typeof DocumentVersionsV1>;

export const DiffedClause = z.object({ id: Id, numbering: z.string().min(1), text: z.string() });
export type DiffedClause = z.infer<typeof DiffedClause>;

export const ClauseChange = z.object({
  type: z.enum(['unchanged', 'moved', 'changed', 'added', 'removed']),
  from: DiffedClause.nullable().describe('The clause in the old version; null when added'),
  to: DiffedClause.nullable().describe('The clause in the new version; null when removed'),
  similarity: z.number().min(0).max(1).nullable().describe('Word overlap of a changed clause’s two texts'),
  matchedBy: z.enum(['numbering', 'content']).nullable().describe('How a changed clause was paired with its old text'),
});
export type ClauseChange = z.infer<typeof ClauseChange>;

/** `GET /v1/contexts/{contextId}/documents/{documentId}/diff?from=<version>&to=<version>` */
export const DocumentDiffV1 = z.object({
  contextId: ContextId,
  documentId: Id,
  from: z.object({ version: z.number().int().min(1), sha256: Sha256 }),
  to: z.object({ version: z.number().int().min(1), sha256: Sha256 }),
  summary: ClauseChangeCounts,
  changes: z.array(ClauseChange).describe('In the new version’s order; unchanged clauses only with ?unchanged=true'),
});
export type DocumentDiffV1 = z.infer<typeof DocumentDiffV1>;
