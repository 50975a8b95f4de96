import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { CLAUSES_INDEXED_V1, DOCUMENT_FRAMED_V1, GRAPH_UPDATED_V1, type GraphUpdatedV1, type OntologyGraph } from '@studio/contracts';
import { describeWithServers, uniqueName } from '@studio/testing';
import { Parser } from 'n3';
import { freePort, WORKSPACE_ROOT } from './harness/service-process';
import { Stack, type Json } from './harness/stack';

/**
 * The ontology of the example context through the running gateway, framer and ontology service
 * (Kafka, MongoDB): the example policy is framed, the ontology service builds its graph from the
 * framing artifact and stores it, and `ontology.graph.updated.v1` carries the stored graph's real
 * counts. Fails when the example's graph is empty. A revision of the policy makes version 2 with
 * a diff; the routes answer the tenant and 404 another tenant. Embeddings (the clause index the
 * same events feed) come from a small deterministic stand-in here.
 */
const POLICY = readFileSync(join(WORKSPACE_ROOT, 'examples/northwind-conduct/policy.md'), 'utf8');
const TENANT = 'acme';
const OTHER = 'globex';
const NOWHERE = 'http://127.0.0.1:47';

/** The size of all-minilm-l6-v2's vectors: the shared Qdrant's `clauses` collection has it. */
const DIMENSIONS = 384;

/** An OpenAI-compatible embeddings endpoint: a vector from a hash of each input's words. */
function embeddingServer(): Server {
  const vector = (text: string) => {
    const v = new Array<number>(DIMENSIONS).fill(0.01);
    for (const word of text.toLowerCase().split(/\W+/).filter(Boolean)) {
      const slot = createHash('sha1').update(word).digest().readUInt16BE(0) % DIMENSIONS;
      v[slot] = (v[slot] ?? 0) + 1;
    }
    return v;
  };
  return createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST' && req.url?.endsWith('/embeddings')) {
        const { input } = JSON.parse(body) as { input: string[] };
        res.end(JSON.stringify({ data: input.map((text, index) => ({ index, embedding: vector(text) })) }));
      } else res.end(JSON.stringify({ data: [{ id: 'all-minilm-l6-v2' }] }));
    });
  });
}

describeWithServers(['KAFKA_BROKERS', 'MONGO_URL', 'REDIS_URL', 'QDRANT_URL'], 'the ontology of the example context', (urls) => {
  const contextId = uniqueName('ontology');
  const ctx = `/v1/contexts/${contextId}`;
  let stack: Stack;
  let embeddings: Server;
  let first: GraphUpdatedV1;

  const call = (method: string, path: string, body?: unknown, as?: { tenant: string; role: 'viewer' | 'curator' | 'admin' }) =>
    stack.call(method, path, body, 'gateway', {}, as);
  const viewer = { tenant: TENANT, role: 'viewer' as const };
  const graphUpdate = async (version: number): Promise<GraphUpdatedV1> =>
    (
      await stack.waitForEvent(
        GRAPH_UPDATED_V1,
        `${contextId} v${version}`,
        (e) => e.data['contextId'] === contextId && e.data['graphVersion'] === version,
        120_000,
      )
    ).data as unknown as GraphUpdatedV1;

  beforeAll(async () => {
    embeddings = embeddingServer();
    const port = await freePort();
    await new Promise<void>((resolve) => embeddings.listen(port, '127.0.0.1', resolve));
    stack = await Stack.start({
      servers: urls,
      services: ['gateway', 'framer', 'ontology'],
      runtimes: [],
      tenant: TENANT,
      prefix: 'onto',
      env: (name): Record<string, string> =>
        name === 'gateway'
          ? { INSTRUCTOR_URL: NOWHERE, AUDITOR_URL: NOWHERE }
          : name === 'ontology'
            ? { LLM_BASE_URL: `http://127.0.0.1:${port}/v1`, LLM_API_KEY: 'unused' }
            : {},
    });
    expect((await call('POST', '/v1/contexts', { id: contextId, name: 'Northwind conduct (ontology)' })).status).toBe(201);
    const uploaded = await call('POST', `${ctx}/documents`, { filename: 'policy.md', mediaType: 'text/markdown', content: POLICY });
    expect(uploaded.status).toBe(202);
    const framed = await stack.waitForEvent(DOCUMENT_FRAMED_V1, contextId, (e) => e.data['contextId'] === contextId, 120_000);
    expect(framed.data['framingUri']).toEqual(expect.stringMatching(/\.framing\.json$/));
    first = await graphUpdate(1);
  }, 300_000);

  afterAll(async () => {
    await stack?.stop();
    await new Promise((resolve) => embeddings?.close(resolve));
  }, 60_000);

  it('builds a graph of the example policy that is not empty, and the event carries the stored graph’s counts', async () => {
    const summary = await call('GET', `${ctx}/ontology`, undefined, viewer);
    expect(summary.status).toBe(200);
    const stored = (await call('GET', `${ctx}/ontology/versions/1`, undefined, viewer)).body as unknown as OntologyGraph;
    console.log(
      `example context ontology: ${stored.concepts.length} concepts ${JSON.stringify(summary.body['conceptsByRole'])}, ${stored.relations.length} relations ${JSON.stringify(summary.body['relationsByType'])}`,
    );
    expect(stored.concepts.length).toBeGreaterThan(50);
    expect(stored.relations.length).toBeGreaterThan(50);
    const byType = summary.body['relationsByType'] as Record<string, number>;
    for (const type of ['broader', 'defines', 'governs']) expect(byType[type]).toBeGreaterThan(0);
    expect(first.conceptCount).toBe(stored.concepts.length);
    expect(first.relationCount).toBe(stored.relations.length);
    expect(first.relationsByType).toEqual(byType);
    expect(summary.body).toMatchObject({ version: 1, conceptCount: stored.concepts.length, relationCount: stored.relations.length });
    expect(first.diff.conceptsAdded.sort()).toEqual(stored.concepts.map((c) => c.id).sort());
  });

  it('answers concepts, one concept with its clauses and its neighbourhood to a viewer of the tenant', async () => {
    const defined = (await call('GET', `${ctx}/ontology/concepts?role=term&limit=1000`, undefined, viewer)).body as {
      total: number;
      concepts: Array<{ id: string; prefLabel: string; definition: { text: string } | null }>;
    };
    expect(defined.total).toBeGreaterThan(0);
    const term = defined.concepts.find((c) => c.definition !== null);
    expect(term).toBeDefined();
    const search = await call(
      'GET',
      `${ctx}/ontology/concepts?q=${encodeURIComponent(term?.prefLabel.toUpperCase() ?? '')}`,
      undefined,
      viewer,
    );
    expect((search.body['concepts'] as Array<{ id: string }>).map((c) => c.id)).toContain(term?.id);
    const detail = await call('GET', `${ctx}/ontology/concepts/${term?.id}`, undefined, viewer);
    expect(detail.status).toBe(200);
    expect((detail.body['definedBy'] as Array<{ text: string }>)[0]?.text.length).toBeGreaterThan(0);
    const near = await call('GET', `${ctx}/ontology/concepts/${term?.id}/neighbourhood?depth=2`, undefined, viewer);
    expect((near.body['nodes'] as unknown[]).length).toBeGreaterThan(1);
    const missing = await call('GET', `${ctx}/ontology/concepts/c-no-such-concept`, undefined, viewer);
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('c-no-such-concept');
  });

  it('exports SKOS Turtle that an RDF library parses', async () => {
    const exported = await call('GET', `${ctx}/ontology/export?format=turtle`, undefined, viewer);
    expect(exported.status).toBe(200);
    expect(exported.type).toMatch(/^text\/turtle/);
    const quads = new Parser().parse(exported.text);
    const concepts = quads.filter(
      (q) =>
        q.predicate.value === 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type' &&
        q.object.value === 'http://www.w3.org/2004/02/skos/core#Concept',
    );
    expect(concepts.length).toBe(first.conceptCount);
  });

  it('answers 404 to another tenant on every ontology route, and refuses a viewer a conflict decision', async () => {
    const other = { tenant: OTHER, role: 'admin' as const };
    for (const path of ['', '/concepts', '/versions/1', '/conflicts', '/export']) {
      const answer = await call('GET', `${ctx}/ontology${path}`, undefined, other);
      expect({ path, status: answer.status }).toEqual({ path, status: 404 });
    }
    expect((await call('GET', `${ctx}/ontology`, undefined, other)).text).toContain(`context \\"${contextId}\\" has no ontology yet`);
    expect((await call('POST', `${ctx}/ontology/conflicts/x`, { decision: 'confirm' }, viewer)).status).toBe(403);
  });

  it('retrieval takes the latest graph: the concept a question names expands it and its defining clause is boosted', async () => {
    await stack.waitForEvent(CLAUSES_INDEXED_V1, contextId, (e) => e.data['contextId'] === contextId, 120_000);
    const terms = (await call('GET', `${ctx}/ontology/concepts?role=term&limit=1000`, undefined, viewer)).body as {
      concepts: Array<{ id: string; prefLabel: string; definition: { clauseId: string } | null }>;
    };
    const term = terms.concepts.find((c) => c.definition !== null);
    const question = `What does ${term?.prefLabel} mean?`;
    const retrieve = (ontology?: boolean) =>
      stack.call('POST', `${ctx}/retrieve`, { question, k: 3, ...(ontology === undefined ? {} : { ontology }) }, 'ontology');
    const withGraph = await retrieve();
    expect(withGraph.status).toBe(200);
    const use = withGraph.body['ontology'] as { conceptIds: string[]; boostedClauseIds: string[] };
    expect(use.conceptIds).toContain(term?.id);
    expect(use.boostedClauseIds).toContain(term?.definition?.clauseId);
    expect(withGraph.headers.get('server-timing')).toMatch(/^graph;dur=/);
    const plain = await retrieve(false);
    expect(plain.body['ontology']).toBeNull();
    expect((plain.body['clauses'] as unknown[]).length).toBe(3);
  }, 180_000);

  let dismissed = '';
  it('lists conflict candidates with both clauses; a curator dismisses one', async () => {
    const candidates = await call('GET', `${ctx}/ontology/conflicts?status=candidate`, undefined, viewer);
    const list = candidates.body['conflicts'] as Array<{ id: string; left: { numbering: string }; right: { numbering: string } }>;
    expect(list.length).toBe(first.relationsByType['conflictsWith']);
    expect(list.length).toBeGreaterThan(0);
    dismissed = list[0]?.id as string;
    const decided = await call(
      'POST',
      `${ctx}/ontology/conflicts/${encodeURIComponent(dismissed)}`,
      { decision: 'dismiss', reason: 'the two clauses cover different cases' },
      { tenant: TENANT, role: 'curator' },
    );
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({ id: dismissed, type: 'conflictsWith', status: 'dismissed' });
    const listed = await call('GET', `${ctx}/ontology/conflicts?status=dismissed`, undefined, viewer);
    expect((listed.body['conflicts'] as Array<{ id: string }>).map((c) => c.id)).toEqual([dismissed]);
  });

  it('a revision of the policy makes version 2 with the diff in its event and at the diff route', async () => {
    const revised = `${POLICY.trimEnd()}\n\n## 17. Travel\n\n**17.1** Employees must book business flights through the Travel Desk.\n`;
    const uploaded = await call('POST', `${ctx}/documents`, { filename: 'policy.md', mediaType: 'text/markdown', content: revised });
    expect(uploaded.status).toBe(202);
    const second = await graphUpdate(2);
    expect(second.previousVersion).toBe(1);
    expect(second.documents).toEqual([expect.objectContaining({ version: 2 })]);
    expect(second.diff.conceptsAdded.length + second.diff.relationsAdded.length).toBeGreaterThan(0);
    const diff = await call('GET', `${ctx}/ontology/diff?from=1&to=2`, undefined, viewer);
    expect(diff.body).toEqual(second.diff as unknown as Json);
    const summary = await call('GET', `${ctx}/ontology`, undefined, viewer);
    expect(summary.body).toMatchObject({ version: 2, conceptCount: second.conceptCount, relationCount: second.relationCount });
    // The curator's decision holds in the new version.
    const still = await call('GET', `${ctx}/ontology/conflicts?status=dismissed`, undefined, viewer);
    expect((still.body['conflicts'] as Array<{ id: string }>).map((c) => c.id)).toEqual([dismissed]);
  });

  it('imports SKOS Turtle sent as text/turtle by a curator: a new version with the imported concept; bad Turtle is 422 naming the problem', async () => {
    const post = async (body: string) =>
      fetch(`${stack.url('gateway')}${ctx}/ontology/import`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await stack.keyFor(TENANT, 'curator')}`, 'content-type': 'text/turtle' },
        body,
      });
    const turtle =
      '@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n<https://example.org/vocab/hospitality> a skos:Concept ;\n  skos:prefLabel "hospitality"@en ; skos:altLabel "corporate hospitality"@en .\n';
    const imported = await post(turtle);
    expect(imported.status).toBe(200);
    const body = (await imported.json()) as { version: number; diff: { conceptsAdded: string[] } };
    expect(body.version).toBe(3);
    expect(body.diff.conceptsAdded).toContain('c-hospitality');
    const third = await graphUpdate(3);
    const summary = await call('GET', `${ctx}/ontology`, undefined, viewer);
    expect(summary.body).toMatchObject({ version: 3, conceptCount: third.conceptCount, relationCount: third.relationCount });
    const concept = await call('GET', `${ctx}/ontology/concepts/c-hospitality`, undefined, viewer);
    expect(concept.body['concept']).toMatchObject({ origin: 'imported', altLabels: ['corporate hospitality'] });
    const bad = await post('@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n<https://e/x> a skos:Concept ;;; skos:prefLabel .');
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain('the Turtle could not be imported');
  });
});
