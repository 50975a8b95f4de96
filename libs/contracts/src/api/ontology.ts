import { z } from 'zod';
import { ContextId, Id, IsoTime, NonNegativeInt } from '../common';
import { NormativeKind } from '../events/policy/document-framed';

/**
 * A context's ontology: the concepts its documents talk about (defined terms, the parties the
 * rules bind, the actions they oblige, forbid or permit, the objects of those actions) and the
 * relations between concepts and clauses. Served by the ontology service, shown by the web app.
 */

/** What a concept is in the documents; one concept may be several (a defined term that statements also bind). */
export const CONCEPT_ROLES = ['term', 'actor', 'action', 'object'] as const;
export const ConceptRole = z.enum(CONCEPT_ROLES);
export type ConceptRole = z.infer<typeof ConceptRole>;

export const ConceptDefinition = z.object({
  text: z.string().min(1).describe('The definiens as the document words it'),
  clauseId: Id.describe('The clause that defines the term'),
});
export type ConceptDefinition = z.infer<typeof ConceptDefinition>;

export const Concept = z.object({
  /** Stable across versions and documents: `c-` + slug of the normalised preferred label. */
  id: z.string().min(1),
  prefLabel: z.string().min(1).describe('Normalised preferred label, lower case unless an acronym or proper name'),
  altLabels: z.array(z.string().min(1)).describe('Abbreviations, other surface forms found in the documents ("PHI")'),
  roles: z.array(ConceptRole).min(1),
  definition: ConceptDefinition.nullable(),
  /** Clauses that mention the concept in a statement or define it, in document order. */
  clauseIds: z.array(Id),
  documentIds: z.array(Id),
  /** extracted from the documents, or imported from SKOS (a curator's correction wins over extraction). */
  origin: z.enum(['extracted', 'imported']),
});
export type Concept = z.infer<typeof Concept>;

/**
 * Relation types. SKOS between concepts: `broader` (from is narrower than to; `narrower` is its
 * inverse, derived, never stored), `related`. Domain: `defines` and `governs` (clause → concept;
 * governs carries the statement kind), `exceptionOf`, `refersTo`, `conflictsWith` (clause → clause).
 */
export const RELATION_TYPES = ['broader', 'related', 'defines', 'governs', 'exceptionOf', 'refersTo', 'conflictsWith'] as const;
export const RelationType = z.enum(RELATION_TYPES);
export type RelationType = z.infer<typeof RelationType>;

export const ConflictStatus = z.enum(['candidate', 'confirmed', 'dismissed']);
export type ConflictStatus = z.infer<typeof ConflictStatus>;

export const Relation = z.object({
  /** Deterministic: `${type}:${from}>${to}` plus `:${statementKind}` for governs. */
  id: z.string().min(1),
  type: RelationType,
  /** A concept id for broader/related, else a clause id. */
  from: z.string().min(1),
  /** A concept id for broader/related/defines/governs, else a clause id. */
  to: z.string().min(1),
  statementKind: NormativeKind.nullable().describe('governs only: the kind of the statement'),
  /** Statement ids (or clause ids) that gave the relation, for a reader to check. */
  evidence: z.array(z.string().min(1)),
  /** conflictsWith only: a curator's decision (candidate until one is made); null for other types. */
  status: ConflictStatus.nullable(),
  origin: z.enum(['extracted', 'imported']),
});
export type Relation = z.infer<typeof Relation>;

export const GraphDocument = z.object({ documentId: Id, sha256: z.string().min(1), version: z.number().int().min(1) });

/** Concepts and relations added and removed between two versions of a context's graph. */
export const GraphDiff = z.object({
  conceptsAdded: z.array(z.string()),
  conceptsRemoved: z.array(z.string()),
  relationsAdded: z.array(z.string()),
  relationsRemoved: z.array(z.string()),
});
export type GraphDiff = z.infer<typeof GraphDiff>;

export const RelationCounts = z.record(RelationType, NonNegativeInt);
export type RelationCounts = z.infer<typeof RelationCounts>;

/** One version of a context's graph, as stored and served. */
export const OntologyGraph = z.object({
  contextId: ContextId,
  version: z.number().int().min(1),
  /** The document versions the graph was built from. */
  documents: z.array(GraphDocument),
  concepts: z.array(Concept),
  relations: z.array(Relation),
  createdAt: IsoTime,
});
export type OntologyGraph = z.infer<typeof OntologyGraph>;
