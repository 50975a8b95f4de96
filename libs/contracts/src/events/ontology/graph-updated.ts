import { z } from 'zod';
import { GraphDiff, GraphDocument, RelationCounts } from '../../api/ontology';
import { ContextId, NonNegativeInt } from '../../common';

export const GRAPH_UPDATED_V1 = 'ontology.graph.updated.v1';

/** A context's ontology has a new version: its real counts and what changed since the previous version. */
export const GraphUpdatedV1 = z.object({
  version: z.literal('v1'),
  contextId: ContextId,
  graphVersion: z.number().int().min(1),
  previousVersion: z.number().int().min(1).nullable(),
  documents: z.array(GraphDocument),
  conceptCount: NonNegativeInt,
  relationCount: NonNegativeInt,
  relationsByType: RelationCounts,
  diff: GraphDiff,
});
export type GraphUpdatedV1 = z.infer<typeof GraphUpdatedV1>;
