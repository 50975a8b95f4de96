import { z } from 'zod';
import { ContextId, Id, NonNegativeInt, Sha256 } from '../../common';

export const DOCUMENT_FRAMED_V1 = 'policy.document.framed.v1';

export const NormativeKind = z.enum(['obligation', 'prohibition', 'permission', 'exception', 'definition']);

export const DocumentFramedV1 = z.object({
  version: z.literal('v1'),
  contextId: ContextId,
  documentId: Id,
  documentSha256: Sha256,
  clauseCount: NonNegativeInt,
  statementCount: NonNegativeInt,
  statementsByKind: z.record(NormativeKind, NonNegativeInt),
  clauseIds: z.array(Id).describe('Stable clause ids: document, numbering path and content hash'),
});
export type DocumentFramedV1 = z.infer<typeof DocumentFramedV1>;
