import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GRAPH_UPDATED_V1, type CloudEvent, type DocumentFramedV1, type DocumentRevisedV1, type GraphUpdatedV1 } from '@studio/contracts';
import { extractStatements, parseDocument } from '@studio/framing';
import { fromTurtle } from '@studio/ontology';
import { Parser } from 'n3';
import { InMemoryArtifactStore, InProcessEventBus, SqliteStore } from '@studio/inproc';
import { eraseTenantData, framingArtifact } from '@studio/pipeline';
import { tenantId } from '@studio/ports';
import { CONFLICT_DECISIONS, ONTOLOGY_GRAPHS, ONTOLOGY_HEADS, ONTOLOGY_IMPORTS, ONTOLOGY_SOURCES } from './graph-records';
import {
  conceptDetail,
  conflicts,
  decideConflict,
  diffVersions,
  erasableGraphRepositories,
  exportGraph,
  importSkos,
  GraphCache,
  GraphNotFoundError,
  GraphRequestError,
  latestGraph,
  neighbourhood,
  readGraph,
  rebuildGraph,
  recordFramedDocument,
  revisionPending,
  searchConcepts,
  summarise,
  type GraphPorts,
} from './graph-store';

const POLICY = readFileSync(join(__dirname, '../../../../examples/northwind-conduct/policy.md'), 'utf8');
const acme = tenantId('acme');
const globex = tenantId('globex');

/** A small second document whose rules conflict (same actor and action, opposite modality) and define a term. */
const RULES_V1 = `# Travel rules

## 1. Definitions

1.1 "Per diem" means the daily allowance paid to an employee for meals while travelling.

## 2. Rules

2.1 Employees must book flights through the travel desk.

2.2 Employees must not book flights through the travel desk when the trip is urgent.

2.3 Managers may approve a per diem above the standard rate.
`;
const RULES_V2 = RULES_V1.replace(
  '2.3 Managers may approve a per diem above the standard rate.',
  '2.3 Directors may approve upgrades to business class.',
);

describe('the ontology graph of a context, versioned', () => {
  let dir: string;
  let store: SqliteStore;
  let bus: InProcessEventBus;
  let ports: GraphPorts;
  const artifacts = new InMemoryArtifactStore();
  const published: CloudEvent<GraphUpdatedV1>[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ontology-graph-'));
    store = SqliteStore.open(dir, 'ontology');
    bus = new InProcessEventBus();
    bus.subscribe(GRAPH_UPDATED_V1, async (event) => void published.push(event as CloudEvent<GraphUpdatedV1>));
    await bus.start();
    ports = {
      bus,
      eventSource: '/studio/ontology',
      artifacts,
      repos: {
        graphs: store.repository(ONTOLOGY_GRAPHS),
        heads: store.repository(ONTOLOGY_HEADS),
        sources: store.repository(ONTOLOGY_SOURCES),
        imports: store.repository(ONTOLOGY_IMPORTS),
        decisions: store.repository(CONFLICT_DECISIONS),
      },
      // Every case reads through the cache: a new version must still be seen at once.
      cache: new GraphCache(2),
    };
  });
  afterEach(async () => {
    await bus.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
    published.length = 0;
  });

  /** Frames a document as the framer does (tree and statements in the framing artifact) and states its framed event's data. */
  async function framed(documentId: string, text: string, version: number, withArtifact = true): Promise<DocumentFramedV1> {
    const tree = parseDocument(text, { documentId, mediaType: 'text/markdown' });
    const statements = extractStatements(tree);
    const sha = tree.sha256;
    const file = await artifacts.put(`tenants/acme/documents/${documentId}/${sha}.framing.json`, framingArtifact(tree, statements));
    return {
      version: 'v1',
      contextId: 'ctx',
      documentId,
      documentSha256: sha,
      documentVersion: version,
      clauseCount: tree.clauses.length,
      statementCount: statements.length,
      statementsByKind: { obligation: 0, prohibition: 0, permission: 0, exception: 0, definition: 0 },
      clauseIds: tree.clauses.map((c) => c.id),
      clausesUri: 'unused',
      ...(withArtifact ? { framingUri: file.uri } : {}),
    };
  }

  async function frame(data: DocumentFramedV1) {
    await recordFramedDocument(ports, acme, data, '2026-01-01T00:00:00.000Z');
    const result = await rebuildGraph(ports, acme, 'ctx');
    await bus.idle();
    return result;
  }

  it('builds the example policy into a graph with concepts and relations, stores it as version 1 and publishes its real counts', async () => {
    const result = await frame(await framed('northwind', POLICY, 1));
    expect(result.created).toBe(true);
    const graph = await readGraph(ports, acme, 'ctx');
    expect(graph.version).toBe(1);
    expect(graph.concepts.length).toBeGreaterThan(10);
    expect(graph.relations.length).toBeGreaterThan(10);
    const summary = summarise(graph);
    expect(summary.relationsByType['governs']).toBeGreaterThan(0);
    expect(summary.conceptsByRole.actor).toBeGreaterThan(0);
    expect(published).toHaveLength(1);
    const event = published[0]?.data as GraphUpdatedV1;
    expect(event).toEqual(
      expect.objectContaining({
        graphVersion: 1,
        previousVersion: null,
        conceptCount: graph.concepts.length,
        relationCount: graph.relations.length,
        relationsByType: summary.relationsByType,
      }),
    );
    expect(event.diff.conceptsAdded).toHaveLength(graph.concepts.length);
    expect(event.documents).toEqual([{ documentId: 'northwind', sha256: expect.any(String), version: 1 }]);
    // Every clause a relation or concept names is there to answer with.
    const governs = graph.relations.find((r) => r.type === 'governs');
    expect(graph.clauses.map((c) => c.id)).toContain(governs?.from);
  });

  it('the same framing again makes no new version and publishes nothing', async () => {
    const data = await framed('northwind', POLICY, 1);
    await frame(data);
    const again = await frame(data);
    expect(again.created).toBe(false);
    expect(await ports.repos.graphs.count(acme)).toBe(1);
    expect(published).toHaveLength(1);
  });

  it('two documents framed at once make two versions, the second with both documents', async () => {
    await recordFramedDocument(ports, acme, await framed('travel', RULES_V1, 1), '2026-01-01T00:00:00.000Z');
    const first = rebuildGraph(ports, acme, 'ctx');
    await recordFramedDocument(ports, acme, await framed('northwind', POLICY, 1), '2026-01-01T00:00:00.000Z');
    const second = rebuildGraph(ports, acme, 'ctx');
    await Promise.all([first, second]);
    const graph = await readGraph(ports, acme, 'ctx');
    expect(graph.documents.map((d) => d.documentId)).toEqual(['northwind', 'travel']);
    expect(await ports.repos.graphs.count(acme)).toBe(graph.version);
  });

  it('a revision replaces the earlier version of the document; the new version carries the diff', async () => {
    await frame(await framed('northwind', POLICY, 1));
    await frame(await framed('travel', RULES_V1, 1));
    const before = await readGraph(ports, acme, 'ctx');
    expect(before.version).toBe(2);
    expect(before.documents.map((d) => d.documentId)).toEqual(['northwind', 'travel']);
    const v2 = await framed('travel', RULES_V2, 2);
    const result = await frame(v2);
    expect(result.created).toBe(true);
    const after = await readGraph(ports, acme, 'ctx');
    expect(after.version).toBe(3);
    expect(after.documents.find((d) => d.documentId === 'travel')).toEqual({ documentId: 'travel', sha256: v2.documentSha256, version: 2 });
    const diff = await diffVersions(ports, acme, 'ctx', 2, 3);
    expect(diff.relationsAdded.length + diff.relationsRemoved.length).toBeGreaterThan(0);
    expect(published.at(-1)?.data.diff).toEqual(diff);
    expect(published.at(-1)?.data.previousVersion).toBe(2);
    // A late redelivery of version 1's framed event changes nothing.
    expect((await recordFramedDocument(ports, acme, await framed('travel', RULES_V1, 1), '2026-01-01T00:00:00.000Z')).changed).toBe(false);
    // The revision event after the new version's framed event has nothing left to do.
    const revised: DocumentRevisedV1 = {
      version: 'v1',
      contextId: 'ctx',
      documentId: 'travel',
      fromVersion: 1,
      toVersion: 2,
      fromSha256: before.documents[1]?.sha256 as string,
      toSha256: v2.documentSha256,
      summary: { unchanged: 3, moved: 0, changed: 1, added: 0, removed: 0 },
      staleClauseIds: [],
      addedClauseIds: [],
      staleDatasetVersions: [],
    };
    expect(await revisionPending(ports, acme, revised)).toEqual({ pending: false, currentVersion: 2 });
  });

  it('a revision that arrives before the new version is framed keeps the earlier version until the framed event brings the new one', async () => {
    const v1 = await framed('travel', RULES_V1, 1);
    await frame(v1);
    const v2 = await framed('travel', RULES_V2, 2);
    const revised: DocumentRevisedV1 = {
      version: 'v1',
      contextId: 'ctx',
      documentId: 'travel',
      fromVersion: 1,
      toVersion: 2,
      fromSha256: v1.documentSha256,
      toSha256: v2.documentSha256,
      summary: { unchanged: 3, moved: 0, changed: 1, added: 0, removed: 0 },
      staleClauseIds: [],
      addedClauseIds: [],
      staleDatasetVersions: [],
    };
    expect(await revisionPending(ports, acme, revised)).toEqual({ pending: true, currentVersion: 1 });
    expect((await rebuildGraph(ports, acme, 'ctx')).created).toBe(false);
    expect((await readGraph(ports, acme, 'ctx')).documents).toEqual([{ documentId: 'travel', sha256: v1.documentSha256, version: 1 }]);
    await frame(v2);
    const graph = await readGraph(ports, acme, 'ctx');
    expect(graph.version).toBe(2);
    expect(graph.documents).toEqual([{ documentId: 'travel', sha256: v2.documentSha256, version: 2 }]);
    expect(graph.concepts.length).toBeGreaterThan(0);
  });

  it('leaves out a document whose framed event names no framing artifact, and says so', async () => {
    const result = await frame(await framed('old', RULES_V1, 1, false));
    expect(result.withoutFraming).toEqual(['old']);
    expect(result.graph).toBeNull();
    await expect(readGraph(ports, acme, 'ctx')).rejects.toThrow(/context "ctx" has no ontology yet/);
  });

  it('answers concept search, a concept with its clauses, and its neighbourhood', async () => {
    await frame(await framed('northwind', POLICY, 1));
    const graph = await readGraph(ports, acme, 'ctx');
    // A defined term of the policy: found by a word of its definition, in any case.
    const term = graph.concepts.find((c) => c.definition !== null && c.definition.text.split(' ').length > 3);
    expect(term).toBeDefined();
    const word = (term?.definition?.text.split(/\W+/).filter((w) => w.length > 5)[0] ?? '').toUpperCase();
    const found = searchConcepts(graph, { q: word, limit: 1000, offset: 0 });
    expect(found.concepts.map((c) => c.id)).toContain(term?.id);
    expect(found.total).toBe(found.concepts.length);
    const detail = conceptDetail(graph, term?.id as string);
    expect(detail.definedBy).toEqual([expect.objectContaining({ clauseId: term?.definition?.clauseId })]);
    expect(detail.definedBy[0]?.text.length).toBeGreaterThan(0);
    expect(detail.definedBy[0]?.numbering).not.toBe(detail.definedBy[0]?.clauseId);
    const actors = searchConcepts(graph, { role: 'actor', limit: 1000, offset: 0 });
    expect(actors.total).toBeGreaterThan(0);
    expect(actors.concepts.every((c) => c.roles.includes('actor'))).toBe(true);
    expect(searchConcepts(graph, { limit: 2, offset: 1 }).concepts.map((c) => c.id)).toEqual(graph.concepts.slice(1, 3).map((c) => c.id));
    // A concept that others are narrower than lists them, the inverse of the stored broader.
    const broader = graph.relations.find((r) => r.type === 'broader');
    expect(conceptDetail(graph, broader?.to as string).narrower.map((c) => c.id)).toContain(broader?.from);
    expect(conceptDetail(graph, broader?.from as string).broader.map((c) => c.id)).toContain(broader?.to);
    const near = neighbourhood(graph, term?.id as string, 1);
    expect(near.nodes).toEqual(expect.arrayContaining([{ id: term?.id, kind: 'concept', label: term?.prefLabel }]));
    expect(near.nodes.some((n) => n.kind === 'clause' && n.id === term?.definition?.clauseId)).toBe(true);
    expect(near.edges.every((e) => near.nodes.some((n) => n.id === e.from) && near.nodes.some((n) => n.id === e.to))).toBe(true);
    expect(neighbourhood(graph, term?.id as string, 2).nodes.length).toBeGreaterThan(near.nodes.length);
    expect(() => conceptDetail(graph, 'c-nothing-such')).toThrow(GraphNotFoundError);
    expect(() => conceptDetail(graph, 'c-nothing-such')).toThrow(/concept "c-nothing-such" not found in the ontology of context "ctx"/);
  });

  it('keeps a curator’s conflict decision across rebuilds, refuses other relations and unknown ones', async () => {
    await frame(await framed('travel', RULES_V1, 1));
    const candidates = conflicts(await readGraph(ports, acme, 'ctx'), 'candidate');
    expect(candidates.length).toBeGreaterThan(0);
    const candidate = candidates[0];
    expect(candidate?.left.numbering).toBeDefined();
    expect(candidate?.right.text.length).toBeGreaterThan(0);
    const decided = await decideConflict(ports, acme, {
      contextId: 'ctx',
      relationId: candidate?.id as string,
      decision: 'dismiss',
      reason: 'urgent trips are the exception',
      by: 'key:k1',
    });
    expect(decided.status).toBe('dismissed');
    expect(conflicts(await readGraph(ports, acme, 'ctx'), 'dismissed').map((c) => c.id)).toEqual([candidate?.id]);
    // Another document makes a new version: the decision still holds.
    await frame(await framed('northwind', POLICY, 1));
    const rebuilt = await readGraph(ports, acme, 'ctx');
    expect(rebuilt.version).toBe(2);
    expect(rebuilt.relations.find((r) => r.id === candidate?.id)?.status).toBe('dismissed');
    const governs = rebuilt.relations.find((r) => r.type === 'governs');
    await expect(
      decideConflict(ports, acme, { contextId: 'ctx', relationId: governs?.id as string, decision: 'confirm', reason: null, by: 'x' }),
    ).rejects.toThrow(GraphRequestError);
    await expect(
      decideConflict(ports, acme, { contextId: 'ctx', relationId: 'conflictsWith:a>b', decision: 'confirm', reason: null, by: 'x' }),
    ).rejects.toThrow(/relation "conflictsWith:a>b" not found/);
  });

  it('exports SKOS Turtle that n3 parses and the importer reads back as the same concepts, and JSON-LD', async () => {
    await frame(await framed('northwind', POLICY, 1));
    const graph = await readGraph(ports, acme, 'ctx');
    const turtle = await exportGraph(ports, acme, 'ctx', 'turtle');
    expect(turtle.contentType).toMatch(/^text\/turtle/);
    const quads = new Parser().parse(turtle.body as string);
    expect(quads.some((q) => q.predicate.value === 'http://www.w3.org/2004/02/skos/core#prefLabel')).toBe(true);
    const back = await fromTurtle(turtle.body as string);
    expect(back.concepts.map((c) => c.id)).toEqual(graph.concepts.map((c) => c.id));
    expect(back.relations.map((r) => r.id).sort()).toEqual(graph.relations.map((r) => r.id).sort());
    const jsonld = await exportGraph(ports, acme, 'ctx', 'jsonld');
    expect(jsonld.contentType).toBe('application/ld+json');
    expect((jsonld.body as { '@graph': unknown[] })['@graph'].length).toBeGreaterThan(graph.concepts.length);
  });

  it('lays an accepted SKOS import over every later build; the same import again makes no version; bad Turtle names the problem', async () => {
    await frame(await framed('travel', RULES_V1, 1));
    const before = await readGraph(ports, acme, 'ctx');
    const turtle = `@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ex: <https://example.org/vocab#> .
ex:allowance a skos:Concept ; skos:prefLabel "travel allowance"@en ; skos:altLabel "per diem"@en ;
  skos:definition "Money paid per day of travel."@en .
`;
    const imported = await importSkos(ports, acme, { contextId: 'ctx', turtle });
    await bus.idle();
    expect(imported.created).toBe(true);
    expect(imported.version).toBe(before.version + 1);
    expect(imported.diff.conceptsAdded).toEqual(['c-travel-allowance']);
    const concept = conceptDetail(await readGraph(ports, acme, 'ctx'), 'c-travel-allowance').concept;
    expect(concept).toEqual(expect.objectContaining({ origin: 'imported', altLabels: ['per diem'] }));
    expect(published.at(-1)?.data).toEqual(expect.objectContaining({ graphVersion: imported.version, previousVersion: before.version }));
    expect((await importSkos(ports, acme, { contextId: 'ctx', turtle })).created).toBe(false);
    // A revision of the document rebuilds the graph: the imported concept stays.
    await frame(await framed('travel', RULES_V2, 2));
    const rebuilt = await readGraph(ports, acme, 'ctx');
    expect(rebuilt.version).toBe(imported.version + 1);
    expect(rebuilt.concepts.map((c) => c.id)).toContain('c-travel-allowance');
    await expect(importSkos(ports, acme, { contextId: 'ctx', turtle: 'ex:a a skos:Concept' })).rejects.toThrow(GraphRequestError);
    await expect(importSkos(ports, acme, { contextId: 'ctx', turtle: '@prefix ex: <https://e/> .\nex:a ex:b "c" .' })).rejects.toThrow(
      /the Turtle could not be imported: .*concept/i,
    );
    expect(await latestGraph(ports, acme, 'ctx')).toEqual(expect.objectContaining({ version: rebuilt.version }));
  });

  it("goes with the tenant's data: graphs, sources, imports and decisions; another tenant's stay", async () => {
    await frame(await framed('travel', RULES_V1, 1));
    const [candidate] = conflicts(await readGraph(ports, acme, 'ctx'), 'candidate');
    await decideConflict(ports, acme, {
      contextId: 'ctx',
      relationId: candidate?.id as string,
      decision: 'confirm',
      reason: null,
      by: 'k',
    });
    await recordFramedDocument(ports, globex, await framed('travel', RULES_V1, 1), '2026-01-01T00:00:00.000Z');
    await rebuildGraph(ports, globex, 'ctx');
    const erased = await eraseTenantData({ repos: erasableGraphRepositories(ports.repos) }, acme);
    expect(erased.records).toEqual({ ontologyGraphs: 1, ontologyHeads: 1, ontologySources: 1, ontologyImports: 0, conflictDecisions: 1 });
    await expect(readGraph(ports, acme, 'ctx')).rejects.toThrow(GraphNotFoundError);
    expect((await readGraph(ports, globex, 'ctx')).version).toBe(1);
  });

  it('is confined to the tenant', async () => {
    await frame(await framed('travel', RULES_V1, 1));
    expect(await latestGraph(ports, globex, 'ctx')).toBeNull();
    await expect(readGraph(ports, globex, 'ctx')).rejects.toThrow(GraphNotFoundError);
    await expect(readGraph(ports, acme, 'ctx', 7)).rejects.toThrow(/context "ctx" has no ontology version 7/);
  });
});
