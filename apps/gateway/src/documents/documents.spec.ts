import { createServer, type Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { DOCUMENT_UPLOADED_V1, parseEvent, type CloudEvent, type Topic } from '@studio/contracts';
import { EVENT_BUS } from '@studio/nest';
import { tenantId, type EventBus } from '@studio/ports';
import { applyHttpConventions } from '../http/problem-details';
import { GATEWAY_LIMITS } from '../limits';
import { DocumentsController } from './documents.controller';
import { ServiceClient } from '../upstream/service-client';
import { documentIdFor, documentUploadedEvent, DocumentTooLargeError, UploadDocumentRequest } from './upload-document';
import { bearer, issueKey, memoryKeysModule } from '../auth/testing';

/** The credential of the app under test (an admin key of tenant acme). */
let auth: Record<string, string> = {};

const acme = tenantId('acme');
const request = {
  filename: 'conduct.md',
  mediaType: 'text/markdown' as const,
  content: '# Gifts\nEmployees must not accept gifts over 50 EUR.',
};

describe('documentUploadedEvent', () => {
  it('builds a valid policy.document.uploaded.v1 event carrying the text as a data URI', async () => {
    const event = await documentUploadedEvent(acme, 'ctx-1', request, 1000, new Date('2026-01-02T03:04:05Z'));
    expect(() => parseEvent(DOCUMENT_UPLOADED_V1, event)).not.toThrow();
    expect(event).toMatchObject({ tenantid: 'acme', partitionkey: 'ctx-1', source: '/studio/gateway', time: '2026-01-02T03:04:05.000Z' });
    expect(event.data.sizeBytes).toBe(Buffer.byteLength(request.content));
    const [, base64] = event.data.storageUri.split('base64,');
    expect(Buffer.from(base64 ?? '', 'base64').toString('utf8')).toBe(request.content);
  });

  it('names a document by its file name in the context: new bytes under the same name are a new version of the same document', async () => {
    const a = await documentUploadedEvent(acme, 'ctx-1', request, 1000);
    const b = await documentUploadedEvent(acme, 'ctx-1', { ...request, content: `${request.content}\n2. Another rule.` }, 1000);
    expect(a.data.documentId).toBe(b.data.documentId);
    expect(a.data.sha256).not.toBe(b.data.sha256);
    expect(a.id).not.toBe(b.id);
    expect((await documentUploadedEvent(acme, 'ctx-1', { ...request, filename: 'annex.md' }, 1000)).data.documentId).not.toBe(
      a.data.documentId,
    );
    expect(documentIdFor(acme, 'ctx-2', request.filename)).not.toBe(a.data.documentId);
    expect(documentIdFor(tenantId('other'), 'ctx-1', request.filename)).not.toBe(a.data.documentId);
    // A declared id names the document whatever the file is called.
    const declared = await documentUploadedEvent(acme, 'ctx-1', { ...request, filename: 'v2.md', documentId: 'conduct' }, 1000);
    expect(declared.data.documentId).toBe('conduct');
    expect(() => UploadDocumentRequest.parse({ ...request, documentId: 'a:b' })).toThrow(/must not contain/);
  });

  it('counts the limit in UTF-8 bytes', async () => {
    const content = `# A\n${'é'.repeat(4)}`; // 4 + 8 bytes
    await expect(documentUploadedEvent(acme, 'ctx-1', { ...request, content }, 11)).rejects.toThrow(DocumentTooLargeError);
    await expect(documentUploadedEvent(acme, 'ctx-1', { ...request, content }, 12)).resolves.toBeDefined();
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
      imports: [memoryKeysModule()],
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
    auth = bearer(await issueKey(app, 'acme'));
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

  const post = (body: unknown, headers: Record<string, string> = { ...auth }, contextId = 'ctx-1') =>
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

  it('answers 401 without a credential, whatever x-tenant-id says, and publishes nothing', async () => {
    for (const headers of [{}, { 'x-tenant-id': 'acme' }] as Record<string, string>[]) {
      const res = await post(request, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await res.json()).toMatchObject({ status: 401, code: 'missing_credential', detail: expect.stringMatching(/^no credential/) });
    }
    expect(published).toHaveLength(0);
  });

  it("publishes the event under the credential's tenant, not the x-tenant-id header's", async () => {
    const res = await post(request, { ...auth, 'x-tenant-id': 'globex' });
    expect(res.status).toBe(202);
    expect(published[0]?.event).toMatchObject({ tenantid: 'acme' });
  });

  it('answers 400 naming each bad field of the body', async () => {
    const res = await post({ filename: '', mediaType: '', extra: true });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { message: string; issues: { path: string }[] };
    expect(body.issues.map((i) => i.path).sort()).toEqual(['', 'content', 'filename', 'mediaType']);
    expect(body.message).toMatch(/^request body is invalid: .*mediaType: must not be empty/);
    expect(body.message).toContain('Unrecognized key: "extra"');
  });

  it('answers 400 for an invalid context id', async () => {
    const res = await post(request, { ...auth }, 'bad%20context');
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

  it('answers 415 naming the expected types for a body that is neither JSON nor a document', async () => {
    const expected = `application/json or a document of type text/markdown, text/plain, text/html, application/pdf, application/vnd.openxmlformats-officedocument.wordprocessingml.document`;
    for (const [type, got] of [
      ['application/xml', 'Content-Type application/xml'],
      ['application/x-www-form-urlencoded; charset=utf-8', 'Content-Type application/x-www-form-urlencoded'],
    ] as const) {
      const res = await fetch(`${base}/v1/contexts/ctx-1/documents`, {
        method: 'POST',
        headers: { 'content-type': type, ...auth },
        body: JSON.stringify(request),
      });
      expect(res.status).toBe(415);
      expect(await res.json()).toMatchObject({
        title: 'Unsupported Media Type',
        status: 415,
        detail: `request body must be ${expected} (got ${got})`,
        problem: 'unsupported-media-type',
      });
    }
    const blob = await fetch(`${base}/v1/contexts/ctx-1/documents`, {
      method: 'POST',
      headers: { ...auth },
      body: new Blob([JSON.stringify(request)]),
    });
    expect(blob.status).toBe(415);
    expect(((await blob.json()) as { detail: string }).detail).toBe(`request body must be ${expected} (got no Content-Type)`);
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
        headers: { 'content-type': 'application/json', ...auth },
        body: '{"filename": ',
      }),
      await fetch(`${base}/v1/nowhere`, { headers: { ...auth } }),
      await post({ ...request, content: 'x'.repeat(200 * 1024) }), // over the body parser's limit
    ];
    expect(cases.map((r) => r.status)).toEqual([401, 413, 422, 400, 404, 413]);
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

describe('POST /v1/contexts/:contextId/documents with HTML, PDF and DOCX', () => {
  let app: INestApplication;
  let base: string;
  const published: { topic: Topic; event: CloudEvent<unknown> }[] = [];
  const bus: EventBus = {
    publish: async (topic, event) => {
      published.push({ topic, event });
    },
    subscribe: () => undefined,
    start: async () => undefined,
    stop: async () => undefined,
  };

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [memoryKeysModule()],
      controllers: [DocumentsController],
      providers: [
        { provide: EVENT_BUS, useValue: bus },
        { provide: GATEWAY_LIMITS, useValue: { maxDocumentBytes: 200_000, publishTimeoutMs: 1_000 } },
        {
          provide: ServiceClient,
          useValue: new ServiceClient({ framer: 'http://127.0.0.1:1', ontology: '', instructor: '', auditor: '' }),
        },
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    auth = bearer(await issueKey(app, 'acme'));
    applyHttpConventions(app);
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });
  afterAll(() => app.close());
  beforeEach(() => {
    published.length = 0;
  });

  const post = (body: unknown) =>
    fetch(`${base}/v1/contexts/ctx-1/documents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify(body),
    });
  const PDF = 'application/pdf';

  async function pdf(): Promise<Uint8Array> {
    const doc = await PDFDocument.create();
    const font = await doc.embedFont(StandardFonts.Helvetica);
    const page = doc.addPage([612, 400]);
    page.drawText('Gifts', { x: 50, y: 340, size: 20, font });
    page.drawText('1.1 Employees must not accept gifts over 50 EUR.', { x: 50, y: 300, size: 10, font });
    return doc.save();
  }

  it('takes a PDF sent base64-encoded and publishes its original bytes', async () => {
    const bytes = await pdf();
    const res = await post({ filename: 'gifts.pdf', mediaType: PDF, encoding: 'base64', content: Buffer.from(bytes).toString('base64') });
    expect(res.status).toBe(202);
    expect(published).toHaveLength(1);
    const event = published[0]?.event as CloudEvent<{ mediaType: string; storageUri: string; sizeBytes: number }>;
    expect(event.data.mediaType).toBe(PDF);
    expect(event.data.sizeBytes).toBe(bytes.length);
    expect(Buffer.from(event.data.storageUri.replace(/^data:application\/pdf;base64,/, ''), 'base64').equals(Buffer.from(bytes))).toBe(
      true,
    );
  });

  const raw = (body: Uint8Array | string, type: string, query = '?filename=gifts.pdf') =>
    fetch(`${base}/v1/contexts/ctx-1/documents${query}`, {
      method: 'POST',
      headers: { 'content-type': type, ...auth },
      body: typeof body === 'string' ? body : Buffer.from(body),
    });

  it('takes a PDF sent as the body itself, its name in the query', async () => {
    const bytes = await pdf();
    const res = await raw(bytes, PDF);
    expect(res.status).toBe(202);
    const event = published[0]?.event as CloudEvent<{ mediaType: string; filename: string; sizeBytes: number }>;
    expect(event.data).toMatchObject({ mediaType: PDF, filename: 'gifts.pdf', sizeBytes: bytes.length });
  });

  it('answers a raw upload without a file name, over the limit, or malformed, naming the problem', async () => {
    const bytes = await pdf();
    const unnamed = await raw(bytes, PDF, '');
    expect(unnamed.status).toBe(400);
    expect(((await unnamed.json()) as { detail: string }).detail).toBe('query parameter filename is required');
    const large = await raw(new Uint8Array(250_000), PDF);
    expect(large.status).toBe(413);
    expect(((await large.json()) as { detail: string }).detail).toBe('document is 250000 bytes; the limit is 200000 bytes');
    const broken = await raw('%PDF-1.7\n1 0 obj << >> endobj', PDF);
    expect(broken.status).toBe(422);
    expect(((await broken.json()) as { problem: string }).problem).toBe('malformed-pdf');
    const html = await raw('<script>x()</script>', 'text/html; charset=utf-8', '?filename=page.html');
    expect(html.status).toBe(422);
    expect(((await html.json()) as { problem: string }).problem).toBe('no-text');
    expect(published).toHaveLength(0);
  });

  it('takes an HTML page as text', async () => {
    const res = await post({
      filename: 'gifts.html',
      mediaType: 'text/html',
      content: '<h1>Gifts</h1><p>1.1 Employees must not accept gifts.</p>',
    });
    expect(res.status).toBe(202);
  });

  it.each([
    [
      'a malformed PDF',
      { mediaType: PDF, encoding: 'base64', content: Buffer.from('%PDF-1.7\n1 0 obj << >> endobj').toString('base64') },
      422,
      'malformed-pdf',
      /not a readable PDF/,
    ],
    [
      'a DOCX that is not a zip',
      {
        mediaType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
        encoding: 'base64',
        content: Buffer.from('# hello').toString('base64'),
      },
      422,
      'malformed-docx',
      /not a zip archive/,
    ],
    ['an HTML page of scripts only', { mediaType: 'text/html', content: '<script>track()</script>' }, 422, 'no-text', /no readable text/],
    [
      'a format it does not read',
      { mediaType: 'application/msword', encoding: 'base64', content: 'AAAA' },
      415,
      'unsupported-media-type',
      /application\/msword are not supported/,
    ],
  ])('answers %s with a problem naming it, and publishes nothing', async (_what, override, status, problem, detail) => {
    const res = await post({ filename: 'rules.bin', ...override });
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = (await res.json()) as { problem: string; detail: string; accepted?: string[] };
    expect(body.problem).toBe(problem);
    expect(body.detail).toMatch(detail);
    if (status === 415) expect(body.accepted).toContain(PDF);
    expect(published).toHaveLength(0);
  });

  it('answers 400 for a PDF sent as text, and for content that is not base64', async () => {
    const asText = await post({ filename: 'a.pdf', mediaType: PDF, content: '%PDF-1.7' });
    expect(asText.status).toBe(400);
    expect(((await asText.json()) as { detail: string }).detail).toMatch(
      /application\/pdf document is binary: send its bytes base64-encoded/,
    );
    const notBase64 = await post({ filename: 'a.pdf', mediaType: PDF, encoding: 'base64', content: 'not base64!' });
    expect(notBase64.status).toBe(400);
    expect(((await notBase64.json()) as { detail: string }).detail).toBe('content is not valid base64 (encoding "base64")');
    expect(published).toHaveLength(0);
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
      imports: [memoryKeysModule()],
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
    auth = bearer(await issueKey(app, 'acme'));
    applyHttpConventions(app);
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });
  afterAll(async () => {
    await app.close();
    framer.close();
  });
  const get = (path: string) => fetch(`${base}${path}`, { headers: { ...auth } });

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
