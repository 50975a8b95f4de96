import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AuditLog } from '../auth/audit-log';
import { bearer, issueKey, memoryKeysModule } from '../auth/testing';
import { setUpOpenApi } from '../gateway.service';
import { applyHttpConventions } from '../http/problem-details';
import type { ForwardRequest, ServiceClient, UpstreamName, UpstreamResponse } from '../upstream/service-client';
import { DataModule } from './data.module';

/** The framer as the gateway sees it: records what it was asked, answers what the test says. */
class FakeFramer {
  readonly requests: Array<ForwardRequest & { service: UpstreamName }> = [];
  answer: (request: ForwardRequest) => UpstreamResponse = () => ({ status: 200, contentType: 'application/json', body: {} });
  async forward(service: UpstreamName, request: ForwardRequest): Promise<UpstreamResponse> {
    this.requests.push({ service, ...request });
    return this.answer(request);
  }
}

const shown = (id: string, answer = 'Yes (§1).') => ({ id, question: `Q ${id}?`, answer });

const REVIEW_ANSWER = {
  dataset: { id: 'ds-ctx-new', sha256: 'b'.repeat(64), contextId: 'ctx' },
  parentDatasetVersionId: 'ds-ctx-old',
  created: true,
  review: { parentDatasetVersionId: 'ds-ctx-old', reviewedBy: 'x', approved: 1, edited: 1, rejected: 1, unreviewed: 7 },
  decisions: [
    { exampleId: 'ex-a', action: 'approve', split: 'train', before: shown('ex-a'), after: shown('ex-a') },
    { exampleId: 'ex-b', action: 'edit', split: 'heldOut', before: shown('ex-b'), after: shown('ex-b2', 'No (§1).') },
    { exampleId: 'ex-c', action: 'reject', split: 'train', before: shown('ex-c'), after: null },
  ],
};

describe('the data API at the gateway', () => {
  let app: INestApplication;
  let base: string;
  const framer = new FakeFramer();
  let curator = '';
  let viewer = '';

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [memoryKeysModule(), DataModule.forRoot(framer as unknown as ServiceClient)],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    applyHttpConventions(app);
    setUpOpenApi(app);
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
    curator = await issueKey(app, 'acme', 'curator');
    viewer = await issueKey(app, 'acme', 'viewer');
  });
  afterAll(() => app.close());
  beforeEach(() => {
    framer.requests.length = 0;
    framer.answer = () => ({ status: 200, contentType: 'application/json', body: {} });
  });

  const call = (method: string, path: string, key: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method,
      headers: { ...bearer(key), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('documents its routes in the OpenAPI document, with their query parameters', async () => {
    const doc = (await (await fetch(`${base}/docs-json`)).json()) as {
      paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }> }>>;
    };
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(operations).toEqual(
      expect.arrayContaining([
        'GET /v1/contexts',
        'GET /v1/contexts/{contextId}',
        'GET /v1/contexts/{contextId}/documents',
        'GET /v1/contexts/{contextId}/documents/{documentId}',
        'GET /v1/contexts/{contextId}/clauses',
        'GET /v1/contexts/{contextId}/datasets',
        'GET /v1/contexts/{contextId}/datasets/{datasetVersionId}',
        'GET /v1/contexts/{contextId}/datasets/{datasetVersionId}/examples',
        'GET /v1/contexts/{contextId}/datasets/{datasetVersionId}/review',
        'POST /v1/contexts/{contextId}/datasets/{datasetVersionId}/reviews',
      ]),
    );
    const queryOf = (path: string) =>
      (doc.paths[path]?.['get']?.parameters ?? [])
        .filter((p) => p.in === 'query')
        .map((p) => p.name)
        .sort();
    expect(queryOf('/v1/contexts/{contextId}/clauses')).toEqual(['documentId', 'q']);
    expect(queryOf('/v1/contexts/{contextId}/datasets/{datasetVersionId}/examples')).toEqual(
      ['clauseId', 'kind', 'label', 'limit', 'offset', 'review', 'split'].sort(),
    );
  });

  it("reads as the key's tenant (never a header's), asking the framer for annotated clauses with the search", async () => {
    const res = await call('GET', '/v1/contexts/ctx/clauses?q=gift%20cash&documentId=doc-1', viewer, undefined, {
      'x-tenant-id': 'globex',
    });
    expect(res.status).toBe(200);
    expect(framer.requests).toEqual([
      {
        service: 'framer',
        method: 'GET',
        path: '/v1/contexts/ctx/clauses',
        tenant: 'acme',
        query: { q: 'gift cash', documentId: 'doc-1', annotate: 'true' },
      },
    ]);
    await call('GET', '/v1/contexts/ctx/datasets/ds-1/examples?split=heldOut&kind=scenario&offset=5&limit=5', viewer);
    expect(framer.requests[1]).toMatchObject({
      path: '/v1/contexts/ctx/datasets/ds-1/examples',
      tenant: 'acme',
      query: { split: 'heldOut', kind: 'scenario', offset: '5', limit: '5' },
    });
  });

  it('refuses bad queries and bodies with problem details naming the field, before asking the framer', async () => {
    const bad = await call('GET', '/v1/contexts/ctx/datasets/ds-1/examples?limit=0&review=maybe', viewer);
    expect(bad.status).toBe(400);
    const text = await bad.text();
    expect(text).toMatch(/limit/);
    expect(text).toMatch(/review/);
    const body = await call('POST', '/v1/contexts/ctx/datasets/ds-1/reviews', curator, {
      decisions: [{ exampleId: 'a', action: 'edit', edited: {} }],
    });
    expect(body.status).toBe(400);
    expect(await body.text()).toContain('an edit needs edited.prompt, edited.response or both');
    expect(framer.requests).toEqual([]);
  });

  it('a viewer may not review (403 naming the permission); nothing reaches the framer', async () => {
    const res = await call('POST', '/v1/contexts/ctx/datasets/ds-1/reviews', viewer, {
      decisions: [{ exampleId: 'a', action: 'approve' }],
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('datasets:curate');
    expect(framer.requests).toEqual([]);
  });

  it("a curator's review goes to the framer as the caller, and every decision lands in the audit log with before and after", async () => {
    framer.answer = () => ({ status: 201, contentType: 'application/json', body: REVIEW_ANSWER });
    const decisions = [
      { exampleId: 'ex-a', action: 'approve' },
      { exampleId: 'ex-b', action: 'edit', edited: { response: 'No (§1).' } },
      { exampleId: 'ex-c', action: 'reject' },
    ];
    const res = await call('POST', '/v1/contexts/ctx/datasets/ds-ctx-old/reviews', curator, { decisions });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual(REVIEW_ANSWER);
    const [sent] = framer.requests;
    const subject = (sent?.body as { reviewer: string }).reviewer;
    expect(subject).toMatch(/^key:/);
    expect(sent).toMatchObject({
      method: 'POST',
      path: '/v1/contexts/ctx/datasets/ds-ctx-old/reviews',
      tenant: 'acme',
      body: { review: { decisions } },
    });

    const log = app.get(AuditLog);
    const approved = await log.read('acme', { action: 'dataset.example.approved', limit: 10 });
    expect(approved).toHaveLength(1);
    expect(approved[0]).toMatchObject({
      actor: { subject, role: 'curator' },
      target: 'example:ex-a',
      before: { contextId: 'ctx', datasetVersionId: 'ds-ctx-old', split: 'train', example: shown('ex-a') },
      after: { contextId: 'ctx', datasetVersionId: 'ds-ctx-new', example: shown('ex-a') },
    });
    expect((await log.read('acme', { action: 'dataset.example.edited', limit: 10 }))[0]).toMatchObject({
      target: 'example:ex-b',
      after: { datasetVersionId: 'ds-ctx-new', split: 'heldOut', example: shown('ex-b2', 'No (§1).') },
    });
    expect((await log.read('acme', { action: 'dataset.example.rejected', limit: 10 }))[0]).toMatchObject({
      target: 'example:ex-c',
      after: { datasetVersionId: 'ds-ctx-new', example: null },
    });
    expect((await log.read('acme', { action: 'dataset.reviewed', limit: 10 }))[0]).toMatchObject({
      target: 'dataset:ds-ctx-new',
      before: { datasetVersionId: 'ds-ctx-old' },
      after: { datasetVersionId: 'ds-ctx-new', review: REVIEW_ANSWER.review, created: true },
    });
    // Another tenant's log has none of it.
    expect(await log.read('globex', { limit: 10 })).toEqual([]);
  });

  it('an answer of the framer it cannot read is a 502 naming the framer, and nothing is recorded', async () => {
    framer.answer = () => ({ status: 201, contentType: 'application/json', body: { dataset: 'what?' } });
    const before = (await app.get(AuditLog).read('acme', { limit: 100 })).length;
    const res = await call('POST', '/v1/contexts/ctx/datasets/ds-1/reviews', curator, {
      decisions: [{ exampleId: 'a', action: 'approve' }],
    });
    expect(res.status).toBe(502);
    expect(await res.text()).toContain('framer');
    expect((await app.get(AuditLog).read('acme', { limit: 100 })).length).toBe(before);
  });
});
