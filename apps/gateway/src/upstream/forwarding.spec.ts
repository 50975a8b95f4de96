import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ContextsController } from '../contexts/contexts.controller';
import { applyHttpConventions } from '../http/problem-details';
import { RunsController } from '../runs/runs.controller';
import { ServiceClient } from './service-client';
import { bearer, issueKey, memoryKeysModule } from '../auth/testing';

/** The credential of the app under test (an admin key of tenant acme). */
let auth: Record<string, string> = {};

interface Seen {
  method: string;
  url: string;
  tenant: string | undefined;
  body: unknown;
}

/** A stand-in for the owning services: records each request and answers what the test says. */
function fakeService(answer: (req: IncomingMessage) => { status: number; type?: string; body: string }) {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        tenant: req.headers['x-tenant-id'] as string | undefined,
        body: raw ? JSON.parse(raw) : undefined,
      });
      const a = answer(req);
      res.writeHead(a.status, { 'content-type': a.type ?? 'application/json' });
      res.end(a.body);
    });
  });
  return { seen, server };
}

describe('gateway forwarding to the owning services', () => {
  let app: INestApplication;
  let base: string;
  const framer = fakeService((req) =>
    req.url?.endsWith('/datasets')
      ? { status: 500, body: JSON.stringify({ message: 'disk full' }) }
      : { status: 201, body: JSON.stringify({ id: 'ctx-1', created: true }) },
  );
  const instructor = fakeService((req) =>
    req.url === '/v1/runs/run-missing'
      ? { status: 404, body: JSON.stringify({ statusCode: 404, message: 'training run "run-missing" not found' }) }
      : { status: 202, body: JSON.stringify({ runId: 'run-1', state: 'requested' }) },
  );
  const auditor = fakeService(() => ({ status: 200, type: 'text/markdown; charset=utf-8', body: '# Audit report\n' }));

  beforeAll(async () => {
    const listen = (s: Server) =>
      new Promise<string>((resolve) =>
        s.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(s.address() as { port: number }).port}`)),
      );
    const urls = {
      framer: await listen(framer.server),
      ontology: 'http://127.0.0.1:1',
      instructor: await listen(instructor.server),
      auditor: await listen(auditor.server),
    };
    const moduleRef = await Test.createTestingModule({
      imports: [memoryKeysModule()],
      controllers: [ContextsController, RunsController],
      providers: [{ provide: ServiceClient, useValue: new ServiceClient(urls) }],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    auth = bearer(await issueKey(app, 'acme'));
    applyHttpConventions(app);
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });
  afterAll(async () => {
    await app.close();
    for (const s of [framer.server, instructor.server, auditor.server]) s.close();
  });

  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...auth },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('validates a new context and forwards it to the framer as PUT, with the tenant', async () => {
    const res = await call('POST', '/v1/contexts', { id: 'ctx-1', name: 'Conduct' });
    expect(res.status).toBe(201);
    expect(framer.seen.at(-1)).toEqual({
      method: 'PUT',
      url: '/v1/contexts/ctx-1',
      tenant: 'acme',
      body: { name: 'Conduct', values: null, seeds: null },
    });
  });

  it('refuses an invalid context without calling the framer', async () => {
    const before = framer.seen.length;
    const res = await call('POST', '/v1/contexts', {
      id: 'ctx-1',
      name: 'Conduct',
      values: { values: [] },
      thresholds: { minCorrectness: 2 },
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { message: string };
    expect(body.message).toMatch(/values\.context/);
    expect(body.message).toMatch(/thresholds\.minCorrectness/);
    expect(framer.seen.length).toBe(before);
  });

  it('refuses seeds that are not JSON lines, naming the line and the problem, without calling the framer', async () => {
    const before = framer.seen.length;
    const good = JSON.stringify({ id: 's1', kind: 'qa', question: 'May I?', answer: 'No (§1).', clause_refs: ['1'] });
    for (const [seeds, problem] of [
      ['this is not json', /^request body is invalid: seeds: seeds line 1: not valid JSON \(/],
      [`${good}\n{"id": "s2",`, /^request body is invalid: seeds: seeds line 2: not valid JSON \(/],
      [`${good}\n${good}`, /^request body is invalid: seeds: seeds line 2: duplicate seed id "s1"$/],
      [JSON.stringify({ id: 's3', kind: 'qa', question: 'q' }), /seeds line 1: answer: .*clause_refs: /],
    ] as const) {
      const res = await call('POST', '/v1/contexts', { id: 'ctx-1', name: 'Conduct', seeds });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { detail: string; issues: { path: string }[] };
      expect(body.detail).toMatch(problem);
      expect(body.issues.map((i) => i.path)).toEqual(['seeds']);
    }
    expect(framer.seen.length).toBe(before);
    expect((await call('POST', '/v1/contexts', { id: 'ctx-1', name: 'Conduct', seeds: `${good}\n` })).status).toBe(201);
  });

  it('takes an InstructLab qna.yaml as seeds, and refuses a malformed one naming the line, the field and the problem', async () => {
    const before = framer.seen.length;
    const qna = 'version: 2\ncreated_by: me\nseed_examples:\n  - question: May I accept a gift?\n    answer: Only up to $100.\n';
    for (const [seeds, problem] of [
      ['version: 2\ncreated_by: me\n', /^request body is invalid: seeds: seeds line 1: qna\.yaml seed_examples: /],
      [qna.replace('Only up to $100.', '""'), /seeds line 5: qna\.yaml seed_examples\.0\.answer: must not be empty/],
      ['version: 3\ncreated_by: me\nseed_examples:\n  - context: 7\n', /seeds line 4: qna\.yaml seed_examples\.0\.context: /],
    ] as const) {
      const res = await call('POST', '/v1/contexts', { id: 'ctx-1', name: 'Conduct', seeds });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { detail: string; issues: { path: string }[] };
      expect(body.detail).toMatch(problem);
      expect(body.issues.map((i) => i.path)).toEqual(['seeds']);
    }
    expect(framer.seen.length).toBe(before);
    expect((await call('POST', '/v1/contexts', { id: 'ctx-1', name: 'Conduct', seeds: qna })).status).toBe(201);
  });

  it.each([
    ['a context name with NUL', '/v1/contexts', { id: 'ctx-1', name: 'Con\u0000duct' }, 'name'],
    ['a context name with escape', '/v1/contexts', { id: 'ctx-1', name: '\u001b]0;pwned\u0007' }, 'name'],
    ['a context name with a bidi override', '/v1/contexts', { id: 'ctx-1', name: 'Conduct\u202E' }, 'name'],
    ['a context name with a right-to-left mark', '/v1/contexts', { id: 'ctx-1', name: '\u200FConduct' }, 'name'],
    ['a base model name with an isolate', '/v1/contexts/ctx-1/runs', { datasetVersionId: 'dv-1', baseModel: 'tiny\u2066' }, 'baseModel'],
  ])('answers 400 naming the field for %s', async (_what, path, body, field) => {
    const before = framer.seen.length + instructor.seen.length;
    const res = await call('POST', path, body);
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { detail: string; issues: { path: string; message: string }[] };
    expect(problem.issues).toEqual([
      { path: field, message: expect.stringMatching(/^must not contain control or bidirectional-override/) },
    ]);
    expect(problem.detail).toContain(`${field}: must not contain control or bidirectional-override characters`);
    expect(framer.seen.length + instructor.seen.length).toBe(before);
  });

  it('answers 415 for a body that is not JSON', async () => {
    const res = await fetch(`${base}/v1/contexts`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', ...auth },
      body: JSON.stringify({ id: 'ctx-1', name: 'Conduct' }),
    });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { detail: string }).detail).toBe('request body must be application/json (got Content-Type text/plain)');
  });

  it('passes a 4xx of the owning service through, and turns a 5xx into 502 naming the service, as problems', async () => {
    const missing = await call('GET', '/v1/runs/run-missing');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await missing.json()).toEqual({
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: 'training run "run-missing" not found',
      message: 'training run "run-missing" not found',
    });
    const failed = await call('POST', '/v1/contexts/ctx-1/datasets', {});
    expect(failed.status).toBe(502);
    expect(await failed.json()).toMatchObject({
      title: 'Bad Gateway',
      status: 502,
      detail: 'the framer service answered HTTP 500: disk full',
      service: 'framer',
    });
    expect(framer.seen.at(-1)?.body).toEqual({ seed: 42, heldOutRatio: 0.1, full: false });
  });

  it('forwards a run request with its defaults, and reports as Markdown', async () => {
    const res = await call('POST', '/v1/contexts/ctx-1/runs', {
      datasetVersionId: 'dv-1',
      baseModel: 'tiny',
      hyperparameters: { max_steps: 10 },
    });
    expect(res.status).toBe(202);
    expect(instructor.seen.at(-1)).toMatchObject({
      method: 'POST',
      url: '/v1/contexts/ctx-1/runs',
      body: { datasetVersionId: 'dv-1', baseModel: 'tiny', hyperparameters: { max_steps: 10 } },
    });
    const md = await call('GET', '/v1/runs/run-1/audit?format=md');
    expect(md.status).toBe(200);
    expect(md.headers.get('content-type')).toMatch(/^text\/markdown/);
    expect(await md.text()).toBe('# Audit report\n');
    expect(auditor.seen.at(-1)?.url).toBe('/v1/runs/run-1/audit?format=md');
    const bad = await call('GET', '/v1/audits/a-1?format=pdf');
    expect(bad.status).toBe(400);
  });

  it('forwards a re-audit to the auditor, without a body, and passes its state through', async () => {
    const res = await fetch(`${base}/v1/runs/run-1/audit`, { method: 'POST', headers: { ...auth } });
    expect(res.status).toBe(200);
    expect(auditor.seen.at(-1)).toMatchObject({ method: 'POST', url: '/v1/runs/run-1/audit', tenant: 'acme', body: undefined });
  });

  it('answers 503 with Retry-After and a problem naming the service and the cause when it is unreachable', async () => {
    const closed = createServer();
    const port = await new Promise<number>((resolve) =>
      closed.listen(0, '127.0.0.1', () => resolve((closed.address() as { port: number }).port)),
    );
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const moduleRef = await Test.createTestingModule({
      imports: [memoryKeysModule()],
      controllers: [RunsController],
      providers: [
        {
          provide: ServiceClient,
          useValue: new ServiceClient({ framer: '', ontology: '', instructor: `http://127.0.0.1:${port}`, auditor: '' }),
        },
      ],
    }).compile();
    const lonely = moduleRef.createNestApplication({ logger: false });
    applyHttpConventions(lonely);
    const key = bearer(await issueKey(lonely, 'acme', 'viewer'));
    await lonely.listen(0, '127.0.0.1');
    try {
      const res = await fetch(`${await lonely.getUrl()}/v1/runs/run-1`, { headers: key });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await res.json()).toMatchObject({
        title: 'Service Unavailable',
        status: 503,
        detail: `the instructor service is unreachable at http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`,
        service: 'instructor',
      });
    } finally {
      await lonely.close();
    }
  });

  it('answers 503 naming the service when it is unreachable', async () => {
    const client = new ServiceClient({
      framer: 'http://127.0.0.1:1',
      ontology: 'http://127.0.0.1:1',
      instructor: 'http://127.0.0.1:1',
      auditor: 'http://127.0.0.1:1',
    });
    await expect(client.forward('instructor', { method: 'GET', path: '/v1/runs/x', tenant: 'acme' })).rejects.toThrow(
      /the instructor service is unreachable at http:\/\/127\.0\.0\.1:1/,
    );
  });

  it('sends the service credential and the tenant on every call', async () => {
    const seen: Record<string, string | string[] | undefined>[] = [];
    const upstream = createServer((req, res) => {
      seen.push(req.headers);
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
      const token = 'gateway-test-service-token-0123456789abcdef';
      const client = new ServiceClient({ framer: url, ontology: url, instructor: url, auditor: url }, token);
      await client.forward('auditor', { method: 'GET', path: '/v1/audits/a', tenant: 'acme' });
      await client.forward('framer', { method: 'POST', path: '/v1/contexts', tenant: 'globex', body: {} });
      expect(seen.map((h) => [h['x-studio-service-token'], h['x-tenant-id']])).toEqual([
        [token, 'acme'],
        [token, 'globex'],
      ]);
    } finally {
      await new Promise<void>((resolve) => upstream.close(() => resolve()));
    }
  });

  it('keeps JSON lines as text and parses JSON and problem JSON', async () => {
    const answers: Record<string, [string, string]> = {
      '/jsonl': ['application/jsonl; charset=utf-8', '{"a":1}\n{"a":2}\n'],
      '/json': ['application/json; charset=utf-8', '{"a":1}'],
      '/problem': ['application/problem+json', '{"detail":"no such thing"}'],
    };
    const upstream = createServer((req, res) => {
      const [type, body] = answers[req.url ?? ''] ?? ['text/plain', ''];
      res.statusCode = req.url === '/problem' ? 404 : 200;
      res.setHeader('content-type', type);
      res.end(body);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
      const client = new ServiceClient({ framer: url, ontology: url, instructor: url, auditor: url, 'reward-model': url });
      expect((await client.forward('reward-model', { method: 'GET', path: '/jsonl', tenant: 'acme' })).body).toBe('{"a":1}\n{"a":2}\n');
      expect((await client.forward('reward-model', { method: 'GET', path: '/json', tenant: 'acme' })).body).toEqual({ a: 1 });
      await expect(client.forward('reward-model', { method: 'GET', path: '/problem', tenant: 'acme' })).rejects.toMatchObject({
        response: { detail: 'no such thing' },
      });
      // A gateway without the reward-model service's URL says so.
      const without = new ServiceClient({ framer: url, ontology: url, instructor: url, auditor: url });
      await expect(without.forward('reward-model', { method: 'GET', path: '/json', tenant: 'acme' })).rejects.toThrow(/REWARD_MODEL_URL/);
    } finally {
      await new Promise<void>((resolve) => upstream.close(() => resolve()));
    }
  });
});
