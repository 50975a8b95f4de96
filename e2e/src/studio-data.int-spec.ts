import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATASET_VERSION_PUBLISHED_V1, DOCUMENT_FRAMED_V1 } from '@studio/contracts';
import { describeWithServers, uniqueName } from '@studio/testing';
import { WORKSPACE_ROOT } from './harness/service-process';
import { Stack, type Json } from './harness/stack';

/**
 * The studio's data API through the gateway, against the real servers and the framer as a
 * process: contexts, documents, the clause browser (statements with kinds, search), dataset
 * versions and their examples, and the review queue, where a curator's approvals, edits and
 * rejections make a new dataset version (published on Kafka, recorded in the audit log). Another
 * tenant gets 404 for every one of these resources, and a viewer may not review.
 */
const EXAMPLE = join(WORKSPACE_ROOT, 'examples/northwind-conduct');
const POLICY = readFileSync(join(EXAMPLE, 'policy.md'), 'utf8');
const TENANT = 'acme';
const OTHER = 'globex';
// Nothing listens here: the routes under test read only the framer (the gateway's readiness just reports them).
const NOWHERE = 'http://127.0.0.1:47';

interface ExampleJson {
  id: string;
  split: 'train' | 'heldOut';
  kind: 'qa' | 'scenario';
  label: string | null;
  question: string;
  answer: string;
  clauseIds: string[];
  clauseRefs: string[];
  values: string[];
  review?: { status: string; by: string; originalId: string | null };
}
interface PageJson {
  datasetVersionId: string;
  total: number;
  offset: number;
  limit: number;
  examples: ExampleJson[];
}

describeWithServers(['KAFKA_BROKERS', 'MONGO_URL', 'REDIS_URL'], 'the studio data API and the review queue', (urls) => {
  const contextId = uniqueName('studio-data');
  let stack: Stack;
  let documentId = '';
  let datasetVersionId = '';
  let reviewedVersionId = '';

  const call = (method: string, path: string, body?: unknown, as?: { tenant: string; role: 'viewer' | 'curator' | 'admin' }) =>
    stack.call(method, path, body, 'gateway', {}, as);
  const ctx = `/v1/contexts/${contextId}`;

  beforeAll(async () => {
    stack = await Stack.start({
      servers: urls,
      services: ['gateway', 'framer'],
      runtimes: [],
      tenant: TENANT,
      prefix: 'data',
      env: (name): Record<string, string> =>
        name === 'gateway' ? { ONTOLOGY_URL: NOWHERE, INSTRUCTOR_URL: NOWHERE, AUDITOR_URL: NOWHERE } : {},
    });
    const created = await call('POST', '/v1/contexts', { id: contextId, name: 'Northwind conduct (studio data)' });
    expect(created.status).toBe(201);
    const uploaded = await call('POST', `${ctx}/documents`, { filename: 'policy.md', mediaType: 'text/markdown', content: POLICY });
    expect(uploaded.status).toBe(202);
    documentId = String(uploaded.body['documentId']);
    await stack.waitForEvent(
      DOCUMENT_FRAMED_V1,
      documentId,
      (e) => e.data['contextId'] === contextId && e.data['documentId'] === documentId,
      90_000,
    );
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('lists the contexts, and reads one context and its documents', async () => {
    const list = await call('GET', '/v1/contexts');
    expect(list.status).toBe(200);
    const contexts = list.body['contexts'] as Json[];
    expect(contexts.find((c) => c['id'] === contextId)).toMatchObject({ name: 'Northwind conduct (studio data)', hasSeeds: false });
    expect(contexts.every((c) => !('seeds' in c))).toBe(true);
    expect((await call('GET', ctx)).body).toMatchObject({ id: contextId, name: 'Northwind conduct (studio data)' });
    const documents = await call('GET', `${ctx}/documents`);
    expect(documents.status).toBe(200);
    expect((documents.body['documents'] as Json[]).map((d) => [d['id'], d['status']])).toEqual([[documentId, 'framed']]);
    const document = await call('GET', `${ctx}/documents/${documentId}`);
    expect(document.body).toMatchObject({ id: documentId, status: 'framed', filename: 'policy.md', version: 1 });
    expect(document.body).not.toHaveProperty('storageUri');
  });

  it('browses the clauses: citation, parent, statements with their kinds; searches them', async () => {
    const all = await call('GET', `${ctx}/clauses`);
    expect(all.status).toBe(200);
    const clauses = all.body['clauses'] as Array<Json & { statements: Array<{ kind: string; sentence: string }> }>;
    expect(all.body['total']).toBe(clauses.length);
    expect(clauses.length).toBeGreaterThan(20);
    const kinds = new Set(clauses.flatMap((c) => c.statements.map((s) => s.kind)));
    for (const kind of ['obligation', 'prohibition', 'permission', 'definition']) expect(kinds).toContain(kind);
    const c112 = clauses.find((c) => c['numbering'] === '1.1.2');
    expect(c112).toMatchObject({ documentId, citation: expect.stringContaining('1.1.2'), title: expect.any(String) });
    expect(c112?.statements.some((s) => s.kind === 'obligation' && /stricter standard/.test(s.sentence))).toBe(true);
    // The numbering tree: every parent is a clause of the list.
    const ids = new Set(clauses.map((c) => c['id']));
    expect(clauses.filter((c) => c['parentId'] !== null).every((c) => ids.has(c['parentId']))).toBe(true);

    const found = await call('GET', `${ctx}/clauses?q=${encodeURIComponent('stricter standard local law')}`);
    const numberings = (found.body['clauses'] as Json[]).map((c) => c['numbering']);
    expect(numberings).toContain('1.1.2');
    expect(numberings.length).toBeLessThan(clauses.length);
    expect(found.body['total']).toBe(clauses.length);
    expect(((await call('GET', `${ctx}/clauses?q=zzzqqq`)).body['clauses'] as Json[]).length).toBe(0);
    expect(((await call('GET', `${ctx}/clauses?documentId=${documentId}`)).body['clauses'] as Json[]).length).toBe(clauses.length);
    const bad = await call('GET', `${ctx}/clauses?q=${'x'.repeat(501)}`);
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/q.*at most 500/);
  });

  it('lists dataset versions and pages through their examples with filters', async () => {
    const generated = await call('POST', `${ctx}/datasets`, { seed: 42 });
    expect({ status: generated.status, text: generated.status === 201 ? '' : generated.text }).toEqual({ status: 201, text: '' });
    datasetVersionId = String(generated.body['id']);
    const versions = await call('GET', `${ctx}/datasets`);
    expect((versions.body['datasets'] as Json[]).map((d) => [d['id'], d['review']])).toEqual([[datasetVersionId, null]]);
    expect((await call('GET', `${ctx}/datasets/${datasetVersionId}`)).body).toMatchObject({ id: datasetVersionId, contextId });

    const total = (generated.body['train'] as Json)['examples'] as number;
    const heldOut = (generated.body['heldOut'] as Json)['examples'] as number;
    const first = (await call('GET', `${ctx}/datasets/${datasetVersionId}/examples?limit=10`)).body as unknown as PageJson;
    expect(first).toMatchObject({ datasetVersionId, total: total + heldOut, offset: 0, limit: 10 });
    expect(first.examples).toHaveLength(10);
    expect(first.examples[0]).toMatchObject({
      split: 'train',
      clauseIds: expect.any(Array),
      clauseRefs: expect.any(Array),
      values: expect.any(Array),
    });
    const second = (await call('GET', `${ctx}/datasets/${datasetVersionId}/examples?offset=10&limit=10`)).body as unknown as PageJson;
    expect(second.examples.map((e) => e.id)).not.toContain(first.examples[0]?.id);
    const scenarios = (await call('GET', `${ctx}/datasets/${datasetVersionId}/examples?kind=scenario&split=heldOut&limit=500`))
      .body as unknown as PageJson;
    expect(scenarios.examples.length).toBeGreaterThan(0);
    expect(scenarios.examples.every((e) => e.kind === 'scenario' && e.split === 'heldOut' && e.label !== null)).toBe(true);
    const bad = await call('GET', `${ctx}/datasets/${datasetVersionId}/examples?limit=5000&kind=poem`);
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/limit/);
    expect(bad.text).toMatch(/kind/);
  });

  it('a curator reviews: approve, edit and reject make a new version with its parent, published and recorded in the audit log', async () => {
    const queue = (await call('GET', `${ctx}/datasets/${datasetVersionId}/review?limit=500`)).body as unknown as PageJson;
    const train = queue.examples.filter((e) => e.split === 'train');
    const [approved, edited, rejected] = train as [ExampleJson, ExampleJson, ExampleJson];
    const newAnswer = `${edited.answer.replace(/\s+$/, '')} A person checked this answer.`;
    const decisions = [
      { exampleId: approved.id, action: 'approve' },
      { exampleId: edited.id, action: 'edit', edited: { response: newAnswer } },
      { exampleId: rejected.id, action: 'reject' },
    ];
    // A viewer may read the queue but not decide.
    expect((await call('GET', `${ctx}/datasets/${datasetVersionId}/review`, undefined, { tenant: TENANT, role: 'viewer' })).status).toBe(
      200,
    );
    const refused = await call('POST', `${ctx}/datasets/${datasetVersionId}/reviews`, { decisions }, { tenant: TENANT, role: 'viewer' });
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('datasets:curate');

    const res = await call('POST', `${ctx}/datasets/${datasetVersionId}/reviews`, { decisions }, { tenant: TENANT, role: 'curator' });
    expect({ status: res.status, text: res.status === 201 ? '' : res.text }).toEqual({ status: 201, text: '' });
    reviewedVersionId = String((res.body['dataset'] as Json)['id']);
    expect(reviewedVersionId).not.toBe(datasetVersionId);
    expect(res.body).toMatchObject({
      parentDatasetVersionId: datasetVersionId,
      created: true,
      review: { parentDatasetVersionId: datasetVersionId, approved: 1, edited: 1, rejected: 1, unreviewed: queue.total - 3 },
    });
    const reviewer = String((res.body['review'] as Json)['reviewedBy']);
    expect(reviewer).toMatch(/^key:/);

    // The new version: the rejected example left out, the edited one replaced (same clauses, marked), the approved one marked.
    const examples = (await call('GET', `${ctx}/datasets/${reviewedVersionId}/examples?limit=500`)).body as unknown as PageJson;
    expect(examples.total).toBe(queue.total - 1);
    const ids = examples.examples.map((e) => e.id);
    expect(ids).not.toContain(rejected.id);
    expect(ids).not.toContain(edited.id);
    expect(examples.examples.find((e) => e.id === approved.id)?.review).toEqual({ status: 'approved', by: reviewer, originalId: null });
    const replacement = examples.examples.find((e) => e.review?.originalId === edited.id);
    expect(replacement).toMatchObject({ answer: newAnswer, question: edited.question, clauseIds: edited.clauseIds, split: 'train' });
    expect(replacement?.review).toEqual({ status: 'edited', by: reviewer, originalId: edited.id });
    // Its queue: what nobody has reviewed yet.
    const left = (await call('GET', `${ctx}/datasets/${reviewedVersionId}/review?limit=1`)).body as unknown as PageJson;
    expect(left.total).toBe(queue.total - 3);
    // Both versions listed, the review's with its parent.
    const versions = (await call('GET', `${ctx}/datasets`)).body['datasets'] as Json[];
    expect(versions.find((d) => d['id'] === reviewedVersionId)?.['review']).toMatchObject({ parentDatasetVersionId: datasetVersionId });

    // Published for the instructor.
    const published = await stack.waitForEvent(
      DATASET_VERSION_PUBLISHED_V1,
      reviewedVersionId,
      (e) => e.data['datasetVersionId'] === reviewedVersionId,
      30_000,
    );
    expect(published.data['review']).toMatchObject({ parentDatasetVersionId: datasetVersionId, rejected: 1 });

    // Every decision in the audit log, with who, what and before/after.
    for (const [action, example] of [
      ['dataset.example.approved', approved],
      ['dataset.example.edited', edited],
      ['dataset.example.rejected', rejected],
    ] as const) {
      const log = await call('GET', `/v1/audit-log?action=${action}&limit=10`);
      expect(log.status).toBe(200);
      const entries = log.body['entries'] as Json[];
      const entry = entries.find((e) => e['target'] === `example:${example.id}`);
      expect(entry).toMatchObject({
        action,
        actor: { subject: reviewer },
        before: { datasetVersionId, example: { id: example.id } },
        after: { datasetVersionId: reviewedVersionId },
      });
    }
    const reviewed = await call('GET', `/v1/audit-log?action=dataset.reviewed&limit=10`);
    expect(JSON.stringify(reviewed.body)).toContain(`dataset:${reviewedVersionId}`);

    // The same review again is the same version.
    const again = await call('POST', `${ctx}/datasets/${datasetVersionId}/reviews`, { decisions }, { tenant: TENANT, role: 'curator' });
    expect(again.status).toBe(200);
    expect((again.body['dataset'] as Json)['id']).toBe(reviewedVersionId);
  }, 60_000);

  it('refuses a review naming unknown examples or malformed decisions, naming the problem', async () => {
    const unknown = await call('POST', `${ctx}/datasets/${datasetVersionId}/reviews`, {
      decisions: [{ exampleId: 'ex-does-not-exist', action: 'approve' }],
    });
    expect(unknown.status).toBe(400);
    expect(String(unknown.body['detail'])).toContain('"ex-does-not-exist"');
    const malformed = await call('POST', `${ctx}/datasets/${datasetVersionId}/reviews`, {
      decisions: [
        { exampleId: 'a', action: 'edit' },
        { exampleId: 'b', action: 'banish' },
      ],
    });
    expect(malformed.status).toBe(400);
    expect(malformed.text).toMatch(/edited/);
    expect(malformed.text).toMatch(/action/);
  });

  it("gives another tenant 404 for every one of this tenant's resources", async () => {
    const as = { tenant: OTHER, role: 'admin' as const };
    const reads = [
      ctx,
      `${ctx}/documents`,
      `${ctx}/documents/${documentId}`,
      `${ctx}/clauses`,
      `${ctx}/clauses?q=standard`,
      `${ctx}/datasets`,
      `${ctx}/datasets/${datasetVersionId}`,
      `${ctx}/datasets/${datasetVersionId}/examples`,
      `${ctx}/datasets/${datasetVersionId}/review`,
      `${ctx}/datasets/${reviewedVersionId}/examples`,
    ];
    for (const path of reads) expect({ path, status: (await call('GET', path, undefined, as)).status }).toEqual({ path, status: 404 });
    const review = await call(
      'POST',
      `${ctx}/datasets/${datasetVersionId}/reviews`,
      { decisions: [{ exampleId: 'x', action: 'approve' }] },
      as,
    );
    expect(review.status).toBe(404);
    const contexts = (await call('GET', '/v1/contexts', undefined, as)).body['contexts'] as Json[];
    expect(contexts.map((c) => c['id'])).not.toContain(contextId);
  });
});
