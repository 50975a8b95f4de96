import { z } from 'zod';
import { ContextId, Id, NonNegativeInt, Sha256 } from '../../common';

export const CLAUSES_INDEXED_V1 = 'ontology.clauses.indexed.v1';

/** A framed document's clauses are in the retrieval index (dense and sparse vectors). */
export const ClausesIndexedV1 = z.object({
  version: z.literal('v1'),
  contextId: ContextId,
  documentId: Id,
  documentSha256: Sha256,
  clauseCount: NonNegativeInt,
  dimensions: NonNegativeInt.describe('Size of the dense vectors'),
  embeddingModel: z.string().min(1),
});
export type ClausesIndexedV1 = z.infer<typeof ClausesIndexedV1>;
