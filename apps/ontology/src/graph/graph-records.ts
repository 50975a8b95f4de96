import { Concept, ContextId, GraphDocument, Id, IsoTime, OntologyGraph, Relation, Sha256 } from '@studio/contracts';
import type { EntitySpec } from '@studio/ports';
import { z } from 'zod';

/**
 * What the ontology service stores about a context's graph, in its own database: the graph's
 * versions, the document versions it is built from, the last SKOS import laid over it and the
 * curators' decisions on conflict candidates. Every record carries its context (tenant data
 * erasure finds them all by tenant).
 */

/** A clause a graph's relations name, as a reader sees it (so routes need not re-read the documents). */
export const GraphClause = z.object({
  id: Id,
  documentId: Id,
  numbering: z.string().min(1),
  citation: z.string().min(1).nullable(),
  text: z.string().min(1),
});
export type GraphClause = z.infer<typeof GraphClause>;

/** One version of a context's graph (`ontology_graphs`): the contract's OntologyGraph, its clauses and a hash of its content. */
export const OntologyGraphRecord = OntologyGraph.extend({
  id: Id.describe('`<contextId>:v<version>`'),
  /** SHA-256 of the documents, concepts and relations as extracted and imported (before conflict decisions): same content, no new version. */
  contentSha256: Sha256,
  clauses: z.array(GraphClause),
});
export type OntologyGraphRecord = z.infer<typeof OntologyGraphRecord>;

export const ONTOLOGY_GRAPHS: EntitySpec<OntologyGraphRecord> = {
  collection: 'ontology_graphs',
  schema: OntologyGraphRecord,
  indexes: [{ fields: { contextId: 1, version: -1 } }],
};

export function graphRecordId(contextId: string, version: number): string {
  return `${contextId}:v${version}`;
}

/** Which version is a context's latest (`ontology_heads`): a small record read before the (large) graph itself. */
export const OntologyHeadRecord = z.object({
  id: ContextId.describe('the context id'),
  contextId: ContextId,
  version: z.number().int().min(1),
  graphId: Id,
  contentSha256: Sha256,
});
export type OntologyHeadRecord = z.infer<typeof OntologyHeadRecord>;

export const ONTOLOGY_HEADS: EntitySpec<OntologyHeadRecord> = {
  collection: 'ontology_heads',
  schema: OntologyHeadRecord,
};

/** The current framed version of one document of a context (`ontology_sources`): the graph is built from these. */
export const OntologySourceRecord = GraphDocument.extend({
  id: Id.describe('`<contextId>:<documentId>`'),
  contextId: ContextId,
  /** The framing artifact ({ tree, statements }); null when the framed event had none (a framer from before it). */
  framingUri: z.string().min(1).nullable(),
  framedAt: IsoTime,
});
export type OntologySourceRecord = z.infer<typeof OntologySourceRecord>;

export const ONTOLOGY_SOURCES: EntitySpec<OntologySourceRecord> = {
  collection: 'ontology_sources',
  schema: OntologySourceRecord,
  indexes: [{ fields: { contextId: 1 } }],
};

export function sourceRecordId(contextId: string, documentId: string): string {
  return `${contextId}:${documentId}`;
}

/** The last accepted SKOS import of a context (`ontology_imports`), laid over every later build. */
export const ImportedOverlayRecord = z.object({
  id: ContextId.describe('the context id'),
  contextId: ContextId,
  concepts: z.array(Concept),
  relations: z.array(Relation),
  importedAt: IsoTime,
});
export type ImportedOverlayRecord = z.infer<typeof ImportedOverlayRecord>;

export const ONTOLOGY_IMPORTS: EntitySpec<ImportedOverlayRecord> = {
  collection: 'ontology_imports',
  schema: ImportedOverlayRecord,
};

/** A curator's decision on a conflict candidate (`ontology_conflict_decisions`), applied to every later version. */
export const ConflictDecisionRecord = z.object({
  id: Id.describe('`<contextId>:<relationId>` hashed when longer than an id may be'),
  contextId: ContextId,
  relationId: z.string().min(1),
  status: z.enum(['confirmed', 'dismissed']),
  by: z.string().min(1),
  reason: z.string().nullable(),
  at: IsoTime,
});
export type ConflictDecisionRecord = z.infer<typeof ConflictDecisionRecord>;

export const CONFLICT_DECISIONS: EntitySpec<ConflictDecisionRecord> = {
  collection: 'ontology_conflict_decisions',
  schema: ConflictDecisionRecord,
  indexes: [{ fields: { contextId: 1 } }],
};
