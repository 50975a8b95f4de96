import { ContextId, DocumentFramedV1, Id, IsoTime, type CloudEvent } from '@studio/contracts';
import type { EntitySpec } from '@studio/ports';
import { z } from 'zod';

/**
 * A framed document whose clauses the ontology has to link to concepts and index for
 * retrieval. Recorded when the framer announces it, then indexed.
 */
export const FramedSource = z.object({
  id: Id.describe('The framed document id'),
  contextId: ContextId,
  documentSha256: DocumentFramedV1.shape.documentSha256,
  clauseIds: z.array(Id),
  statementCount: z.number().int().nonnegative(),
  status: z.enum(['pending-index', 'indexed']),
  indexedClauseCount: z.number().int().nonnegative().default(0),
  framedAt: IsoTime,
  framedEventId: Id,
});
export type FramedSource = z.infer<typeof FramedSource>;

export const FRAMED_SOURCES: EntitySpec<FramedSource> = {
  collection: 'framed_sources',
  schema: FramedSource,
  indexes: [{ fields: { contextId: 1, status: 1 } }],
};

export function sourceFromFramed(event: CloudEvent<DocumentFramedV1>): FramedSource {
  const d = event.data;
  return {
    id: d.documentId,
    contextId: d.contextId,
    documentSha256: d.documentSha256,
    clauseIds: d.clauseIds,
    statementCount: d.statementCount,
    status: 'pending-index',
    indexedClauseCount: 0,
    framedAt: event.time,
    framedEventId: event.id,
  };
}
