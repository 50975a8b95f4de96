import { createServer, type Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DOCUMENT_UPLOADED_V1, parseEvent, type CloudEvent, type Topic } from '@studio/contracts';
import { EVENT_BUS } from '@studio/nest';
import { tenantId, type EventBus } from '@studio/ports';
import { applyHttpConventions } from '../http/problem-details';
import { GATEWAY_LIMITS } from '../limits';
import { DocumentsController } from './documents.controller';
import { ServiceClient } from '../upstream/service-client';
import { documentIdFor, documentUploadedEvent, DocumentTooLargeError, UploadDocumentRequest } from './upload-document';

const acme = tenantId('acme');
const request = {
  filename: 'conduct.md',
  mediaType: 'text/markdown' as const,
  content: '# Gifts\nEmployees must not accept gifts over 50 EUR.',
};

describe('documentUploadedEvent', () => {
  it('builds a valid policy.document.uploaded.v1 event carrying the text as a data URI', () => {
    const event = documentUploadedEvent(acme, 'ctx-1', request, 1000, new Date('2026-01-02T03:04:05Z'));
    expect(() => parseEvent(DOCUMENT_UPLOADED_V1, event)).not.toThrow();
    expect(event).toMatchObject({ tenantid: 'acme', partitionkey: 'ctx-1', source: '/studio/gateway', time: '2026-01-02T03:04:05.000Z' });
    expect(event.data.sizeBytes).toBe(Buffer.byteLength(request.content));
    const [, base64] = event.data.storageUri.split('base64,');
    expect(Buffer.from(base64 ?? '', 'base64').toString('utf8')).toBe(request.content);
  });

  it('names a document by its file name in the context: new bytes under the same name are a new version of the same document', () => {
    const a = documentUploadedEvent(acme, 'ctx-1', request, 1000);
    const b = documentUploadedEvent(acme, 'ctx-1', { ...request, content: `${request.content}\n2. Another rule.` }, 1000);
    expect(a.data.documentId).toBe(b.data.documentId);
    expect(a.data.sha256).not.toBe(b.data.sha256);
    expect(a.id).not.toBe(b.id);
    expect(documentUploadedEvent(acme, 'ctx-1', { ...request, filename: 'annex.md' }, 1000).data.documentId).not.toBe(a.data.documentId);
    expect(documentIdFor(acme, 'ctx-2', request.filename)).not.toBe(a.data.documentId);
    expect(documentIdFor(tenantId('other'), 'ctx-1', request.filename)).not.toBe(a.data.documentId);
    // A declared id names the document whatever the file is called.
    const declared = documentUploadedEvent(acme, 'ctx-1', { ...request, filename: 'v2.md', documentId: 'conduct' }, 1000);
    expect(declared.data.documentId).toBe('conduct');
    expect(() => UploadDocumentRequest.parse({ ...request, documentId: 'a:b' })).toThrow(/must not contain/);
  });

  it('counts the limit in UTF-8 bytes', () => {
    const content = `# A\n${'é'.repeat(4)}`; // 4 + 8 bytes
    expect(() => documentUploadedEvent(acme, 'ctx-1', { ...request, content }, 11)).toThrow(DocumentTooLargeError);
    expect(() => documentUploadedEvent(acme, 'ctx-1', { ...request, content }, 12)).not.toThrow();
  });
});

describe('POST /v1/contexts/:contextId/documents', () => {
  let app: INestApplication;
  let base: string;
  const published: { topic: Topic; event: CloudEvent<unknown> }[] = [];
  let failPublish = false;
  let neverAnswer = false;
  const bus: EventBus = {
    publish: async (topic, event) => {
      if (neverAnswer) return new Promise<void>(() => undefined); // a producer waiting for a broker that is down
      if (failPublish) throw new Error('broker unreachable', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9092') });
      published.push({ topic, event });
    },
    subscribe: () => undefined,
    start: async () => undefined,
    stop: async () => undefined,
  };

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      controllers: [DocumentsController],
      providers: [
        { provide: EVENT_BUS, useValue: bus },
        { provide: GATEWAY_LIMITS, useValue: { maxDocumentBytes: 100, publishTimeoutMs: 300 } },
        {
          provide: ServiceClient,
          useValue: new ServiceClient({ framer: 'http://127.0.0.1:1', ontology: '', instructor: '', auditor: '' }),
        },
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    applyHttpConventions(app);
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });
  afterAll(() => app.close());
  beforeEach(() => {
    published.length = 0;
    failPublish = false;
    neverAnswer = false;
  });

  const post = (body: unknown, headers: Record<string, string> = { 'x-tenant-id': 'acme' }, contextId = 'ctx-1') =>
    fetch(`${base}/v1/contexts/${contextId}/documents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it('publishes the event and answers 202 with the document id', async () => {
    const res = await post(request);
    expect(res.status).toBe(202);
    const body = (await res.json()) as { documentId: string; eventId: string };
    expect(published).toHaveLength(1);
    expect(published[0]?.topic).toBe(DOCUMENT_UPLOADED_V1);
    expect(published[0]?.event).toMatchObject({
      id: body.eventId,
      tenantid: 'acme',
      data: { documentId: body.documentId, contextId: 'ctx-1' },
    });
  });

  it('answers 400 naming the missing tenant header', async () => {
    const res = await post(request, {});
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ message: 'x-tenant-id header is required' });
    expect(published).toHaveLength(0);
  });

  it('answers 400 naming each bad field of the body', async () => {
    const res = await post({ filename: '', mediaType: 'text/html', extra: true });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { message: string; issues: { path: string }[] };
    expect(body.issues.map((i) => i.path).sort()).toEqual(['', 'content', 'filename', 'mediaType']);
    expect(body.message).toMatch(/^request body is invalid: .*mediaType: Invalid option/);
    expect(body.message).toContain('Unrecognized key: "extra"');
  });

  it('answers 400 for an invalid context id', async () => {
    const res = await post(request, { 'x-tenant-id': 'acme' }, 'bad%20context');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/^path parameter contextId is invalid/);
  });

  it('answers 413 for a document over the limit', async () => {
    const res = await post({ ...request, content: 'x'.repeat(101) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { message: string }).message).toBe('document is 101 bytes; the limit is 100 bytes');
  });

  it.each([
    ['binary content', { content: 'PK\u0003\u0004\u0000\u0000binary' }, 422, 'binary', /NUL bytes/],
    [
      'a text without headings or numbered clauses',
      { content: 'just one line of prose' },
      422,
      'no-structure',
      /no sections or numbered clauses/,
    ],
    ['a text of blanks only', { content: '   \n\t ' }, 400, 'empty', /document is empty/],
  ])('answers 4xx naming the problem, and publishes nothing, for %s', async (_what, override, status, problem, message) => {
    const res = await post({ ...request, ...override });
    expect(res.status).toBe(status);
    const body = (await res.json()) as { message: string; problem: string };
    expect(body.problem).toBe(problem);
    expect(body.message).toMatch(message);
    expect(published).toHaveLength(0);
  });

  it('answers 503 with Retry-After and a problem naming the cause when the event cannot be published', async () => {
    failPublish = true;
    const res = await post(request);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('10');
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({
      type: 'about:blank',
      title: 'Service Unavailable',
      status: 503,
      detail:
        'could not publish policy.document.uploaded.v1: broker unreachable: connect ECONNREFUSED 127.0.0.1:9092; the upload is not confirmed: retry it (the same document keeps its id)',
      topic: 'policy.document.uploaded.v1',
    });
  });

  it('answers 503 within the publish timeout when the broker never answers', async () => {
    neverAnswer = true;
    const began = Date.now();
    const res = await post(request);
    expect(res.status).toBe(503);
    expect(Date.now() - began).toBeLessThan(2_000);
    expect(res.headers.get('retry-after')).toBe('10');
    expect(((await res.json()) as { detail: string }).detail).toBe(
      'could not publish policy.document.uploaded.v1: the event broker did not acknowledge it within 300 ms; the upload is not confirmed: retry it (the same document keeps its id)',
    );
  });

  it('answers 415 naming the expected type for a body that is not JSON', async () => {
    for (const [type, got] of [
      ['text/plain', 'Content-Type text/plain'],
      ['application/x-www-form-urlencoded; charset=utf-8', 'Content-Type application/x-www-form-urlencoded'],
    ] as const) {
      const res = await fetch(`${base}/v1/contexts/ctx-1/documents`, {
        method: 'POST',
        headers: { 'content-type': type, 'x-tenant-id': 'acme' },
        body: JSON.stringify(request),
      });
      expect(res.status).toBe(415);
      expect(await res.json()).toMatchObject({
        title: 'Unsupported Media Type',
        status: 415,
        detail: `request body must be application/json (got ${got})`,
        expected: 'application/json',
      });
    }
    const blob = await fetch(`${base}/v1/contexts/ctx-1/documents`, {
      method: 'POST',
      headers: { 'x-tenant-id': 'acme' },
      body: new Blob([JSON.stringify(request)]),
    });
    expect(blob.status).toBe(415);
    expect(((await blob.json()) as { detail: string }).detail).toBe('request body must be application/json (got no Content-Type)');
    expect(published).toHaveLength(0);
  });

  it.each([
    ['NUL', 'conduct\u0000.md', 'U+0000'],
    ['escape', '\u001b[2Jconduct.md', 'U+001B'],
    ['right-to-left override', 'conduct\u202Edm.exe', 'U+202E'],
    ['first-strong isolate', '\u2068conduct.md', 'U+2068'],
  ])('answers 400 naming the filename when it contains %s', async (_what, filename, code) => {
    const res = await post({ ...request, filename });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { detail: string; issues: { path: string; message: string }[] };
    expect(body.issues).toEqual([{ path: 'filename', message: expect.stringContaining(`found ${code}`) }]);
    expect(body.detail).toMatch(/^request body is invalid: filename: must not contain control or bidirectional-override characters/);
    expect(published).toHaveLength(0);
  });

  it('answers every error with one problem shape', async () => {
    const cases = [
      await post(request, {}),
      await post({ ...request, content: 'x'.repeat(101) }),
      await post({ ...request, content: 'just one line of prose' }),
      await fetch(`${base}/v1/contexts/ctx-1/documents`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-tenant-id': 'acme' },
        body: '{"filename": ',
      }),
      await fetch(`${base}/v1/nowhere`, { headers: { 'x-tenant-id': 'acme' } }),
      await post({ ...request, content: 'x'.repeat(200 * 1024) }), // over the body parser's limit
    ];
    expect(cases.map((r) => r.status)).toEqual([400, 413, 422, 400, 404, 413]);
    expect(((await cases[3]?.clone().json()) as { detail: string }).detail).toMatch(/^request body is not valid JSON: /);
    for (const res of cases) {
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toEqual(
        expect.objectContaining({ type: 'about:blank', title: expect.any(String), status: res.status, detail: expect.any(String) }),
      );
      expect(body['detail']).toBe(body['message']);
      expect(body).not.toHaveProperty('statusCode');
    }
  });
});

describe("GET a document's versions and diff", () => {
  let app: INestApplication;
  let base: string;
  const seen: Array<{ url: string; tenant: string | undefined }> = [];
  const framer: Server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', tenant: req.headers['x-tenant-id'] as string | undefined });
    const missing = req.url?.includes('/documents/nope/');
    res.writeHead(missing ? 404 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(missing ? { statusCode: 404, message: 'document "nope" not found in context "ctx-1"' } : { ok: req.url }));
  });

  beforeAll(async () => {
    const url = await new Promise<string>((resolve) =>
      framer.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(framer.address() as { port: number }).port}`)),
    );
    const moduleRef = await Test.createTestingModule({
      controllers: [DocumentsController],
      providers: [
        {
          provide: EVENT_BUS,
          useValue: {
            publish: async () => undefined,
            subscribe: () => undefined,
            start: async () => undefined,
            stop: async () => undefined,
          },
        },
        { provide: GATEWAY_LIMITS, useValue: { maxDocumentBytes: 100, publishTimeoutMs: 300 } },
        { provide: ServiceClient, useValue: new ServiceClient({ framer: url, ontology: '', instructor: '', auditor: '' }) },
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    applyHttpConventions(app);
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });
  afterAll(async () => {
    await app.close();
    framer.close();
  });
  const get = (path: string) => fetch(`${base}${path}`, { headers: { 'x-tenant-id': 'acme' } });

  it('forwards the versions and the diff to the framer, with the tenant and the query', async () => {
    expect(await (await get('/v1/contexts/ctx-1/documents/doc-a/versions')).json()).toEqual({
      ok: '/v1/contexts/ctx-1/documents/doc-a/versions',
    });
    const diff = await get('/v1/contexts/ctx-1/documents/doc-a/diff?from=1&to=3&unchanged=true');
    expect(diff.status).toBe(200);
    expect(seen.at(-1)).toEqual({ url: '/v1/contexts/ctx-1/documents/doc-a/diff?from=1&to=3&unchanged=true', tenant: 'acme' });
  });

  it("answers the framer's 404 as it is", async () => {
    const res = await get('/v1/contexts/ctx-1/documents/nope/versions');
    expect(res.status).toBe(404);
    expect(((await res.json()) as { detail: string }).detail).toBe('document "nope" not found in context "ctx-1"');
  });

  it('refuses a bad version number or an unknown query parameter without calling the framer', async () => {
    const before = seen.length;
    for (const query of ['from=0', 'to=two', 'unchanged=yes', 'colour=red']) {
      const res = await get(`/v1/contexts/ctx-1/documents/doc-a/diff?${query}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { detail: string }).detail).toMatch(/^query is invalid: /);
    }
    expect(seen.length).toBe(before);
  });
});
