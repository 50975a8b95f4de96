import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  AUDIT_VERDICT_ISSUED_V1,
  CLAUSES_INDEXED_V1,
  DATASET_VERSION_PUBLISHED_V1,
  DOCUMENT_FRAMED_V1,
  type CloudEvent,
  type Topic,
} from '@studio/contracts';
import { describeWithServers, uniqueName } from '@studio/testing';
import OpenAI from 'openai';
import { RUNTIME_EXECUTABLE, runtimeInstalled } from './harness/runtime-process';
import { WORKSPACE_ROOT, type ServiceName } from './harness/service-process';
import { Stack, type Json } from './harness/stack';

/**
 * The aligned model behind the gateway, end to end: the example policy is framed and indexed, a
 * dataset generated, the tiny model trained and audited (as in distributed-pipeline.int-spec),
 * then the adapter is deployed — refused without a PASS verdict, allowed with an admin's override
 * and its reason, which the audit log keeps — and the official `openai` clients (npm and Python)
 * chat with it through the gateway, plain and streamed, and get citations of the context's
 * clauses; another tenant's key does not see the model.
 */
const EXAMPLE = join(WORKSPACE_ROOT, 'examples/northwind-conduct');
const POLICY = readFileSync(join(EXAMPLE, 'policy.md'), 'utf8');
const VALUES = JSON.parse(readFileSync(join(EXAMPLE, 'values.json'), 'utf8')) as unknown;
const PYTHON = join(WORKSPACE_ROOT, 'apps/model-runtime/.venv/bin/python');
const PYTHON_CLIENT = join(WORKSPACE_ROOT, 'e2e/scripts/openai_chat.py');
const PIPELINE = ['gateway', 'framer', 'ontology', 'instructor', 'auditor'] as const satisfies readonly ServiceName[];
const TENANT = 'acme';
const OTHER_TENANT = 'globex';
const QUESTION = 'May I accept a gift from a supplier?';
/** The tenants' chat rate limit here: above what the tests of one tenant send, low enough to reach. */
const CHAT_PER_MINUTE = 10;

interface Citation {
  index: number;
  clauseId: string;
  numbering: string;
  citation: string;
  text: string;
  cited: boolean;
}

describeWithServers(
  ['KAFKA_BROKERS', 'MONGO_URL', 'REDIS_URL', 'QDRANT_URL'],
  'chat with a deployed adapter through the gateway',
  (urls) => {
    if (!runtimeInstalled()) {
      if (process.env['CI'] === 'true') {
        it('needs the model runtime', () => {
          throw new Error(`the model runtime is not installed (${RUNTIME_EXECUTABLE} is missing): CI must run scripts/setup.sh first`);
        });
      } else {
        it.skip(`skipped: the model runtime is not installed (${RUNTIME_EXECUTABLE} is missing)`, () => undefined);
      }
      return;
    }

    const contextId = uniqueName('chat');
    let stack: Stack;
    let clauseIds: string[] = [];
    let runId = '';
    let auditRunId = '';
    const keys = { admin: '', operator: '', viewer: '', other: '' };

    const as = (key: string) => ({ authorization: `Bearer ${key}` });
    const call = (method: string, path: string, body?: unknown, key = keys.admin) => stack.call(method, path, body, 'gateway', as(key));
    const waitForEvent = (topic: Topic, what: string, match: (event: CloudEvent<Json>) => boolean, timeoutMs: number) =>
      stack.waitForEvent(topic, what, (e) => e.data['contextId'] === contextId && match(e), timeoutMs);
    const openai = (key: string) => new OpenAI({ baseURL: `${stack.url('gateway')}/v1`, apiKey: key, maxRetries: 0, timeout: 120_000 });

    /** The citations are clauses of the context, numbered in order, each cited inline in the answer. */
    const expectGrounded = (content: string, citations: Citation[] | undefined) => {
      expect(citations?.length).toBeGreaterThan(0);
      for (const [i, c] of (citations ?? []).entries()) {
        expect(clauseIds).toContain(c.clauseId);
        expect(c).toMatchObject({ index: i + 1, citation: `§${c.numbering}`, text: expect.any(String) });
      }
      expect((citations ?? []).some((c) => content.includes(c.citation))).toBe(true);
    };

    beforeAll(async () => {
      stack = await Stack.start({
        servers: urls,
        services: PIPELINE,
        runtimes: ['serve', 'worker'],
        tenant: TENANT,
        prefix: 'chat',
        env: (name): Record<string, string> =>
          name === 'gateway'
            ? { CHAT_SAMPLE_RATE: '1', CHAT_MAX_TOKENS: '24', RATE_LIMIT_CHAT_PER_MINUTE: String(CHAT_PER_MINUTE) }
            : name === 'auditor'
              ? {
                  AUDIT_MAX_ITEMS: '6',
                  AUDIT_MAX_ATTACKS: '4',
                  AUDIT_MAX_BENIGN: '2',
                  AUDIT_MAX_GENERAL_ABILITY: '2',
                  AUDIT_MAX_TOKENS: '32',
                }
              : {},
      });
      keys.admin = await stack.keyFor(TENANT, 'admin');
      keys.operator = await stack.keyFor(TENANT, 'operator');
      keys.viewer = await stack.keyFor(TENANT, 'viewer');
      keys.other = await stack.keyFor(OTHER_TENANT, 'admin');
    }, 240_000);

    afterAll(async () => {
      if (runId) stack?.rememberJob('training', runId);
      if (auditRunId) stack?.rememberJob('evaluation', auditRunId);
      await stack?.stop();
    }, 60_000);

    it('trains and audits an adapter of the example policy (framing, indexing, dataset, tiny model)', async () => {
      expect((await call('POST', '/v1/contexts', { id: contextId, name: 'Northwind conduct', values: VALUES })).status).toBe(201);
      const upload = await call('POST', `/v1/contexts/${contextId}/documents`, {
        filename: 'policy.md',
        mediaType: 'text/markdown',
        content: POLICY,
      });
      expect(upload.status).toBe(202);
      const documentId = String(upload.body['documentId']);
      const framed = await waitForEvent(DOCUMENT_FRAMED_V1, documentId, (e) => e.data['documentId'] === documentId, 60_000);
      clauseIds = framed.data['clauseIds'] as string[];
      await waitForEvent(CLAUSES_INDEXED_V1, documentId, (e) => e.data['documentId'] === documentId, 90_000);
      const dataset = await call('POST', `/v1/contexts/${contextId}/datasets`, { seed: 42 });
      expect(dataset.status).toBe(201);
      const datasetVersionId = String(dataset.body['id']);
      await waitForEvent(DATASET_VERSION_PUBLISHED_V1, datasetVersionId, (e) => e.data['datasetVersionId'] === datasetVersionId, 30_000);
      const request = { datasetVersionId, baseModel: 'tiny', hyperparameters: { max_steps: 4, batch_size: 4, max_seq_length: 256 } };
      const started = await stack.waitFor(
        'the instructor did not accept the run',
        async () => {
          const res = await call('POST', `/v1/contexts/${contextId}/runs`, request);
          return res.status === 409 ? null : res;
        },
        30_000,
        500,
      );
      expect(started.status).toBe(202);
      runId = String(started.body['id']);
      await stack.waitFor(
        'the run did not complete',
        async () => {
          const res = await call('GET', `/v1/runs/${runId}`);
          if (res.body['state'] === 'failed') throw new Error(`the run failed: ${String(res.body['error'])}`);
          return res.body['state'] === 'completed';
        },
        150_000,
        500,
      );
      const verdict = await waitForEvent(AUDIT_VERDICT_ISSUED_V1, runId, (e) => e.data['runId'] === runId, 150_000);
      auditRunId = String(verdict.data['auditRunId']);
      // Four steps of a tiny random model do not learn the policy: the audit fails, which the deployment rules need here.
      expect(verdict.data['verdict']).toBe('fail');
    }, 420_000);

    it('refuses to deploy an adapter whose audit did not pass; an admin deploys it with a reason, kept in the audit log', async () => {
      if (!runId) throw new Error('no audited run');
      const operator = await call('POST', `/v1/contexts/${contextId}/deployments`, { runId }, keys.operator);
      expect(operator.status).toBe(409);
      expect(String(operator.body['detail'])).toMatch(/issued the verdict FAIL/);
      expect((await call('POST', `/v1/contexts/${contextId}/deployments`, { runId })).status).toBe(409);
      const reason = 'Internal pilot: answers are reviewed by the compliance team';
      expect((await call('POST', `/v1/contexts/${contextId}/deployments`, { runId, override: { reason } }, keys.operator)).status).toBe(
        403,
      );
      expect((await call('POST', `/v1/contexts/${contextId}/deployments`, { runId, override: { reason } }, keys.viewer)).status).toBe(403);
      expect((await call('GET', `/v1/contexts/${contextId}/deployment`)).status).toBe(404);

      const deployed = await call('POST', `/v1/contexts/${contextId}/deployments`, { runId, override: { reason } });
      expect({ status: deployed.status, body: deployed.status === 201 ? null : deployed.body }).toEqual({ status: 201, body: null });
      expect(deployed.body).toMatchObject({ id: contextId, runId, audit: { auditRunId, verdict: 'fail' }, override: { reason } });
      expect((await call('GET', `/v1/contexts/${contextId}/deployment`, undefined, keys.viewer)).body['deploymentId']).toBe(
        deployed.body['deploymentId'],
      );
      const log = await call('GET', '/v1/audit-log?action=deployment.overridden');
      expect(log.status).toBe(200);
      const entries = JSON.stringify(log.body);
      expect(entries).toContain(reason);
      expect(entries).toContain(String(deployed.body['deploymentId']));
      expect((await call('GET', `/v1/contexts/${contextId}/deployments`)).body['deployments']).toEqual([
        expect.objectContaining({ id: deployed.body['deploymentId'], override: { reason } }),
      ]);
    }, 120_000);

    it('the npm openai client lists the model and chats with it, plain and streamed, with citations', async () => {
      const client = openai(keys.operator);
      expect((await client.models.list()).data.map((m) => m.id)).toEqual([contextId]);

      const completion = await client.chat.completions.create({
        model: contextId,
        messages: [{ role: 'user', content: QUESTION }],
        max_tokens: 24,
        temperature: 0,
      });
      const content = completion.choices[0]?.message.content ?? '';
      expect(completion.model).toBe(contextId);
      expectGrounded(content, (completion as unknown as { citations?: Citation[] }).citations);

      const stream = await client.chat.completions.create({
        model: contextId,
        messages: [{ role: 'user', content: QUESTION }],
        max_tokens: 24,
        temperature: 0,
        stream: true,
      });
      let streamed = '';
      let citations: Citation[] | undefined;
      let finish: string | null = null;
      let chunks = 0;
      for await (const chunk of stream) {
        chunks += 1;
        streamed += chunk.choices[0]?.delta.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        citations = (chunk as unknown as { citations?: Citation[] }).citations ?? citations;
      }
      expect(chunks).toBeGreaterThan(2);
      expect(finish).toEqual(expect.any(String));
      expectGrounded(streamed, citations);
      // Greedy decoding, the same prompt: the same answer, streamed or not.
      expect(streamed).toBe(content);
    }, 120_000);

    it('the Python openai client chats with it, plain and streamed, with citations', async () => {
      const { stdout } = await promisify(execFile)(PYTHON, [PYTHON_CLIENT, contextId, QUESTION], {
        env: { ...process.env, OPENAI_BASE_URL: `${stack.url('gateway')}/v1`, OPENAI_API_KEY: keys.operator },
        timeout: 120_000,
      });
      const result = JSON.parse(stdout) as {
        models: string[];
        completion: { content: string; citations: Citation[] };
        stream: { content: string; citations: Citation[]; finish_reason: string | null };
        missing: { status: number; body: unknown };
      };
      expect(result.models).toEqual([contextId]);
      expectGrounded(result.completion.content, result.completion.citations);
      expectGrounded(result.stream.content, result.stream.citations);
      expect(result.stream.content).toBe(result.completion.content);
      expect(result.missing.status).toBe(404);
      expect(JSON.stringify(result.missing.body)).toContain('model_not_found');
    }, 180_000);

    it("another tenant's key does not see the model: 404 OpenAI-shaped, an empty model list", async () => {
      const client = openai(keys.other);
      expect((await client.models.list()).data).toEqual([]);
      await expect(
        client.chat.completions.create({ model: contextId, messages: [{ role: 'user', content: QUESTION }], max_tokens: 4 }),
      ).rejects.toMatchObject({ status: 404, code: 'model_not_found', type: 'invalid_request_error' });
      const raw = await call(
        'POST',
        '/v1/chat/completions',
        { model: contextId, messages: [{ role: 'user', content: QUESTION }] },
        keys.other,
      );
      expect(raw.body).toEqual({
        error: { message: expect.stringContaining(contextId), type: 'invalid_request_error', code: 'model_not_found', param: null },
      });
      const anonymous = await stack.call('POST', '/v1/chat/completions', { model: contextId, messages: [] }, 'gateway', {}, 'anonymous');
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(anonymous.body).toMatchObject({ error: { code: 'invalid_api_key', param: null } });
      const viewer = await call(
        'POST',
        '/v1/chat/completions',
        { model: contextId, messages: [{ role: 'user', content: QUESTION }] },
        keys.viewer,
      );
      expect(viewer.status).toBe(403);
      expect(viewer.body).toMatchObject({ error: { type: 'permission_error', message: expect.stringContaining('models:query') } });
      expect((await call('GET', `/v1/contexts/${contextId}/deployment`, undefined, keys.other)).status).toBe(404);
    }, 60_000);

    it("refuses a tenant over its chat rate limit with an OpenAI-shaped 429 and Retry-After; another tenant's chats go on", async () => {
      const ask = (key: string) =>
        call('POST', '/v1/chat/completions', { model: contextId, messages: [{ role: 'user', content: QUESTION }], max_tokens: 4 }, key);
      let limited: Awaited<ReturnType<typeof ask>> | null = null;
      for (let i = 0; i < CHAT_PER_MINUTE + 1 && !limited; i++) {
        const res = await ask(keys.other);
        if (res.status === 429) limited = res;
      }
      expect(limited?.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(limited?.body).toMatchObject({ error: { type: 'rate_limit_error', code: 'rate_limit_exceeded', param: null } });
      expect((await ask(keys.operator)).status).toBe(200);
    }, 60_000);

    it('stores the sampled conversations (CHAT_SAMPLE_RATE=1) for post-deployment audits', async () => {
      type Stored = { stream: boolean; messages: { content: string }[]; citations: unknown[] };
      // npm: plain and streamed; Python: plain and streamed; the one after the other tenant's 429. A conversation
      // is written after its answer has gone, so the last one may still be on its way.
      const conversations = await stack.waitFor(
        'the sampled conversations were not all stored',
        async () => {
          const res = await call('GET', `/v1/contexts/${contextId}/conversations?limit=10`, undefined, keys.operator);
          expect(res.status).toBe(200);
          const stored = res.body['conversations'] as Stored[];
          return stored.length >= 5 ? stored : null;
        },
        10_000,
      );
      expect(conversations.length).toBe(5);
      expect(conversations.filter((c) => c.stream).length).toBe(2);
      for (const c of conversations) {
        expect(c.messages).toEqual([{ role: 'user', content: QUESTION }]);
        expect(c.citations.length).toBeGreaterThan(0);
      }
      expect((await call('GET', `/v1/contexts/${contextId}/conversations`, undefined, keys.viewer)).status).toBe(403);
    }, 30_000);
  },
);
