import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { DatabaseSync } from 'node:sqlite';
import { type CanActivate, type ExecutionContext, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { CHAT_CONVERSATION_SAMPLED_V1, ChatConversationSampledV1, type CloudEvent } from '@studio/contracts';
import { InProcessEventBus, SqliteRepository } from '@studio/inproc';
import { EVENT_BUS } from '@studio/nest';
import { tenantId } from '@studio/ports';
import type { AuthenticatedRequest } from '../auth/principal';
import { isRole } from '../auth/permissions';
import { applyHttpConventions } from '../http/problem-details';
import { ServiceClient } from '../upstream/service-client';
import { CONVERSATIONS, CURRENT_DEPLOYMENTS, DEPLOYMENT_HISTORY, type CurrentDeployment } from './chat-schemas';
import { ChatController } from './chat.controller';
import { CHAT_SETTINGS, ChatService, CONVERSATIONS_REPOSITORY, type ChatSettings } from './chat.service';
import {
  CURRENT_DEPLOYMENTS_REPOSITORY,
  DEPLOYMENT_AUDIT_LOG,
  DEPLOYMENT_HISTORY_REPOSITORY,
  Deployments,
  type DeploymentAuditLog,
} from './deployments';
import { DEPLOYMENT_CACHE_SETTINGS, type DeploymentCacheSettings } from './deployment-cache';
import { DeploymentsController } from './deployments.controller';
import { MODEL_SERVER, ModelServer } from './model-server';

/** The caller from test headers (the real AuthGuard derives it from a credential; here the routes' behaviour is under test). */
class TestCaller implements CanActivate {
  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
    const role = String(req.headers['x-test-role'] ?? 'admin');
    if (!isRole(role)) throw new Error(`unknown test role ${role}`);
    const tenant = String(req.headers['x-test-tenant'] ?? 'acme');
    req.principal = { subject: `key:${role}`, name: `${role} key`, tenant, role, via: 'api-key', keyId: role };
    return true;
  }
}

const listen = (s: Server) =>
  new Promise<string>((resolve) => s.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(s.address() as { port: number }).port}`)));

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => resolve(raw ? JSON.parse(raw) : undefined));
  });
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const CLAUSES = [
  { clauseId: 'c-gifts', numbering: '3.2.1', text: 'Employees must not accept gifts above $100.', score: 0.03 },
  { clauseId: 'c-travel', numbering: '4.1', text: 'Travel is booked through the travel desk.', score: 0.02 },
];

describe('deployments and the OpenAI-compatible chat', () => {
  let app: INestApplication;
  let base: string;
  const audited: { entry: Parameters<DeploymentAuditLog['record']>[0] }[] = [];
  const verdicts: Record<string, unknown> = {
    'run-fail': { auditRunId: 'audit-f', verdict: 'fail', stale: null },
    'run-pass': { auditRunId: 'audit-p', verdict: 'pass', stale: null },
    'run-stale': { auditRunId: 'audit-s', verdict: 'pass', stale: { since: '2026-01-01T00:00:00Z' } },
  };
  const retrieved: unknown[] = [];
  // The owning services behind one fake: instructor runs, auditor verdicts, framer datasets, ontology retrieval.
  const services = createServer((req, res) => {
    void readBody(req).then((body) => {
      const url = req.url ?? '';
      const tenant = req.headers['x-tenant-id'];
      let m = /^\/v1\/runs\/([^/]+)$/.exec(url);
      if (m) {
        const id = m[1] as string;
        if (tenant !== 'acme' || !['run-fail', 'run-pass', 'run-stale', 'run-running', 'run-other'].includes(id))
          return json(res, 404, { message: `training run "${id}" not found` });
        const completed = id !== 'run-running';
        return json(res, 200, {
          id,
          contextId: id === 'run-other' ? 'other-ctx' : 'ctx-1',
          state: completed ? 'completed' : 'running',
          datasetVersionId: 'dv-1',
          baseModel: 'tiny',
          adapterId: completed ? `adapter-${id}` : null,
          adapter: completed ? { id: `adapter-${id}`, artifactDir: `/artifacts/${id}` } : null,
        });
      }
      m = /^\/v1\/runs\/([^/]+)\/audit/.exec(url);
      if (m) {
        const verdict = verdicts[m[1] as string];
        return verdict ? json(res, 200, verdict) : json(res, 404, { message: 'no audit' });
      }
      if (url === '/v1/contexts/ctx-1/datasets/dv-1')
        return json(res, 200, { id: 'dv-1', systemPrompt: 'You follow the Northwind policy.' });
      if (url === '/v1/contexts/ctx-1/retrieve') {
        retrieved.push(body);
        return json(res, 200, { clauses: CLAUSES });
      }
      return json(res, 404, { message: `no route ${url}` });
    });
  });
  // The model server: loads adapters by name, answers chats (plain and streamed) with a fixed text.
  const loaded = new Set<string>();
  const loads: string[] = [];
  const chats: { model: string; messages: { role: string; content: string }[]; max_tokens?: number; stream?: boolean }[] = [];
  let answerText = 'You may not accept it.';
  const modelServer = createServer((req, res) => {
    void readBody(req).then((raw) => {
      const body = raw as { lora_name: string; lora_path: string } & (typeof chats)[number];
      if (req.url === '/v1/load_lora_adapter') {
        loads.push(`${body.lora_name}@${body.lora_path}`);
        loaded.add(body.lora_name);
        return json(res, 200, { status: 'ok' });
      }
      if (req.url !== '/v1/chat/completions') return json(res, 404, { error: { message: 'no route' } });
      if (!loaded.has(body.model))
        return json(res, 404, {
          error: { message: `The model \`${body.model}\` does not exist.`, type: 'NotFoundError', code: 'model_not_found' },
        });
      chats.push(body);
      if (!body.stream)
        return json(res, 200, {
          id: 'x',
          model: body.model,
          choices: [{ message: { content: answerText }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 20, completion_tokens: 5 },
        });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const words = answerText.split(/(?<= )/);
      for (const w of words) res.write(`data: ${JSON.stringify({ choices: [{ delta: { content: w }, finish_reason: null }] })}\n\n`);
      res.write(`data: ${JSON.stringify({ choices: [{ delta: {}, finish_reason: 'length' }] })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
  });
  const settings: ChatSettings = { retrievalK: 2, defaultMaxTokens: 64, sampleRate: 1, random: () => 0.5 };
  /** The deployment cache's clock: a test moves it past CHAT_DEPLOYMENT_CACHE_MS. */
  let clock = 0;
  const cacheSettings: DeploymentCacheSettings = { maxAgeMs: 5_000, now: () => clock };
  let current: SqliteRepository<CurrentDeployment>;
  /** The sampled conversations the chat published. */
  const sampled: CloudEvent<ChatConversationSampledV1>[] = [];
  const bus = new InProcessEventBus();
  bus.subscribe(CHAT_CONVERSATION_SAMPLED_V1, async (event) => void sampled.push(event));

  beforeAll(async () => {
    await bus.start();
    const servicesUrl = await listen(services);
    const llmUrl = await listen(modelServer);
    const db = new DatabaseSync(':memory:');
    current = new SqliteRepository(db, CURRENT_DEPLOYMENTS);
    const moduleRef = await Test.createTestingModule({
      controllers: [ChatController, DeploymentsController],
      providers: [
        {
          provide: ServiceClient,
          useValue: new ServiceClient({ framer: servicesUrl, ontology: servicesUrl, instructor: servicesUrl, auditor: servicesUrl }),
        },
        { provide: MODEL_SERVER, useValue: new ModelServer({ baseUrl: `${llmUrl}/v1`, timeoutMs: 10_000 }) },
        { provide: CHAT_SETTINGS, useValue: settings },
        { provide: DEPLOYMENT_HISTORY_REPOSITORY, useValue: new SqliteRepository(db, DEPLOYMENT_HISTORY) },
        { provide: CURRENT_DEPLOYMENTS_REPOSITORY, useValue: current },
        { provide: DEPLOYMENT_CACHE_SETTINGS, useValue: cacheSettings },
        { provide: CONVERSATIONS_REPOSITORY, useValue: new SqliteRepository(db, CONVERSATIONS) },
        {
          provide: DEPLOYMENT_AUDIT_LOG,
          useValue: { record: async (entry) => void audited.push({ entry }) } satisfies DeploymentAuditLog,
        },
        { provide: EVENT_BUS, useValue: bus },
        Deployments,
        ChatService,
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.useGlobalGuards(new TestCaller());
    applyHttpConventions(app);
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });
  afterAll(async () => {
    await app.close();
    await bus.stop();
    services.close();
    modelServer.close();
  });

  const call = async (method: string, path: string, body?: unknown, as: { role?: string; tenant?: string } = {}) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        'x-test-role': as.role ?? 'admin',
        'x-test-tenant': as.tenant ?? 'acme',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      text,
      body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  };

  it('refuses a run whose audit did not pass, a stale pass, a running run and another context’s run, naming why', async () => {
    const failed = await call('POST', '/v1/contexts/ctx-1/deployments', { runId: 'run-fail' }, { role: 'operator' });
    expect(failed.status).toBe(409);
    expect(failed.body['detail']).toMatch(/audit of training run "run-fail" \(audit-f\) issued the verdict FAIL.*override\.reason/);
    const stale = await call('POST', '/v1/contexts/ctx-1/deployments', { runId: 'run-stale' }, { role: 'operator' });
    expect(stale.status).toBe(409);
    expect(stale.body['detail']).toMatch(/passed but is stale/);
    const running = await call('POST', '/v1/contexts/ctx-1/deployments', { runId: 'run-running' }, { role: 'operator' });
    expect(running.status).toBe(409);
    expect(running.body['detail']).toMatch(/is running: only a completed run with an adapter can be deployed/);
    expect((await call('POST', '/v1/contexts/ctx-1/deployments', { runId: 'run-other' })).status).toBe(404);
    expect((await call('POST', '/v1/contexts/ctx-1/deployments', { runId: 'run-fail' }, { tenant: 'globex' })).status).toBe(404);
    const bad = await call('POST', '/v1/contexts/ctx-1/deployments', { runId: 'run-fail', override: { reason: 'x' } });
    expect(bad.status).toBe(400);
    expect(bad.body['detail']).toMatch(/override\.reason: must say why/);
    expect(audited).toEqual([]);
    expect((await call('GET', '/v1/contexts/ctx-1/deployment')).status).toBe(404);
  });

  it('lets an admin override a FAIL with a reason (an operator may not), recorded with before and after', async () => {
    const reason = 'Pilot with the compliance team, accepted by the CISO';
    const operator = await call(
      'POST',
      '/v1/contexts/ctx-1/deployments',
      { runId: 'run-fail', override: { reason } },
      { role: 'operator' },
    );
    expect(operator.status).toBe(403);
    expect(operator.body['detail']).toBe('the role operator does not have the permission deployments:override that this operation needs');
    const admin = await call('POST', '/v1/contexts/ctx-1/deployments', { runId: 'run-fail', override: { reason } });
    expect(admin.status).toBe(201);
    expect(admin.body).toMatchObject({
      id: 'ctx-1',
      runId: 'run-fail',
      adapterId: 'adapter-run-fail',
      audit: { auditRunId: 'audit-f', verdict: 'fail', stale: false },
      override: { reason },
      systemPrompt: 'You follow the Northwind policy.',
      deployedBy: { subject: 'key:admin', role: 'admin' },
    });
    expect(loads).toEqual(['adapter-run-fail@/artifacts/run-fail']);
    expect(audited.at(-1)?.entry).toMatchObject({
      actor: { subject: 'key:admin', tenant: 'acme' },
      action: 'deployment.overridden',
      target: 'context:ctx-1',
      before: null,
      after: { runId: 'run-fail', override: { reason } },
    });
  });

  it('deploys a passing run as the operator, the previous deployment as before; the history keeps both', async () => {
    const first = await call('GET', '/v1/contexts/ctx-1/deployment');
    const res = await call('POST', '/v1/contexts/ctx-1/deployments', { runId: 'run-pass' }, { role: 'operator' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ runId: 'run-pass', override: null, previousDeploymentId: first.body['deploymentId'] });
    expect(audited.at(-1)?.entry).toMatchObject({
      action: 'deployment.created',
      before: { deploymentId: first.body['deploymentId'], runId: 'run-fail' },
      after: { runId: 'run-pass', audit: { verdict: 'pass' } },
    });
    const again = await call('POST', '/v1/contexts/ctx-1/deployments', { runId: 'run-pass' }, { role: 'operator' });
    expect(again.status).toBe(200);
    expect(audited.length).toBe(2);
    const history = await call('GET', '/v1/contexts/ctx-1/deployments', undefined, { role: 'viewer' });
    expect((history.body['deployments'] as { runId: string }[]).map((d) => d.runId)).toEqual(['run-pass', 'run-fail']);
    expect((await call('GET', '/v1/contexts/ctx-1/deployment', undefined, { tenant: 'globex' })).status).toBe(404);
  });

  it('lists the tenant’s deployed models by context id, none for another tenant', async () => {
    const models = await call('GET', '/v1/models');
    expect(models.body).toEqual({
      object: 'list',
      data: [expect.objectContaining({ id: 'ctx-1', object: 'model', owned_by: 'acme', adapter_id: 'adapter-run-pass' })],
    });
    expect((await call('GET', '/v1/models', undefined, { tenant: 'globex' })).body['data']).toEqual([]);
  });

  it('answers a grounded chat with the adapter: the audit’s RAG prompt, citations and a sources line', async () => {
    const res = await call('POST', '/v1/chat/completions', {
      model: 'ctx-1',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'May I accept a $500 gift from a supplier?' }] }],
      max_tokens: 16,
      temperature: 0,
    });
    expect(res.status).toBe(200);
    // Each phase of the request, then the total (the guard's auth and ratelimit are not in this app).
    const phases = (res.headers.get('server-timing') ?? '').split(', ').map((p) => p.split(';dur=')[0]);
    expect(phases).toEqual(['validate', 'prompt', 'lookup', 'retrieve', 'model', 'answer', 'serialize', 'total']);
    expect(res.headers.get('server-timing')).toMatch(/^(?:[a-z-]+;dur=\d+\.\d\d(?:, |$))+$/);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(retrieved.at(-1)).toEqual({ question: 'May I accept a $500 gift from a supplier?', k: 2 });
    const sent = chats.at(-1);
    expect(sent).toMatchObject({ model: 'adapter-run-pass', max_tokens: 16, temperature: 0 });
    expect(sent?.messages[0]?.content).toBe(
      'You follow the Northwind policy.\n\nRelevant clauses:\n(§3.2.1) Employees must not accept gifts above $100.\n(§4.1) Travel is booked through the travel desk.',
    );
    expect(res.body).toMatchObject({
      object: 'chat.completion',
      model: 'ctx-1',
      choices: [
        { index: 0, message: { role: 'assistant', content: 'You may not accept it.\n\nSources: §3.2.1; §4.1.' }, finish_reason: 'stop' },
      ],
      usage: { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25 },
      citations: [
        { index: 1, clauseId: 'c-gifts', numbering: '3.2.1', citation: '§3.2.1', cited: false },
        { index: 2, clauseId: 'c-travel', numbering: '4.1', citation: '§4.1', cited: false },
      ],
    });
    const conversations = await call('GET', '/v1/contexts/ctx-1/conversations', undefined, { role: 'operator' });
    expect((conversations.body['conversations'] as unknown[])[0]).toMatchObject({
      id: res.body['id'],
      deploymentId: expect.any(String),
      messages: [{ role: 'user', content: 'May I accept a $500 gift from a supplier?' }],
      answer: 'You may not accept it.\n\nSources: §3.2.1; §4.1.',
      stream: false,
    });
    // Published for the auditor's drift scoring once the answer has gone: what was asked, the answer, the clauses with their text.
    for (let i = 0; i < 50 && !sampled.some((e) => e.data.conversationId === res.body['id']); i++)
      await new Promise((r) => setTimeout(r, 20));
    const event = sampled.find((e) => e.data.conversationId === res.body['id']);
    expect(event).toMatchObject({ tenantid: 'acme', partitionkey: 'ctx-1', subject: res.body['id'] });
    expect(ChatConversationSampledV1.parse(event?.data)).toEqual({
      version: 'v1',
      contextId: 'ctx-1',
      conversationId: res.body['id'],
      deploymentId: expect.any(String),
      runId: 'run-pass',
      adapterId: 'adapter-run-pass',
      auditRunId: expect.any(String),
      systemPrompt: 'You follow the Northwind policy.',
      messages: [{ role: 'user', content: 'May I accept a $500 gift from a supplier?' }],
      answer: 'You may not accept it.\n\nSources: §3.2.1; §4.1.',
      modelText: 'You may not accept it.',
      clauses: [
        { clauseId: 'c-gifts', numbering: '3.2.1', citation: '§3.2.1', text: 'Employees must not accept gifts above $100.', cited: false },
        { clauseId: 'c-travel', numbering: '4.1', citation: '§4.1', text: 'Travel is booked through the travel desk.', cited: false },
      ],
      finishReason: 'stop',
      stream: false,
      sampledAt: expect.any(String),
    });
  });

  it('streams chunks, the last one with the citations, then [DONE]; an answer citing a clause gets no sources line', async () => {
    answerText = 'No: gifts above $100 are refused (§3.2.1).';
    const res = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-test-role': 'curator' },
      body: JSON.stringify({ model: 'ctx-1', stream: true, messages: [{ role: 'user', content: 'Gifts?' }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await res.text()).split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.replace(/^data: /, '')) as { choices: { delta: { content?: string } }[] });
    expect(chunks[0]).toMatchObject({ object: 'chat.completion.chunk', model: 'ctx-1', choices: [{ delta: { role: 'assistant' } }] });
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(answerText);
    expect(chunks.at(-1)).toMatchObject({
      choices: [{ delta: {}, finish_reason: 'length' }],
      citations: [
        { clauseId: 'c-gifts', cited: true },
        { clauseId: 'c-travel', cited: false },
      ],
    });
    expect(chats.at(-1)).toMatchObject({ stream: true, max_tokens: 64 });
  });

  it('loads the adapter again when the model server has forgotten it (a restart)', async () => {
    loaded.clear();
    const before = loads.length;
    const res = await call('POST', '/v1/chat/completions', { model: 'ctx-1', messages: [{ role: 'user', content: 'Gifts?' }] });
    expect(res.status).toBe(200);
    expect(loads.slice(before)).toEqual(['adapter-run-pass@/artifacts/run-pass']);
  });

  it('serves a deployment made through this gateway at once, one made through another replica within CHAT_DEPLOYMENT_CACHE_MS', async () => {
    const ask = async () => {
      const res = await call('POST', '/v1/chat/completions', { model: 'ctx-1', messages: [{ role: 'user', content: 'Gifts?' }] });
      expect(res.status).toBe(200);
      return chats.at(-1)?.model;
    };
    // Here: the failed run again, by an admin's override; the next chat uses it.
    const reason = 'Back to the pilot adapter while the compliance team reviews';
    expect((await call('POST', '/v1/contexts/ctx-1/deployments', { runId: 'run-fail', override: { reason } })).status).toBe(201);
    expect(await ask()).toBe('adapter-run-fail');
    // Another replica makes run-pass current (it writes the shared database only).
    const mine = await current.get(tenantId('acme'), 'ctx-1');
    if (!mine) throw new Error('no current deployment');
    await current.upsert(tenantId('acme'), { ...mine, deploymentId: 'dep-elsewhere', runId: 'run-pass', adapterId: 'adapter-run-pass' });
    clock += 2_000;
    expect(await ask()).toBe('adapter-run-fail');
    clock += 3_000;
    expect(await ask()).toBe('adapter-run-pass');
    // The deployment API itself reads the database.
    expect((await call('GET', '/v1/contexts/ctx-1/deployment')).body['deploymentId']).toBe('dep-elsewhere');
  });

  it('answers OpenAI-shaped errors: another tenant’s model and an unknown one are 404, a bad request 400 naming the field', async () => {
    const other = await call(
      'POST',
      '/v1/chat/completions',
      { model: 'ctx-1', messages: [{ role: 'user', content: 'Hi' }] },
      { tenant: 'globex' },
    );
    expect(other.status).toBe(404);
    expect(other.body).toEqual({
      error: {
        message: "The model 'ctx-1' does not exist or is not deployed",
        type: 'invalid_request_error',
        code: 'model_not_found',
        param: null,
      },
    });
    for (const model of ['ctx-unknown', 'not a context id']) {
      const unknown = await call('POST', '/v1/chat/completions', { model, messages: [{ role: 'user', content: 'Hi' }] });
      expect({ status: unknown.status, code: (unknown.body['error'] as { code: string }).code }).toEqual({
        status: 404,
        code: 'model_not_found',
      });
    }
    const bad = await call('POST', '/v1/chat/completions', { model: 'ctx-1', messages: [{ role: 'tool', content: 'x' }] });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({
      error: { type: 'invalid_request_error', param: 'messages.0.role', message: expect.stringMatching(/messages\.0\.role/) },
    });
    const noUser = await call('POST', '/v1/chat/completions', { model: 'ctx-1', messages: [{ role: 'system', content: 'x' }] });
    expect(noUser.body).toMatchObject({ error: { param: 'messages', message: 'the conversation has no user message to answer' } });
  });

  it('answers when the sampled conversation cannot be published: the failure is only logged', async () => {
    const publish = jest.spyOn(bus, 'publish').mockRejectedValueOnce(new Error('broker down'));
    try {
      const res = await call('POST', '/v1/chat/completions', { model: 'ctx-1', messages: [{ role: 'user', content: 'Gifts again?' }] });
      expect(res.status).toBe(200);
      await new Promise((r) => setTimeout(r, 20));
      expect(publish).toHaveBeenCalledTimes(1);
      expect(sampled.some((e) => e.data.conversationId === res.body['id'])).toBe(false);
      // Stored all the same.
      const stored = await call('GET', '/v1/contexts/ctx-1/conversations', undefined, { role: 'operator' });
      expect((stored.body['conversations'] as { id: string }[]).map((c) => c.id)).toContain(res.body['id']);
    } finally {
      publish.mockRestore();
    }
  });
});
