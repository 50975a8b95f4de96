import { ContextId, Id } from '@studio/contracts';
import type { EntitySpec } from '@studio/ports';
import { z } from 'zod';

/** A clause of a framed document. Its id is stable: document, numbering path and content hash. */
export const FramedClause = z.object({
  id: Id,
  contextId: ContextId,
  documentId: Id,
  position: z.number().int().nonnegative().describe('order of the clause in its document'),
  numbering: z.string().min(1),
  title: z.string().nullable(),
  text: z.string().min(1),
});
export type FramedClause = z.infer<typeof FramedClause>;

export const CLAUSES: EntitySpec<FramedClause> = {
  collection: 'clauses',
  schema: FramedClause,
  indexes: [{ fields: { contextId: 1, documentId: 1, position: 1 } }],
};
export const CLAUSES_REPOSITORY = Symbol('CLAUSES_REPOSITORY');
