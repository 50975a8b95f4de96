import { z } from 'zod';
import { ContextId, Id, NonNegativeInt } from '../../common';

export const ONTOLOGY_UPDATED_V1 = 'ontology.graph.updated.v1';

export const OntologyUpdatedV1 = z.object({
  version: z.literal('v1'),
  contextId: ContextId,
  ontologyVersion: NonNegativeInt,
  conceptCount: NonNegativeInt,
  relationCount: NonNegativeInt,
  indexedClauseCount: NonNegativeInt,
  sourceDocumentIds: z.array(Id),
});
export type OntologyUpdatedV1 = z.infer<typeof OntologyUpdatedV1>;
