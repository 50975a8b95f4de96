import { createHash } from 'node:crypto';
import {
  CONCEPT_ROLES,
  GRAPH_UPDATED_V1,
  type Concept,
  type ConceptRole,
  type ConflictStatus,
  type DocumentFramedV1,
  type DocumentRevisedV1,
  type GraphDiff,
  type OntologyGraph,
  type Relation,
  type RelationCounts,
} from '@studio/contracts';
import { canonicalJson } from '@studio/framing';
import {
  buildOntology,
  diffGraphs,
  fromTurtle,
  mergeImported,
  relationCounts,
  SkosImportError,
  toJsonLd,
  toTurtle,
  type ExtractedGraph,
  type OntologySource,
} from '@studio/ontology';
import { publishEvent, readFramingArtifact, type ArtifactStore, type Publishing } from '@studio/pipeline';
import type { Repository, TenantId } from '@studio/ports';
import {
  graphRecordId,
  sourceRecordId,
  type ConflictDecisionRecord,
  type GraphClause,
  type ImportedOverlayRecord,
  type OntologyGraphRecord,
  type OntologyHeadRecord,
  type OntologySourceRecord,
} from './graph-records';

/** The ontology's graph stores (its own database) and where it reads framing artifacts and publishes. */
export interface GraphPorts extends Publishing {
  repos: {
    graphs: Repository<OntologyGraphRecord>;
    heads: Repository<OntologyHeadRecord>;
    sources: Repository<OntologySourceRecord>;
    imports: Repository<ImportedOverlayRecord>;
    decisions: Repository<ConflictDecisionRecord>;
  };
  artifacts: Pick<ArtifactStore, 'read'>;
  /** Latest versions already read (a version's record never changes); none: every read goes to the store. */
  cache?: GraphCache;
}

/** The latest graph versions read, the most recent `capacity` of them, by tenant, record id and content. */
export class GraphCache {
  private readonly entries = new Map<string, OntologyGraphRecord>();
  constructor(private readonly capacity = 16) {}
  private static key(tenant: TenantId, head: Pick<OntologyHeadRecord, 'graphId' | 'contentSha256'>): string {
    return `${tenant}\n${head.graphId}\n${head.contentSha256}`;
  }
  get(tenant: TenantId, head: OntologyHeadRecord): OntologyGraphRecord | undefined {
    const key = GraphCache.key(tenant, head);
    const found = this.entries.get(key);
    if (found) {
      this.entries.delete(key);
      this.entries.set(key, found);
    }
    return found;
  }
  set(tenant: TenantId, graph: OntologyGraphRecord): void {
    this.entries.set(GraphCache.key(tenant, { graphId: graph.id, contentSha256: graph.contentSha256 }), graph);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }
}

/** The graph's repositories by the names a tenant's erasure reports them under (all of them go with the tenant). */
export function erasableGraphRepositories(repos: GraphPorts['repos']) {
  return {
    ontologyGraphs: repos.graphs,
    ontologyHeads: repos.heads,
    ontologySources: repos.sources,
    ontologyImports: repos.imports,
    conflictDecisions: repos.decisions,
  };
}

/** Something the caller asked about does not exist (a route answers 404 with the message). */
export class GraphNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GraphNotFoundError';
  }
}

/** A request the graph cannot take as it is (a route answers 422 with the message). */
export class GraphRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GraphRequestError';
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** A record id from parts: joined with ':' when that is a valid id, else a hash of them (ids are at most 128 characters). */
function recordId(...parts: string[]): string {
  const joined = parts.join(':');
  return ID_PATTERN.test(joined) ? joined : `h-${sha256(joined).slice(0, 40)}`;
}

export function decisionRecordId(contextId: string, relationId: string): string {
  return `${recordId(contextId)}:${sha256(relationId).slice(0, 32)}`;
}

const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

// ---------------------------------------------------------------- which documents are current --

/**
 * A framed document version becomes the context's current version of that document (a redelivery
 * of an older version than the one recorded changes nothing). Returns whether anything changed.
 */
export async function recordFramedDocument(
  ports: Pick<GraphPorts, 'repos' | 'cache'>,
  tenant: TenantId,
  data: DocumentFramedV1,
  framedAt: string,
): Promise<{ changed: boolean; source: OntologySourceRecord }> {
  const id = recordId(sourceRecordId(data.contextId, data.documentId));
  const before = await ports.repos.sources.get(tenant, id);
  const version = data.documentVersion ?? (before ? (before.sha256 === data.documentSha256 ? before.version : before.version + 1) : 1);
  if (before && before.version > version) return { changed: false, source: before };
  const source: OntologySourceRecord = {
    id,
    contextId: data.contextId,
    documentId: data.documentId,
    sha256: data.documentSha256,
    version,
    framingUri: data.framingUri ?? null,
    framedAt: before?.sha256 === data.documentSha256 ? before.framedAt : framedAt,
  };
  const changed =
    !before || before.sha256 !== source.sha256 || before.version !== source.version || before.framingUri !== source.framingUri;
  if (changed) await ports.repos.sources.upsert(tenant, source);
  return { changed, source };
}

/**
 * A document was revised. The framer publishes the new version's framed event before the revision,
 * and that event makes the new version current (recordFramedDocument). Consumed on another topic,
 * the revision may come first: the graph then keeps the earlier version whole until the new
 * version's framing arrives (it never passes through a version without the document). Says
 * whether the new version is still awaited, and which version of the document is current.
 */
export async function revisionPending(
  ports: Pick<GraphPorts, 'repos'>,
  tenant: TenantId,
  data: DocumentRevisedV1,
): Promise<{ pending: boolean; currentVersion: number | null }> {
  const current = await ports.repos.sources.get(tenant, recordId(sourceRecordId(data.contextId, data.documentId)));
  return { pending: (current?.version ?? 0) < data.toVersion, currentVersion: current?.version ?? null };
}

// ---------------------------------------------------------------- building versions -----------

export interface RebuildResult {
  /** The context's latest version after the rebuild (null when it has none: no documents yet). */
  graph: OntologyGraphRecord | null;
  /** False when the content was the latest version's already (or there is nothing to build from). */
  created: boolean;
  diff: GraphDiff;
  /** Current documents left out because their framed event named no framing artifact. */
  withoutFraming: string[];
}

const EMPTY_DIFF: GraphDiff = { conceptsAdded: [], conceptsRemoved: [], relationsAdded: [], relationsRemoved: [] };

/** The context's latest stored graph version, or null: its head names it (read from the cache when it was read before). */
export async function latestGraph(
  ports: Pick<GraphPorts, 'repos' | 'cache'>,
  tenant: TenantId,
  contextId: string,
): Promise<OntologyGraphRecord | null> {
  const head = await ports.repos.heads.get(tenant, contextId);
  if (!head) return null;
  const cached = ports.cache?.get(tenant, head);
  if (cached) return cached;
  const graph = await ports.repos.graphs.get(tenant, head.graphId);
  if (graph) ports.cache?.set(tenant, graph);
  return graph;
}

/** The relations with the context's conflict decisions applied (conflictsWith relations without one stay candidates). */
export function applyDecisions(relations: readonly Relation[], decisions: readonly ConflictDecisionRecord[]): Relation[] {
  const status = new Map(decisions.map((d) => [d.relationId, d.status]));
  return relations.map((r) =>
    r.type === 'conflictsWith' ? { ...r, status: (status.get(r.id) ?? r.status ?? 'candidate') as ConflictStatus } : r,
  );
}

async function decisionsOf(
  ports: Pick<GraphPorts, 'repos' | 'cache'>,
  tenant: TenantId,
  contextId: string,
): Promise<ConflictDecisionRecord[]> {
  return ports.repos.decisions.find(tenant, { contextId }, { limit: 100_000 });
}

/** Rebuilds of one context run one after another in this process (two at once would both write the next version). */
const rebuilding = new Map<string, Promise<unknown>>();

/**
 * "Rebuild the context's graph": builds the concepts and relations of all its current documents
 * from their framing artifacts (buildOntology), lays the last SKOS import over them
 * (mergeImported), and stores a new version when the content differs from the latest one, with
 * the curators' conflict decisions applied, and publishes `ontology.graph.updated.v1` with its
 * counts and the diff from the previous version. Idempotent: the same documents and import again
 * store nothing and publish nothing (the event of a version has a deterministic id).
 */
export async function rebuildGraph(ports: GraphPorts, tenant: TenantId, contextId: string, now: Date = new Date()): Promise<RebuildResult> {
  const key = `${tenant}\n${contextId}`;
  const previous = rebuilding.get(key) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() => rebuildNow(ports, tenant, contextId, now));
  rebuilding.set(key, run);
  try {
    return await run;
  } finally {
    if (rebuilding.get(key) === run) rebuilding.delete(key);
  }
}

async function rebuildNow(ports: GraphPorts, tenant: TenantId, contextId: string, now: Date): Promise<RebuildResult> {
  const current = (await ports.repos.sources.find(tenant, { contextId }, { limit: 10_000 })).sort((a, b) =>
    a.documentId < b.documentId ? -1 : a.documentId > b.documentId ? 1 : 0,
  );
  const withoutFraming = current.filter((s) => s.framingUri === null).map((s) => s.documentId);
  const framed = current.filter((s): s is OntologySourceRecord & { framingUri: string } => s.framingUri !== null);
  const sources: OntologySource[] = [];
  const clauses = new Map<string, GraphClause>();
  for (const s of framed) {
    const { tree, statements } = await readFramingArtifact(ports.artifacts, s.framingUri);
    sources.push({ documentId: s.documentId, sha256: s.sha256, version: s.version, tree, statements });
    for (const c of tree.clauses)
      clauses.set(c.id, { id: c.id, documentId: s.documentId, numbering: c.numbering, citation: c.citation ?? null, text: c.text });
  }
  const overlay = await ports.repos.imports.get(tenant, contextId);
  const latest = await latestGraph(ports, tenant, contextId);
  if (sources.length === 0 && !overlay && !latest) return { graph: null, created: false, diff: EMPTY_DIFF, withoutFraming };

  const extracted = buildOntology(sources);
  const built: ExtractedGraph = overlay
    ? mergeImported(extracted, { concepts: overlay.concepts, relations: overlay.relations })
    : extracted;
  const concepts = [...built.concepts].sort(byId);
  const relations = [...built.relations].sort(byId);
  const documents = framed.map((s) => ({ documentId: s.documentId, sha256: s.sha256, version: s.version }));
  const contentSha256 = sha256(canonicalJson({ documents, concepts, relations }));
  if (latest?.contentSha256 === contentSha256) return { graph: latest, created: false, diff: EMPTY_DIFF, withoutFraming };

  const version = (latest?.version ?? 0) + 1;
  const decided = applyDecisions(relations, await decisionsOf(ports, tenant, contextId));
  // The clauses the graph names, so that its routes answer with their numbering and text.
  const named = new Set<string>();
  for (const c of concepts) for (const id of c.clauseIds) named.add(id);
  for (const r of decided) for (const end of [r.from, r.to]) if (clauses.has(end)) named.add(end);
  const record: OntologyGraphRecord = {
    id: recordId(graphRecordId(contextId, version)),
    contextId,
    version,
    documents,
    concepts,
    relations: decided,
    createdAt: now.toISOString(),
    contentSha256,
    clauses: [...named].flatMap((id) => {
      const clause = clauses.get(id);
      return clause ? [clause] : [];
    }),
  };
  const diff = diffGraphs(latest ? { concepts: latest.concepts, relations: latest.relations } : null, { concepts, relations: decided });
  await ports.repos.graphs.upsert(tenant, record);
  // The head last: until it moves, readers see the previous version whole.
  await ports.repos.heads.upsert(tenant, { id: contextId, contextId, version, graphId: record.id, contentSha256 });
  await publishEvent(ports.bus, GRAPH_UPDATED_V1, {
    tenant,
    contextId,
    subject: contextId,
    id: `graph-updated-${sha256(`${contextId}\n${version}\n${contentSha256}`).slice(0, 32)}`,
    ...(ports.eventSource ? { source: ports.eventSource } : {}),
    data: {
      version: 'v1',
      contextId,
      graphVersion: version,
      previousVersion: latest?.version ?? null,
      documents,
      conceptCount: concepts.length,
      relationCount: decided.length,
      relationsByType: relationCounts(decided),
      diff,
    },
  });
  return { graph: record, created: true, diff, withoutFraming };
}

// ---------------------------------------------------------------- reading -----------------------

/** The graph a reader sees: a stored version with the conflict decisions made since applied. */
export async function readGraph(
  ports: Pick<GraphPorts, 'repos' | 'cache'>,
  tenant: TenantId,
  contextId: string,
  version?: number,
): Promise<OntologyGraphRecord> {
  const graph =
    version === undefined
      ? await latestGraph(ports, tenant, contextId)
      : await ports.repos.graphs.get(tenant, recordId(graphRecordId(contextId, version)));
  if (!graph) {
    if (version !== undefined && (await latestGraph(ports, tenant, contextId)))
      throw new GraphNotFoundError(`context "${contextId}" has no ontology version ${version}`);
    throw new GraphNotFoundError(`context "${contextId}" has no ontology yet: frame a document of it first`);
  }
  return { ...graph, relations: applyDecisions(graph.relations, await decisionsOf(ports, tenant, contextId)) };
}

/** The contract's OntologyGraph of a stored version (what `GET …/ontology/versions/{v}` answers). */
export function publicGraph(graph: OntologyGraphRecord): OntologyGraph {
  const { contextId, version, documents, concepts, relations, createdAt } = graph;
  return { contextId, version, documents, concepts, relations, createdAt };
}

export interface GraphSummary {
  version: number;
  createdAt: string;
  documents: OntologyGraph['documents'];
  conceptCount: number;
  relationCount: number;
  conceptsByRole: Record<ConceptRole, number>;
  relationsByType: RelationCounts;
}

export function summarise(graph: OntologyGraphRecord): GraphSummary {
  const conceptsByRole = Object.fromEntries(CONCEPT_ROLES.map((role) => [role, 0])) as Record<ConceptRole, number>;
  for (const c of graph.concepts) for (const role of new Set(c.roles)) conceptsByRole[role] += 1;
  return {
    version: graph.version,
    createdAt: graph.createdAt,
    documents: graph.documents,
    conceptCount: graph.concepts.length,
    relationCount: graph.relations.length,
    conceptsByRole,
    relationsByType: relationCounts(graph.relations),
  };
}

export interface ConceptQuery {
  q?: string | undefined;
  role?: ConceptRole | undefined;
  limit: number;
  offset: number;
}

/** Concepts whose labels, alt labels or definition contain `q` (case-insensitive), of `role`; a page of them in id order. */
export function searchConcepts(graph: OntologyGraphRecord, query: ConceptQuery): { total: number; concepts: Concept[] } {
  const q = query.q?.trim().toLowerCase() ?? '';
  const matching = graph.concepts.filter(
    (c) =>
      (query.role === undefined || c.roles.includes(query.role)) &&
      (q === '' || [c.prefLabel, ...c.altLabels, c.definition?.text ?? ''].some((text) => text.toLowerCase().includes(q))),
  );
  return { total: matching.length, concepts: matching.slice(query.offset, query.offset + query.limit) };
}

export interface ClauseRef {
  clauseId: string;
  numbering: string;
  text: string;
}

function clauseRef(graph: OntologyGraphRecord, clauseId: string): ClauseRef {
  const clause = graph.clauses.find((c) => c.id === clauseId);
  return { clauseId, numbering: clause?.numbering ?? clauseId, text: clause?.text ?? '' };
}

function conceptOf(graph: OntologyGraphRecord, conceptId: string): Concept {
  const concept = graph.concepts.find((c) => c.id === conceptId);
  if (!concept)
    throw new GraphNotFoundError(
      `concept "${conceptId}" not found in the ontology of context "${graph.contextId}" (version ${graph.version})`,
    );
  return concept;
}

export interface ConceptDetail {
  concept: Concept;
  definedBy: ClauseRef[];
  governedBy: Array<{ clauseId: string; numbering: string; citation?: string; statementKind: Relation['statementKind'] }>;
  broader: Concept[];
  narrower: Concept[];
  related: Concept[];
}

/** A concept with the clauses that define and govern it and its broader, narrower (the inverse of broader) and related concepts. */
export function conceptDetail(graph: OntologyGraphRecord, conceptId: string): ConceptDetail {
  const concept = conceptOf(graph, conceptId);
  const concepts = new Map(graph.concepts.map((c) => [c.id, c]));
  const pick = (ids: string[]) => [...new Set(ids)].flatMap((id) => (concepts.has(id) ? [concepts.get(id) as Concept] : []));
  const rel = graph.relations;
  return {
    concept,
    definedBy: rel.filter((r) => r.type === 'defines' && r.to === conceptId).map((r) => clauseRef(graph, r.from)),
    governedBy: rel
      .filter((r) => r.type === 'governs' && r.to === conceptId)
      .map((r) => {
        const clause = graph.clauses.find((c) => c.id === r.from);
        return {
          clauseId: r.from,
          numbering: clause?.numbering ?? r.from,
          ...(clause?.citation ? { citation: clause.citation } : {}),
          statementKind: r.statementKind,
        };
      }),
    broader: pick(rel.filter((r) => r.type === 'broader' && r.from === conceptId).map((r) => r.to)),
    narrower: pick(rel.filter((r) => r.type === 'broader' && r.to === conceptId).map((r) => r.from)),
    related: pick(
      rel
        .filter((r) => r.type === 'related' && (r.from === conceptId || r.to === conceptId))
        .map((r) => (r.from === conceptId ? r.to : r.from)),
    ),
  };
}

export interface Neighbourhood {
  nodes: Array<{ id: string; kind: 'concept' | 'clause'; label: string }>;
  edges: Array<{ id: string; type: Relation['type']; from: string; to: string; statementKind: Relation['statementKind'] }>;
}

/** The concepts and clauses within `depth` relations of a concept (either direction), and the relations between them. */
export function neighbourhood(graph: OntologyGraphRecord, conceptId: string, depth: 1 | 2): Neighbourhood {
  conceptOf(graph, conceptId);
  const reached = new Set([conceptId]);
  let frontier = new Set([conceptId]);
  for (let step = 0; step < depth; step += 1) {
    const next = new Set<string>();
    for (const r of graph.relations) {
      if (frontier.has(r.from) && !reached.has(r.to)) next.add(r.to);
      if (frontier.has(r.to) && !reached.has(r.from)) next.add(r.from);
    }
    for (const id of next) reached.add(id);
    frontier = next;
  }
  const concepts = new Map(graph.concepts.map((c) => [c.id, c]));
  const nodes = [...reached].sort().map((id) => {
    const concept = concepts.get(id);
    if (concept) return { id, kind: 'concept' as const, label: concept.prefLabel };
    const clause = graph.clauses.find((c) => c.id === id);
    return { id, kind: 'clause' as const, label: clause?.citation ?? clause?.numbering ?? id };
  });
  const edges = graph.relations
    .filter((r) => reached.has(r.from) && reached.has(r.to))
    .map((r) => ({ id: r.id, type: r.type, from: r.from, to: r.to, statementKind: r.statementKind }));
  return { nodes, edges };
}

/** The diff between two stored versions (404 naming the version that does not exist). */
export async function diffVersions(
  ports: Pick<GraphPorts, 'repos' | 'cache'>,
  tenant: TenantId,
  contextId: string,
  from: number,
  to: number,
): Promise<GraphDiff> {
  const [a, b] = [await readGraph(ports, tenant, contextId, from), await readGraph(ports, tenant, contextId, to)];
  return diffGraphs({ concepts: a.concepts, relations: a.relations }, { concepts: b.concepts, relations: b.relations });
}

export type ConflictView = Relation & { left: ClauseRef; right: ClauseRef };

/** The conflict candidates of the latest version (with decisions applied), of one status when given. */
export function conflicts(graph: OntologyGraphRecord, status?: ConflictStatus): ConflictView[] {
  return graph.relations
    .filter((r) => r.type === 'conflictsWith' && (status === undefined || r.status === status))
    .map((r) => ({ ...r, left: clauseRef(graph, r.from), right: clauseRef(graph, r.to) }));
}

/**
 * "Confirm or dismiss this conflict candidate": the decision is stored per relation id and applies
 * to every later version of the graph (a rebuild does not undo it). 404 when the latest version has
 * no such relation; 422 when it is not a conflictsWith relation.
 */
export async function decideConflict(
  ports: Pick<GraphPorts, 'repos' | 'cache'>,
  tenant: TenantId,
  input: { contextId: string; relationId: string; decision: 'confirm' | 'dismiss'; reason: string | null; by: string; now?: Date },
): Promise<Relation> {
  const graph = await readGraph(ports, tenant, input.contextId);
  const relation = graph.relations.find((r) => r.id === input.relationId);
  if (!relation)
    throw new GraphNotFoundError(
      `relation "${input.relationId}" not found in the ontology of context "${input.contextId}" (version ${graph.version})`,
    );
  if (relation.type !== 'conflictsWith')
    throw new GraphRequestError(
      `relation "${input.relationId}" is a ${relation.type} relation: only conflictsWith candidates are confirmed or dismissed`,
    );
  const status = input.decision === 'confirm' ? 'confirmed' : 'dismissed';
  await ports.repos.decisions.upsert(tenant, {
    id: decisionRecordId(input.contextId, input.relationId),
    contextId: input.contextId,
    relationId: input.relationId,
    status,
    by: input.by,
    reason: input.reason,
    at: (input.now ?? new Date()).toISOString(),
  });
  return { ...relation, status };
}

// ---------------------------------------------------------------- SKOS in and out ---------------

/** The latest version as SKOS Turtle or JSON-LD (concepts, relations and clause links in the project vocabulary). */
export async function exportGraph(
  ports: Pick<GraphPorts, 'repos' | 'cache'>,
  tenant: TenantId,
  contextId: string,
  format: 'turtle' | 'jsonld',
): Promise<{ contentType: string; body: string | Record<string, unknown> }> {
  const stored = await readGraph(ports, tenant, contextId);
  const graph = publicGraph(stored);
  // The clauses the graph links to, with their numbering, citation and document.
  const clauses = stored.clauses.map((c) => ({
    id: c.id,
    numbering: c.numbering,
    documentId: c.documentId,
    ...(c.citation ? { citation: c.citation } : {}),
  }));
  return format === 'turtle'
    ? { contentType: 'text/turtle; charset=utf-8', body: await toTurtle(graph, { clauses }) }
    : { contentType: 'application/ld+json', body: toJsonLd(graph, { clauses }) };
}

/**
 * "Seed or correct the context's concepts from SKOS": parses the Turtle (GraphRequestError naming
 * the line or term when it is not SKOS the studio reads), keeps it as the context's imported
 * overlay (replacing the previous import) and rebuilds the graph with it laid over the extracted
 * concepts. The same import again makes no new version.
 */
export async function importSkos(
  ports: GraphPorts,
  tenant: TenantId,
  input: { contextId: string; turtle: string; now?: Date },
): Promise<{ version: number; diff: GraphDiff; created: boolean }> {
  let imported: ExtractedGraph;
  try {
    imported = await fromTurtle(input.turtle);
  } catch (error) {
    if (error instanceof SkosImportError) throw new GraphRequestError(`the Turtle could not be imported: ${error.message}`);
    throw error;
  }
  if (imported.concepts.length === 0) throw new GraphRequestError('the Turtle holds no skos:Concept: nothing to import');
  const now = input.now ?? new Date();
  await ports.repos.imports.upsert(tenant, {
    id: input.contextId,
    contextId: input.contextId,
    concepts: imported.concepts,
    relations: imported.relations,
    importedAt: now.toISOString(),
  });
  const rebuilt = await rebuildGraph(ports, tenant, input.contextId, now);
  if (!rebuilt.graph) throw new Error(`context "${input.contextId}": an import was stored but no graph was built`);
  return { version: rebuilt.graph.version, diff: rebuilt.diff, created: rebuilt.created };
}
