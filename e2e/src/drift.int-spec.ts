import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import {
  AUDIT_DRIFT_DETECTED_V1,
  AUDIT_VERDICT_ISSUED_V1,
  CHAT_CONVERSATION_SAMPLED_V1,
  CLAUSES_INDEXED_V1,
  DATASET_VERSION_PUBLISHED_V1,
  DOCUMENT_FRAMED_V1,
  type CloudEvent,
  type Topic,
} from '@studio/contracts';
import { describeWithServers, uniqueName } from '@studio/testing';
import { TEST_ADMIN_API_KEY } from './harness/keys';
import { RUNTIME_EXECUTABLE, runtimeInstalled } from './harness/runtime-process';
import { freePort, WORKSPACE_ROOT, type ServiceName } from './harness/service-process';
import { Stack, type Json } from './harness/stack';

/**
 * Drift after deployment, in the distributed profile: the example policy is framed, a tiny model
 * trained, audited and deployed (admin override: four steps do not pass), then people chat with it
 * through the gateway's OpenAI-compatible endpoint, which samples every conversation
 * (CHAT_SAMPLE_RATE=1) as chat.conversation.sampled.v1. The auditor stores them and, once each
 * window (DRIFT_WINDOW_MS) has ended, its scheduled `score-drift` job scores the window against
 * the deployed run's release audit.
 *
 * How the degradation is produced: the gateway's model server is reached through a proxy in this
 * test. In the first window it passes every request to the real model server (the deployed tiny
 * adapter answers): a healthy window, which must raise nothing. Then the proxy stands for a model
 * that has degraded into stating the rules backwards: instead of asking the model it answers each
 * chat completion with the first retrieved clause of its grounded prompt that has a modal verb,
 * the modals turned round (must ↔ must not, may → must not, …), citing it — or, when no retrieved
 * clause has one, a text that permits and exempts. Those answers go back through the real chat
 * endpoint, are sampled and scored like any other, and the window's `consistency` (share of
 * answers contradicting no clause they are held to; release: the same share of the audit's
 * answers) falls below its release figure by more than its margin: audit.drift.detected.v1, once,
 * and the window is readable by a viewer at GET /v1/contexts/{c}/drift. (A refusing model is not
 * used: the four-step tiny model's release answers are empty, which already counts as refused.)
 */
const EXAMPLE = join(WORKSPACE_ROOT, 'examples/northwind-conduct');
const POLICY = readFileSync(join(EXAMPLE, 'policy.md'), 'utf8');
const VALUES = JSON.parse(readFileSync(join(EXAMPLE, 'values.json'), 'utf8')) as unknown;
// reward-model: every holder of tenant data must answer for a tenant's erasure.
const PIPELINE = ['gateway', 'framer', 'ontology', 'instructor', 'auditor', 'reward-model'] as const satisfies readonly ServiceName[];
const TENANT = 'acme';
const WINDOW_MS = 40_000;
const SETTLE_MS = 2_000;
const MIN_SAMPLES = 3;
const CHATS_PER_WINDOW = 6;
/** How every degraded answer opens (the rest states a retrieved rule backwards). */
const DEGRADED = 'As the policy puts it:';
/** When no retrieved clause has a modal verb: the degraded answer permits and exempts, whatever the rule. */
const PERMISSIVE = 'that is allowed and permitted. It is optional: you are not required to do anything about it.';
const MODALS = /\b(must not|shall not|may not|should not|cannot|must|shall|may|should)\b/giu;
const TURNED: Record<string, string> = {
  'must not': 'must',
  'shall not': 'shall',
  'may not': 'must',
  'should not': 'should',
  cannot: 'must',
  must: 'must not',
  shall: 'shall not',
  may: 'must not',
  should: 'should not',
};

/** The degraded answer to a grounded prompt: its first modal clause ("(§n) text" lines), modals turned round, cited. */
function degradedAnswer(messages: { role: string; content: string }[]): string {
  const prompt = messages.find((m) => m.role === 'system')?.content ?? '';
  for (const [, numbering, text] of prompt.matchAll(/^\(§([^)]+)\) (.+)$/gmu)) {
    if (text && new RegExp(MODALS.source, 'iu').test(text))
      return `${DEGRADED} ${text.replace(MODALS, (m) => TURNED[m.toLowerCase()] ?? m)} (§${numbering})`;
  }
  return `${DEGRADED} ${PERMISSIVE}`;
}
const QUESTIONS = [
  'May I accept a gift from a supplier?',
  'Can I take a speaking fee for a conference talk?',
  'Who approves business travel?',
  'May I use the company laptop for personal projects?',
  'What must I do if I see a conflict of interest?',
  'Can I share customer data with a partner?',
];

interface DriftWindow {
  window: { from: string; to: string; samples: number };
  status: string;
  drifted: string[];
  metrics: { name: string; release: number; observed: number; margin: number; drifted: boolean }[];
  eventId: string | null;
}

/** The model server as the gateway sees it: the real one, or — once degraded — one that refuses every chat. */
class DegradingProxy {
  degraded = false;
  /** Chat completions answered by the degraded stand-in, and passed to the model. */
  readonly counts = { degraded: 0, passed: 0 };
  private server: Server | null = null;

  constructor(private readonly target: () => string) {}

  async listen(port: number): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const isChat = req.method === 'POST' && (req.url ?? '').endsWith('/chat/completions');
        if (isChat && this.degraded) {
          this.counts.degraded += 1;
          const { model, messages } = JSON.parse(body.toString('utf8')) as { model: string; messages: { role: string; content: string }[] };
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              id: 'chatcmpl-degraded',
              object: 'chat.completion',
              created: Math.floor(Date.now() / 1000),
              model,
              choices: [{ index: 0, message: { role: 'assistant', content: degradedAnswer(messages) }, finish_reason: 'stop' }],
              usage: { prompt_tokens: 1, completion_tokens: 10, total_tokens: 11 },
            }),
          );
          return;
        }
        if (isChat) this.counts.passed += 1;
        const headers: Record<string, string> = {};
        for (const name of ['authorization', 'content-type', 'accept']) {
          const value = req.headers[name];
          if (typeof value === 'string') headers[name] = value;
        }
        void fetch(`${new URL(this.target()).origin}${req.url ?? '/'}`, {
          method: req.method ?? 'GET',
          headers,
          ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body }),
        })
          .then(async (upstream) => {
            res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
            res.end(Buffer.from(await upstream.arrayBuffer()));
          })
          .catch((error: unknown) => {
            res.writeHead(502, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ error: { message: `proxy: ${String(error)}` } }));
          });
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${port}/v1`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for the next window to begin, so that the chats that follow fall in one window. */
async function nextWindow(): Promise<Date> {
  const from = Math.ceil(Date.now() / WINDOW_MS) * WINDOW_MS;
  await sleep(from - Date.now() + 100);
  return new Date(from);
}

describeWithServers(
  ['KAFKA_BROKERS', 'MONGO_URL', 'REDIS_URL', 'QDRANT_URL'],
  'drift after deployment: sampled chat conversations scored against the release audit',
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

    const contextId = uniqueName('drift');
    let stack: Stack;
    let proxy: DegradingProxy;
    let runId = '';
    let auditRunId = '';
    let deploymentId = '';
    let healthyFrom: Date | null = null;
    const keys = { admin: '', operator: '', viewer: '' };

    const as = (key: string) => ({ authorization: `Bearer ${key}` });
    const call = (method: string, path: string, body?: unknown, key = keys.admin) => stack.call(method, path, body, 'gateway', as(key));
    const waitForEvent = (topic: Topic, what: string, match: (event: CloudEvent<Json>) => boolean, timeoutMs: number) =>
      stack.waitForEvent(topic, what, (e) => e.data['contextId'] === contextId && match(e), timeoutMs);
    const chat = async (question: string) => {
      const res = await call(
        'POST',
        '/v1/chat/completions',
        { model: contextId, messages: [{ role: 'user', content: question }], max_tokens: 16, temperature: 0 },
        keys.operator,
      );
      expect(res.status).toBe(200);
      return String((res.body['choices'] as { message: { content: string } }[])[0]?.message.content);
    };
    /** The window starting at `from`, once the auditor has scored it (GET /v1/contexts/{c}/drift, as a viewer). */
    const scoredWindow = (from: Date) =>
      stack.waitFor(
        `the window from ${from.toISOString()} was not scored`,
        async () => {
          const res = await call('GET', `/v1/contexts/${contextId}/drift`, undefined, keys.viewer);
          expect(res.status).toBe(200);
          return (res.body['windows'] as DriftWindow[]).find((w) => w.window.from === from.toISOString()) ?? null;
        },
        WINDOW_MS + SETTLE_MS + 30_000,
        1_000,
      );

    beforeAll(async () => {
      const proxyPort = await freePort();
      proxy = new DegradingProxy(() => stack.llmBaseUrl);
      const proxyUrl = await proxy.listen(proxyPort);
      stack = await Stack.start({
        servers: urls,
        services: PIPELINE,
        runtimes: ['serve', 'worker'],
        tenant: TENANT,
        prefix: 'drift',
        env: (name): Record<string, string> =>
          name === 'gateway'
            ? { CHAT_SAMPLE_RATE: '1', CHAT_MAX_TOKENS: '16', LLM_BASE_URL: proxyUrl }
            : name === 'auditor'
              ? {
                  AUDIT_MAX_ITEMS: '6',
                  AUDIT_MAX_TOKENS: '32',
                  DRIFT_WINDOW_MS: String(WINDOW_MS),
                  DRIFT_SETTLE_MS: String(SETTLE_MS),
                  DRIFT_MIN_SAMPLES: String(MIN_SAMPLES),
                }
              : {},
      });
      keys.admin = await stack.keyFor(TENANT, 'admin');
      keys.operator = await stack.keyFor(TENANT, 'operator');
      keys.viewer = await stack.keyFor(TENANT, 'viewer');
    }, 240_000);

    afterAll(async () => {
      if (runId) stack?.rememberJob('training', runId);
      if (auditRunId) stack?.rememberJob('evaluation', auditRunId);
      await stack?.stop();
      await proxy?.close();
    }, 60_000);

    it('trains, audits and deploys a tiny adapter of the example policy', async () => {
      expect((await call('POST', '/v1/contexts', { id: contextId, name: 'Northwind conduct', values: VALUES })).status).toBe(201);
      const upload = await call('POST', `/v1/contexts/${contextId}/documents`, {
        filename: 'policy.md',
        mediaType: 'text/markdown',
        content: POLICY,
      });
      expect(upload.status).toBe(202);
      const documentId = String(upload.body['documentId']);
      await waitForEvent(DOCUMENT_FRAMED_V1, documentId, (e) => e.data['documentId'] === documentId, 60_000);
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
      const verdict = await waitForEvent(AUDIT_VERDICT_ISSUED_V1, runId, (e) => e.data['runId'] === runId, 300_000);
      auditRunId = String(verdict.data['auditRunId']);
      const deployed = await call('POST', `/v1/contexts/${contextId}/deployments`, {
        runId,
        override: { reason: 'Drift test: the tiny model is deployed to watch it after deployment' },
      });
      expect(deployed.status).toBe(201);
      deploymentId = String(deployed.body['deploymentId']);
      expect(deployed.body).toMatchObject({ runId, audit: { auditRunId } });
    }, 480_000);

    it('a window of the model answering as it did at release is scored and raises no drift', async () => {
      if (!deploymentId) throw new Error('no deployment');
      healthyFrom = await nextWindow();
      for (const question of QUESTIONS.slice(0, CHATS_PER_WINDOW)) expect(await chat(question)).not.toContain(DEGRADED);
      expect(proxy.counts).toEqual({ degraded: 0, passed: CHATS_PER_WINDOW });
      expect(Date.now()).toBeLessThan(healthyFrom.getTime() + WINDOW_MS);
      const window = await scoredWindow(healthyFrom);
      console.info(`healthy window: ${JSON.stringify(window.metrics)}`);
      expect(window).toMatchObject({ status: 'scored', drifted: [], eventId: null, window: { samples: CHATS_PER_WINDOW } });
      expect(window.metrics.map((m) => m.name)).toEqual(expect.arrayContaining(['answered', 'consistency', 'faithfulness']));
      const consistency = window.metrics.find((m) => m.name === 'consistency');
      expect(consistency?.release).toBeGreaterThan(0.5);
      // Each of those chats was published as a sample.
      const samples = stack.events(CHAT_CONVERSATION_SAMPLED_V1).filter((e) => e.data['deploymentId'] === deploymentId);
      expect(samples).toHaveLength(CHATS_PER_WINDOW);
      expect(stack.events(AUDIT_DRIFT_DETECTED_V1).filter((e) => e.data['contextId'] === contextId)).toEqual([]);
    }, 180_000);

    it('a window of rule-contradicting answers from a degraded model raises audit.drift.detected.v1 once, readable by a viewer', async () => {
      if (!healthyFrom) throw new Error('no healthy window');
      proxy.degraded = true;
      const degradedFrom = await nextWindow();
      for (const question of QUESTIONS.slice(0, CHATS_PER_WINDOW)) expect(await chat(question)).toContain(DEGRADED);
      expect(proxy.counts.degraded).toBe(CHATS_PER_WINDOW);
      expect(Date.now()).toBeLessThan(degradedFrom.getTime() + WINDOW_MS);
      const event = await waitForEvent(
        AUDIT_DRIFT_DETECTED_V1,
        'the drift of the degraded window',
        (e) => e.data['deploymentId'] === deploymentId,
        WINDOW_MS + SETTLE_MS + 60_000,
      );
      // Not before the window had ended: the scheduled scoring raised it.
      expect(Date.parse(String(event.data['detectedAt']))).toBeGreaterThanOrEqual(degradedFrom.getTime() + WINDOW_MS);
      expect(event.data).toMatchObject({
        contextId,
        deploymentId,
        runId,
        auditRunId,
        window: {
          from: degradedFrom.toISOString(),
          to: new Date(degradedFrom.getTime() + WINDOW_MS).toISOString(),
          samples: CHATS_PER_WINDOW,
        },
      });
      console.info(`drift event: ${JSON.stringify(event.data)}`);
      const metrics = event.data['metrics'] as { name: string; release: number; observed: number; margin: number }[];
      expect(metrics).toContainEqual({ name: 'consistency', release: expect.any(Number), observed: expect.any(Number), margin: 0.15 });
      for (const m of metrics) expect(m.observed).toBeLessThan(m.release - m.margin);
      // Each degraded answer was sampled: what the window scored is what the chat endpoint answered.
      const degradedSamples = stack
        .events(CHAT_CONVERSATION_SAMPLED_V1)
        .filter((e) => e.data['deploymentId'] === deploymentId && String(e.data['modelText']).startsWith(DEGRADED));
      expect(degradedSamples).toHaveLength(CHATS_PER_WINDOW);

      const window = await scoredWindow(degradedFrom);
      expect(window).toMatchObject({ status: 'scored', eventId: event.id, drifted: expect.arrayContaining(['consistency']) });
      // Once per window, and none for the healthy one.
      await sleep(3_000);
      const raised = stack.events(AUDIT_DRIFT_DETECTED_V1).filter((e) => e.data['contextId'] === contextId);
      expect(raised.map((e) => (e.data['window'] as { from: string }).from)).toEqual([degradedFrom.toISOString()]);
      // Another tenant sees none of it.
      const other = await stack.keyFor('globex', 'admin');
      const foreign = await call('GET', `/v1/contexts/${contextId}/drift`, undefined, other);
      expect(foreign.body['windows']).toEqual([]);
    }, 180_000);

    it("erases the tenant's samples and drift windows with the tenant", async () => {
      const erased = await stack.call('DELETE', `/v1/admin/tenants/${TENANT}`, undefined, 'gateway', { 'x-admin-key': TEST_ADMIN_API_KEY });
      expect(erased.status).toBe(200);
      expect(erased.body).toMatchObject({ erased: { auditor: { records: { chatSamples: 2 * CHATS_PER_WINDOW, driftWindows: 2 } } } });
    }, 60_000);
  },
);
