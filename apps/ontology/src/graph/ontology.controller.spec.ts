import { DatabaseSync } from 'node:sqlite';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { extractStatements, parseDocument } from '@studio/framing';
import { InMemoryArtifactStore, InProcessEventBus, SqliteRepository } from '@studio/inproc';
import { framingArtifact } from '@studio/pipeline';
import { tenantId } from '@studio/ports';
import { Parser } from 'n3';
import { GRAPH_PORTS } from '../ontology.ports';
import { CONFLICT_DECISIONS, ONTOLOGY_GRAPHS, ONTOLOGY_HEADS, ONTOLOGY_IMPORTS, ONTOLOGY_SOURCES } from './graph-records';
import { rebuildGraph, recordFramedDocument, type GraphPorts } from './graph-store';
import { OntologyController } from './ontology.controller';

const RULES = `# Travel rules

## 1. Definitions

1.1 "Travel desk" means the team that books trips for employees.

## 2. Rules

2.1 Employees must book flights through the travel desk.

2.2 Employees must not book flights through the travel desk when the trip is urgent.

2.3 Managers may approve business class for flights over eight hours.
`;

/** The ontology service's routes over its real graph store, as the gateway calls them (tenant in x-tenant-id). */
describe("the ontology service's routes", () => {
  const db = new DatabaseSync(':memory:');
  const artifacts = new InMemoryArtifactStore();
  const bus = new InProcessEventBus();
  const ports: GraphPorts = {
    bus,
    eventSource: '/studio/ontology',
    artifacts,
    repos: {
      graphs: new SqliteRepository(db, ONTOLOGY_GRAPHS),
      heads: new SqliteRepository(db, ONTOLOGY_HEADS),
      sources: new SqliteRepository(db, ONTOLOGY_SOURCES),
      imports: new SqliteRepository(db, ONTOLOGY_IMPORTS),
      decisions: new SqliteRepository(db, CONFLICT_DECISIONS),
    },
  };
  let app: INestApplication;
  let base = '';

  beforeAll(async () => {
    await bus.start();
    const moduleRef = await Test.createTestingModule({
      controllers: [OntologyController],
      providers: [{ provide: GRAPH_PORTS, useValue: ports }],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    base = `${await app.getUrl()}/v1/contexts/travel/ontology`;
    const tree = parseDocument(RULES, { documentId: 'rules', mediaType: 'text/markdown' });
    const file = await artifacts.put('tenants/acme/documents/rules/x.framing.json', framingArtifact(tree, extractStatements(tree)));
    const acme = tenantId('acme');
    await recordFramedDocument(
      ports,
      acme,
      {
        version: 'v1',
        contextId: 'travel',
        documentId: 'rules',
        documentSha256: tree.sha256,
        documentVersion: 1,
        clauseCount: tree.clauses.length,
        statementCount: 4,
        statementsByKind: { obligation: 1, prohibition: 1, permission: 1, exception: 0, definition: 1 },
        clauseIds: tree.clauses.map((c) => c.id),
        clausesUri: 'unused',
        framingUri: file.uri,
      },
      '2026-12-01T00:00:00.000Z',
    );
    await rebuildGraph(ports, acme, 'travel');
  });
  afterAll(async () => {
    await app?.close();
    await bus.stop();
  });

  const call = async (method: string, path: string, tenant = 'acme', body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'x-tenant-id': tenant, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return {
      status: res.status,
      type: res.headers.get('content-type') ?? '',
      text,
      json: () => JSON.parse(text) as Record<string, unknown>,
    };
  };

  it('answers the summary with real counts for the tenant, and 404 naming the context for another tenant or context', async () => {
    const summary = await call('GET', '');
    expect(summary.status).toBe(200);
    const body = summary.json() as {
      version: number;
      conceptCount: number;
      relationCount: number;
      relationsByType: Record<string, number>;
    };
    expect(body.version).toBe(1);
    expect(body.conceptCount).toBeGreaterThan(0);
    expect(body.relationCount).toBe(Object.values(body.relationsByType).reduce((a, b) => a + b, 0));
    const other = await call('GET', '', 'globex');
    expect(other.status).toBe(404);
    expect(other.text).toContain('context \\"travel\\" has no ontology yet');
    expect((await call('GET', '/concepts', 'globex')).status).toBe(404);
    expect((await fetch(`${base}`.replace('/travel/', '/nowhere/'), { headers: { 'x-tenant-id': 'acme' } })).status).toBe(404);
    expect((await fetch(base)).status).toBe(400);
  });

  it('searches concepts, shows one with its clauses, draws its neighbourhood, and names a missing one', async () => {
    const found = (await call('GET', '/concepts?q=FLIGHT&limit=100')).json() as { total: number; concepts: Array<{ id: string }> };
    expect(found.total).toBeGreaterThan(0);
    const id = found.concepts[0]?.id as string;
    const detail = (await call('GET', `/concepts/${id}`)).json() as { concept: { id: string }; governedBy: Array<{ numbering: string }> };
    expect(detail.concept.id).toBe(id);
    expect(detail.governedBy.length).toBeGreaterThan(0);
    const near = (await call('GET', `/concepts/${id}/neighbourhood?depth=2`)).json() as { nodes: unknown[]; edges: unknown[] };
    expect(near.nodes.length).toBeGreaterThan(1);
    expect(near.edges.length).toBeGreaterThan(0);
    const missing = await call('GET', '/concepts/c-unicorn');
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('concept \\"c-unicorn\\" not found');
    expect((await call('GET', '/concepts?limit=0')).status).toBe(400);
    expect((await call('GET', '/concepts?role=verb')).status).toBe(400);
  });

  it('serves a version, refuses a diff without an earlier version (422) and a missing version (404)', async () => {
    const v1 = (await call('GET', '/versions/1')).json();
    expect(Object.keys(v1).sort()).toEqual(['concepts', 'contextId', 'createdAt', 'documents', 'relations', 'version']);
    const first = await call('GET', '/diff');
    expect(first.status).toBe(422);
    expect(first.text).toContain('version 1 is the first');
    expect((await call('GET', '/versions/9')).status).toBe(404);
    expect((await call('GET', '/diff?from=1&to=9')).text).toContain('has no ontology version 9');
  });

  it('lists conflict candidates with both clauses and takes a decision; 422 for a relation that is not a conflict', async () => {
    const list = (await call('GET', '/conflicts?status=candidate')).json() as {
      conflicts: Array<{ id: string; left: { numbering: string }; right: { numbering: string } }>;
    };
    expect(list.conflicts.length).toBeGreaterThan(0);
    const conflict = list.conflicts[0];
    expect([conflict?.left.numbering, conflict?.right.numbering].sort()).toEqual(['2.1', '2.2']);
    const decided = await call('POST', `/conflicts/${encodeURIComponent(conflict?.id as string)}`, 'acme', {
      decision: 'confirm',
      reason: 'they contradict',
      by: 'key:k1',
    });
    expect(decided.status).toBe(200);
    expect(decided.json()).toMatchObject({ id: conflict?.id, status: 'confirmed' });
    expect((await call('GET', '/conflicts?status=confirmed')).json()).toMatchObject({ conflicts: [{ id: conflict?.id }] });
    const version = (await call('GET', '/versions/1')).json() as { relations: Array<{ id: string; type: string }> };
    const governs = version.relations.find((r) => r.type === 'governs');
    const refused = await call('POST', `/conflicts/${encodeURIComponent(governs?.id as string)}`, 'acme', { decision: 'confirm' });
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('only conflictsWith candidates');
    expect((await call('POST', `/conflicts/${encodeURIComponent(conflict?.id as string)}`, 'globex', { decision: 'dismiss' })).status).toBe(
      404,
    );
  });

  it('exports Turtle n3 parses and JSON-LD; imports Turtle, and answers 422 naming the problem with bad Turtle', async () => {
    const turtle = await call('GET', '/export');
    expect(turtle.type).toMatch(/^text\/turtle/);
    expect(new Parser().parse(turtle.text).length).toBeGreaterThan(10);
    const jsonld = await call('GET', '/export?format=jsonld');
    expect(jsonld.type).toMatch(/^application\/ld\+json/);
    expect(jsonld.json()['@graph']).toBeDefined();
    const imported = await call('POST', '/import', 'acme', {
      turtle:
        '@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n<https://example.org/c/lounge> a skos:Concept ; skos:prefLabel "airport lounge"@en .\n',
    });
    expect(imported.status).toBe(200);
    expect(imported.json()).toMatchObject({ version: 2, diff: { conceptsAdded: ['c-airport-lounge'] } });
    const bad = await call('POST', '/import', 'acme', {
      turtle: '@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n<a> a skos:Concept ;;; .',
    });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('the Turtle could not be imported');
    expect((await call('POST', '/import', 'acme', { turtle: '' })).status).toBe(400);
  });
});
