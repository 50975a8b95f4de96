import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DOCUMENT_UPLOADED_V1, parseEvent, type CloudEvent, type Topic } from '@studio/contracts';
import { EVENT_BUS } from '@studio/nest';
import { tenantId, type EventBus } from '@studio/ports';
import { GATEWAY_LIMITS } from '../limits';
import { DocumentsController } from './documents.controller';
import { documentIdFor, documentUploadedEvent, DocumentTooLargeError } from './upload-document';

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

  it('gives the same bytes in the same context the same document id, and different contexts or tenants different ones', () => {
    const a = documentUploadedEvent(acme, 'ctx-1', request, 1000);
    const b = documentUploadedEvent(acme, 'ctx-1', { ...request, filename: 'renamed.md' }, 1000);
    expect(a.data.documentId).toBe(b.data.documentId);
    expect(a.id).not.toBe(b.id);
    expect(documentIdFor(acme, 'ctx-2', a.data.sha256)).not.toBe(a.data.documentId);
    expect(documentIdFor(tenantId('other'), 'ctx-1', a.data.sha256)).not.toBe(a.data.documentId);
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
  const bus: EventBus = {
    publish: async (topic, event) => {
      if (failPublish) throw new Error('broker unreachable');
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
        { provide: GATEWAY_LIMITS, useValue: { maxDocumentBytes: 100 } },
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });
  afterAll(() => app.close());
  beforeEach(() => {
    published.length = 0;
    failPublish = false;
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

  it('answers 503 when the event cannot be published', async () => {
    failPublish = true;
    const res = await post(request);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { message: string }).message).toBe('could not publish policy.document.uploaded.v1: broker unreachable');
  });
});
