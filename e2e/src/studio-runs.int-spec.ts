import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AUDIT_VERDICT_ISSUED_V1,
  CLAUSES_INDEXED_V1,
  DATASET_VERSION_PUBLISHED_V1,
  TRAINING_RUN_CANCELLED_V1,
  TRAINING_RUN_COMPLETED_V1,
  TRAINING_RUN_FAILED_V1,
  TRAINING_RUN_PROGRESS_V1,
  TRAIN_JOB,
  type CloudEvent,
  type Topic,
} from '@studio/contracts';
import { BullMqJobQueue } from '@studio/bullmq';
import { describeWithServers, uniqueName } from '@studio/testing';
import { RUNTIME_EXECUTABLE, runtimeInstalled } from './harness/runtime-process';
import { WORKSPACE_ROOT, type ServiceName } from './harness/service-process';
import { readSse, type SseMessage } from './harness/sse';
import { Stack, type Json } from './harness/stack';

/**
 * The studio's runs API through the real stack (gateway, framer, ontology, instructor, auditor as
 * processes; the tiny model served and trained by the model runtime): a run's live progress as
 * server-sent events from start to completion, cancelling a second run while it trains, compare
 * (a prompt, and a held-out item with the audit's scores), and the audit JSON the web app reads.
 */
const EXAMPLE = join(WORKSPACE_ROOT, 'examples/northwind-conduct');
const POLICY = readFileSync(join(EXAMPLE, 'policy.md'), 'utf8');
const VALUES = JSON.parse(readFileSync(join(EXAMPLE, 'values.json'), 'utf8')) as unknown;
const SERVICES = ['gateway', 'framer', 'ontology', 'instructor', 'auditor'] as const satisfies readonly ServiceName[];
const TENANT = 'acme';
const OTHER_TENANT = 'globex';
const BUCKETS = ['both_fine', 'only_base_right', 'only_aligned_right', 'both_fail'];

describeWithServers(
  ['KAFKA_BROKERS', 'MONGO_URL', 'REDIS_URL', 'QDRANT_URL'],
  'studio runs: live progress, cancel, compare, audit',
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

    const contextId = uniqueName('northwind-runs');
    let stack: Stack;
    let datasetVersionId = '';
    let completedRunId = '';
    const runIds: string[] = [];
    const startedAt = Date.now();

    const events = (topic: Topic) => stack.events(topic).filter((e) => e.data['contextId'] === contextId);
    const waitForEvent = (topic: Topic, what: string, match: (event: CloudEvent<Json>) => boolean, timeoutMs: number) =>
      stack.waitForEvent(topic, what, (e) => e.data['contextId'] === contextId && match(e), timeoutMs);
    const auth = async (tenant = TENANT, role: 'viewer' | 'operator' | 'admin' = 'viewer') => ({
      authorization: `Bearer ${await stack.keyFor(tenant, role)}`,
    });
    const follow = async (runId: string, options: Parameters<typeof readSse>[2], tenant = TENANT) =>
      readSse(`${stack.url('gateway')}/v1/runs/${runId}/events`, await auth(tenant), options);
    const startRun = async (hyperparameters: Record<string, unknown>): Promise<string> => {
      const res = await stack.waitFor(
        'the instructor did not accept the run',
        async () => {
          const r = await stack.call('POST', `/v1/contexts/${contextId}/runs`, { datasetVersionId, baseModel: 'tiny', hyperparameters });
          return r.status === 409 ? null : r;
        },
        30_000,
        500,
      );
      expect({ status: res.status, body: res.status === 202 ? '' : res.text }).toEqual({ status: 202, body: '' });
      const runId = String(res.body['id']);
      runIds.push(runId);
      stack.rememberJob('training', runId);
      return runId;
    };
    const step = (m: SseMessage) => (m.data as { step: number }).step;

    beforeAll(async () => {
      stack = await Stack.start({
        servers: urls,
        services: SERVICES,
        runtimes: ['serve', 'worker'],
        tenant: TENANT,
        prefix: 'e2e-runs',
        env: (name): Record<string, string> =>
          name === 'gateway'
            ? { RUN_EVENTS_HEARTBEAT_MS: '1000', RUN_EVENTS_RESYNC_MS: '5000' }
            : name === 'auditor'
              ? {
                  AUDIT_MAX_ITEMS: '4',
                  AUDIT_MAX_ATTACKS: '4',
                  AUDIT_MAX_BENIGN: '2',
                  AUDIT_MAX_GENERAL_ABILITY: '2',
                  AUDIT_MAX_TOKENS: '32',
                }
              : {},
      });
      // A framed, indexed policy and a dataset version to train on.
      expect((await stack.call('POST', '/v1/contexts', { id: contextId, name: 'Northwind', values: VALUES })).status).toBe(201);
      const upload = await stack.call('POST', `/v1/contexts/${contextId}/documents`, {
        filename: 'policy.md',
        mediaType: 'text/markdown',
        content: POLICY,
      });
      expect(upload.status).toBe(202);
      const documentId = String(upload.body['documentId']);
      await waitForEvent(CLAUSES_INDEXED_V1, documentId, (e) => e.data['documentId'] === documentId, 120_000);
      const dataset = await stack.call('POST', `/v1/contexts/${contextId}/datasets`, { seed: 7 });
      expect(dataset.status).toBe(201);
      datasetVersionId = String(dataset.body['id']);
      await waitForEvent(DATASET_VERSION_PUBLISHED_V1, datasetVersionId, (e) => e.data['datasetVersionId'] === datasetVersionId, 30_000);
    }, 300_000);

    afterAll(async () => {
      for (const e of events(AUDIT_VERDICT_ISSUED_V1)) stack?.rememberJob('evaluation', String(e.data['auditRunId']));
      await stack?.stop();
      console.info(`[runs e2e] wall time ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
    }, 60_000);

    it('streams a run from its state through its progress to completed, and the stream ends there', async () => {
      const runId = await startRun({ max_steps: 12, batch_size: 4, max_seq_length: 256 });
      // Another tenant does not see the run at all.
      const foreign = await follow(runId, { timeoutMs: 10_000 }, OTHER_TENANT);
      expect(foreign.status).toBe(404);
      expect(foreign.error).toMatch(/not found/);

      const began = Date.now();
      const receivedAt = new Map<string, number>();
      // Generous: the worker loads the model first, and CI machines are shared.
      const read = await follow(runId, { timeoutMs: 360_000, onMessage: (m) => void receivedAt.set(m.id, Date.now()) });
      expect(read.status).toBe(200);
      if (!read.closed) {
        const run = await stack.call('GET', `/v1/runs/${runId}`);
        throw new Error(
          `the stream did not end within 360 s; it sent ${read.messages.map((m) => `${m.event}:${m.id}`).join(', ')}; the run is ${run.text.slice(0, 400)}\n${stack.diagnostics()}`,
        );
      }
      const names = read.messages.map((m) => m.event);
      expect(names[0]).toBe('state');
      expect(names.at(-1)).toBe('completed');
      expect(names.filter((n) => !['state', 'progress'].includes(n))).toEqual(['completed']);
      const steps = read.messages.filter((m) => m.event === 'progress' && (m.data as { phase: string }).phase === 'step');
      expect(steps.length).toBeGreaterThan(0);
      // Steps arrive in order, each once; the curve has numbers and an ETA.
      const numbers = steps.map(step);
      expect(numbers).toEqual([...new Set(numbers)].sort((a, b) => a - b));
      expect(steps.at(-1)?.data).toMatchObject({ runId, totalSteps: 12, loss: expect.any(Number), etaS: expect.any(Number) });
      const completed = read.messages.at(-1)?.data as { runId: string; adapterId: string };
      expect(completed).toMatchObject({ runId, adapterId: expect.any(String) });
      // Delay from the instructor publishing an event to the client reading it (the observer has each event's time).
      const published = new Map(stack.events(TRAINING_RUN_PROGRESS_V1).map((e) => [e.id, Date.parse(e.time)]));
      const delays = steps
        .map((m) => (receivedAt.get(m.id) ?? NaN) - (published.get(m.id) ?? NaN))
        .filter((d) => Number.isFinite(d))
        .sort((a, b) => a - b);
      expect(delays.length).toBe(steps.length);
      console.info(
        `[runs e2e] live stream: ${read.messages.length} messages (${steps.length} step events), ${read.comments} heartbeats, ${((Date.now() - began) / 1000).toFixed(1)} s; ` +
          `event published → read by the client: p50 ${delays[Math.floor(delays.length / 2)]} ms, max ${delays.at(-1)} ms`,
      );

      // A late subscriber gets the finished run's state, and the stream ends at once.
      const late = await follow(runId, { timeoutMs: 10_000 });
      expect(late.messages.map((m) => m.event)).toEqual(['state']);
      expect(late.messages[0]?.data).toMatchObject({ id: runId, state: 'completed', step: 12, totalSteps: 12 });
      expect(late.closed).toBe(true);
      completedRunId = runId;

      const list = await stack.call('GET', `/v1/contexts/${contextId}/runs`, undefined, 'gateway', {}, { tenant: TENANT, role: 'viewer' });
      expect((list.body['runs'] as { id: string; state: string }[]).find((r) => r.id === runId)?.state).toBe('completed');
    }, 420_000);

    it('cancels a run while it trains: the worker stops, the stream ends with cancelled, and the run stays cancelled', async () => {
      const runId = await startRun({ max_steps: 4_000, batch_size: 2, max_seq_length: 128, checkpoint_every_steps: 100_000 });
      // A viewer may not cancel.
      const refused = await stack.call('POST', `/v1/runs/${runId}/cancel`, undefined, 'gateway', {}, { tenant: TENANT, role: 'viewer' });
      expect(refused.status).toBe(403);
      let cancelAnswer: { status: number; body: Json } | null = null;
      let cancelledAtStep = 0;
      let cancelSentAt = 0;
      let cancelledEventAt = 0;
      const read = await follow(runId, {
        timeoutMs: 180_000,
        onMessage: async (m) => {
          if (m.event === 'cancelled') cancelledEventAt = Date.now();
          if (cancelAnswer || m.event !== 'progress' || (m.data as { phase: string }).phase !== 'step') return;
          cancelledAtStep = step(m);
          cancelSentAt = Date.now();
          cancelAnswer = await stack.call(
            'POST',
            `/v1/runs/${runId}/cancel`,
            undefined,
            'gateway',
            {},
            { tenant: TENANT, role: 'operator' },
          );
        },
      });
      expect(cancelAnswer).toMatchObject({ status: 200, body: { id: runId, state: 'cancelled' } });
      expect(read.closed).toBe(true);
      const last = read.messages.at(-1);
      expect(last?.event).toBe('cancelled');
      expect(last?.data).toMatchObject({ runId, cancelledBy: expect.stringMatching(/^key:/), totalSteps: 4_000 });
      expect(step(last as SseMessage)).toBeGreaterThanOrEqual(cancelledAtStep);
      await waitForEvent(TRAINING_RUN_CANCELLED_V1, runId, (e) => e.data['runId'] === runId, 10_000);

      // The worker stops training and fails the job as cancelled (no retry); the run stays cancelled, never failed or completed.
      const queue = new BullMqJobQueue({ redisUrl: urls.REDIS_URL, prefix: stack.queuePrefix });
      try {
        const job = await stack.waitFor(
          'the training worker did not stop the cancelled job',
          async () => {
            const status = await queue.status(TRAIN_JOB, runId);
            return status?.state === 'cancelled' ? status : null;
          },
          30_000,
          500,
        );
        expect(job.failedReason).toBe(`run ${runId} was cancelled`);
        expect(job.attemptsMade).toBe(1);
        console.info(
          `[runs e2e] cancel: the cancelled event reached the stream ${cancelledEventAt - cancelSentAt} ms after the request; the worker had stopped the job within ${Date.now() - cancelSentAt} ms`,
        );
      } finally {
        await queue.close();
      }
      // The instructor has had time to handle the job's failure event.
      await new Promise((r) => setTimeout(r, 5_000));
      const after = await stack.call('GET', `/v1/runs/${runId}`);
      expect(after.body).toMatchObject({ id: runId, state: 'cancelled', adapterId: null });
      expect(Number(after.body['step'])).toBeLessThan(4_000);
      expect(events(TRAINING_RUN_COMPLETED_V1).filter((e) => e.data['runId'] === runId)).toEqual([]);
      expect(events(TRAINING_RUN_FAILED_V1).filter((e) => e.data['runId'] === runId)).toEqual([]);
      const again = await stack.call('POST', `/v1/runs/${runId}/cancel`, undefined, 'gateway', {}, { tenant: TENANT, role: 'operator' });
      expect(again.status).toBe(409);
      expect(String(again.body['detail'])).toMatch(/is cancelled/);
    }, 240_000);

    it('compares base, aligned and aligned+RAG answers to a prompt and to a held-out item, with the audit’s scores', async () => {
      if (!completedRunId) throw new Error('no run completed');
      const runId = completedRunId;
      const compare = (body: Json) =>
        stack.call('POST', `/v1/contexts/${contextId}/compare`, body, 'gateway', {}, { tenant: TENANT, role: 'operator' });
      // The auditor knows the run once it has seen training.run.completed.
      const prompt = 'May I accept a gift from a supplier?';
      const began = Date.now();
      const answered = await stack.waitFor(
        'compare did not answer',
        async () => {
          const res = await compare({ runId, prompt });
          if (res.status === 404) return null;
          return res;
        },
        120_000,
        1_000,
      );
      const promptMs = Date.now() - began;
      expect({ status: answered.status, body: answered.status === 200 ? '' : answered.text }).toEqual({ status: 200, body: '' });
      expect(answered.body).toMatchObject({
        contextId,
        runId,
        question: prompt,
        heldOutItem: null,
        scores: null,
        models: { base: 'tiny' },
      });
      const answers = answered.body['answers'] as Record<string, string>;
      expect(Object.keys(answers).sort()).toEqual(['aligned', 'aligned_rag', 'base']);
      for (const text of Object.values(answers)) expect(typeof text).toBe('string');
      const retrieved = answered.body['retrieved'] as { clauseId: string; numbering: string; citation: string; text: string }[];
      expect(retrieved.length).toBeGreaterThan(0);
      expect(retrieved[0]?.citation).toBe(`§${retrieved[0]?.numbering}`);

      const heldOut = await stack.call(
        'GET',
        `/v1/contexts/${contextId}/datasets/${datasetVersionId}/held-out?limit=3`,
        undefined,
        'gateway',
        {},
        { tenant: TENANT, role: 'viewer' },
      );
      expect(heldOut.status).toBe(200);
      const items = heldOut.body['items'] as { id: string; question: string; reference: string; clauseIds: string[] }[];
      expect(items.length).toBeGreaterThan(0);
      expect(Number(heldOut.body['total'])).toBeGreaterThanOrEqual(items.length);
      const item = items[0] as (typeof items)[number];
      const scored = await compare({ runId, heldOutItemId: item.id });
      expect(scored.status).toBe(200);
      expect(scored.body).toMatchObject({ question: item.question, heldOutItem: { id: item.id, reference: item.reference } });
      const scores = scored.body['scores'] as {
        bucket: string;
        variants: Record<string, { correctness: number; right: boolean; answer: string }>;
      };
      expect(BUCKETS).toContain(scores.bucket);
      for (const variant of ['base', 'aligned', 'aligned_rag']) {
        expect(scores.variants[variant]?.correctness).toEqual(expect.any(Number));
        expect(scores.variants[variant]?.answer).toBe((scored.body['answers'] as Record<string, string>)[variant]);
      }
      // Bad requests name the problem; another tenant's run is unknown here.
      const both = await compare({ runId, prompt, heldOutItemId: item.id });
      expect(both.status).toBe(400);
      expect(String(both.body['detail'])).toMatch(/exactly one of prompt and heldOutItemId/);
      expect((await compare({ runId, heldOutItemId: 'no-such-item' })).status).toBe(404);
      const foreign = await stack.call(
        'POST',
        `/v1/contexts/${contextId}/compare`,
        { runId, prompt },
        'gateway',
        {},
        {
          tenant: OTHER_TENANT,
          role: 'admin',
        },
      );
      expect(foreign.status).toBe(404);
      console.info(`[runs e2e] compare of a prompt: ${promptMs} ms including waiting for the auditor to know the run`);
    }, 240_000);

    it('the audit JSON carries the verdict, gates, the four outcome buckets with their items and a per-clause compliance table', async () => {
      if (!completedRunId) throw new Error('no run completed');
      const verdict = await waitForEvent(AUDIT_VERDICT_ISSUED_V1, completedRunId, (e) => e.data['runId'] === completedRunId, 180_000);
      const res = await stack.call(
        'GET',
        `/v1/audits/${String(verdict.data['auditRunId'])}`,
        undefined,
        'gateway',
        {},
        {
          tenant: TENANT,
          role: 'viewer',
        },
      );
      expect(res.status).toBe(200);
      const body = res.body as {
        verdict: string;
        checks: { metric: string; passed: boolean }[];
        items: number;
        buckets: Record<string, number>;
        outcomes: Record<string, { count: number; items: { itemId: string; answers: Record<string, { right: boolean }> }[] }>;
        clauseCompliance: {
          clauseId: string;
          numbering: string | null;
          items: number;
          variants: Record<string, { complianceRate: number }>;
        }[];
      };
      expect(['pass', 'fail']).toContain(body.verdict);
      expect(body.checks.length).toBeGreaterThan(0);
      expect(Object.keys(body.outcomes).sort()).toEqual([...BUCKETS].sort());
      for (const bucket of BUCKETS) {
        expect(body.outcomes[bucket]?.count).toBe(body.buckets[bucket]);
        expect(body.outcomes[bucket]?.items).toHaveLength(body.buckets[bucket] ?? -1);
      }
      expect(Object.values(body.outcomes).reduce((n, b) => n + b.count, 0)).toBe(body.items);
      expect(body.clauseCompliance.length).toBeGreaterThan(0);
      for (const row of body.clauseCompliance) {
        expect(row.numbering).toEqual(expect.any(String));
        expect(row.items).toBeGreaterThan(0);
        expect(row.variants['aligned']?.complianceRate).toBeGreaterThanOrEqual(0);
      }
    }, 240_000);
  },
);
