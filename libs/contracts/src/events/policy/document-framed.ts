import { z } from 'zod';
import { ContextId, Id, NonNegativeInt, Sha256 } from '../../common';

export const DOCUMENT_FRAMED_V1 = 'policy.document.framed.v1';

export const NormativeKind = z.enum(['obligation', 'prohibition', 'permission', 'exception', 'definition']);

export const DocumentFramedV1 = z.object({
  version: z.literal('v1'),
  contextId: ContextId,
  documentId: Id,
  documentSha256: Sha256,
  documentVersion: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('The version of the document this framing is (absent on events from before versions were stated)'),
  clauseCount: NonNegativeInt,
  statementCount: NonNegativeInt,
  statementsByKind: z.record(NormativeKind, NonNegativeInt),
  clauseIds: z.array(Id).describe('Stable clause ids: document, numbering path and content hash'),
  clausesUri: z.string().min(1).describe('The clauses (id, numbering, title, text, position) as JSON lines in the artifact store'),
  framingUri: z
    .string()
    .min(1)
    .optional()
    .describe(
      'The parsed document tree and its normative statements ({ tree, statements } JSON) in the artifact store; absent on events from before it',
    ),
});
export type DocumentFramedV1 = z.infer<typeof DocumentFramedV1>;
