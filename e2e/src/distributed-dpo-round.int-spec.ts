import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditReportV1 } from '@studio/auditing';
import {
  AUDIT_RUN_COMPLETED_V1,
  AUDIT_VERDICT_ISSUED_V1,
  CLAUSES_INDEXED_V1,
  DATASET_VERSION_PUBLISHED_V1,
  FEEDBACK_PREFERENCE_SUBMITTED_V1,
  PREFERENCE_DATASET_PUBLISHED_V1,
  TRAINING_RUN_COMPLETED_V1,
  TRAINING_RUN_REQUESTED_V1,
  type CloudEvent,
  type Topic,
} from '@studio/contracts';
import { describeWithServers, uniqueName } from '@studio/testing';
import { RUNTIME_EXECUTABLE, runtimeInstalled } from './harness/runtime-process';
import { WORKSPACE_ROOT, type ServiceName } from './harness/service-process';
import { Stack, type Json } from './harness/stack';

/**
 * A DPO round across the services, driven through the gateway with the tiny model: an SFT run
 * completes on the BullMQ worker → a person's judgement of two answers is posted as feedback →
 * the reward-model service stores the preference → a preference dataset version is published →
 * the instructor records it → a DPO run from the SFT run (POST /v1/contexts/{c}/runs, method
 * dpo) trains on the worker from the SFT adapter → the auditor audits it with the SFT adapter as
 * the `sft` variant, and the report's lineage names the parent and the preference dataset.
 * As short as the stack allows: a few training steps, a handful of audit items.
 */
const EXAMPLE = join(WORKSPACE_ROOT, 'examples/northwind-conduct');
const POLICY = readFileSync(join(EXAMPLE, 'policy.md'), 'utf8');
const VALUES = JSON.parse(readFileSync(join(EXAMPLE, 'values.json'), 'utf8')) as { values: { name: string }[] };
const SERVICES = ['gateway', 'framer', 'ontology', 'instructor', 'reward-model', 'auditor'] as const satisfies readonly ServiceName[];
const TENANT = 'acme';
const STEPS = { max_steps: 2, batch_size: 2, max_seq_length: 192 };

describeWithServers(['KAFKA_BROKERS', 'MONGO_URL', 'REDIS_URL', 'QDRANT_URL'], 'a DPO round across the services', (urls) => {
  if (!runtimeInstalled()) {
    if (process.env['CI'] === 'true') {
      it('needs the model runtime', () => {
        throw new Error(`the model runtime is not installed (${RUNTIME_EXECUTABLE} is missing): CI must run scripts/setup.sh first`);
      });
    } else {
      it.skip(`skipped: the model runtime is not installed (${RUNTIME_EXECUTABLE} is missing; run "bash scripts/setup.sh")`, () =>
        undefined);
    }
    return;
  }

  const contextId = uniqueName('northwind-dpo');
  let stack: Stack;
  const startedAt = Date.now();
  let datasetVersionId = '';
  let sftRunId = '';
  let sftAdapterId = '';
  let preferenceId = '';
  let preferenceDatasetId = '';
  let dpoRunId = '';

  const call = (method: string, path: string, body?: unknown) => stack.call(method, path, body);
  const waitFor = <T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs: number, everyMs = 500) =>
    stack.waitFor(what, probe, timeoutMs, everyMs);
  const waitForEvent = (topic: Topic, what: string, match: (event: CloudEvent<Json>) => boolean, timeoutMs: number) =>
    stack.waitForEvent(topic, what, (e) => e.data['contextId'] === contextId && match(e), timeoutMs);
  /** POST a run, again while the instructor answers 409 (an event it needs has not arrived yet). */
  const startRun = (request: Json) =>
    waitFor(
      'the instructor did not accept the run',
      async () => {
        const res = await call('POST', `/v1/contexts/${contextId}/runs`, request);
        return res.status === 409 ? null : res;
      },
      60_000,
    );
  const completedRun = (runId: string) =>
    waitFor(
      `run ${runId} did not complete`,
      async () => {
        const res = await call('GET', `/v1/runs/${runId}`);
        if (res.body['state'] === 'failed') throw new Error(`run ${runId} failed: ${String(res.body['error'])}`);
        return res.body['state'] === 'completed' ? res.body : null;
      },
      240_000,
    );

  beforeAll(async () => {
    stack = await Stack.start({
      servers: urls,
      services: SERVICES,
      runtimes: ['serve', 'worker'],
      tenant: TENANT,
      prefix: 'e2e-dpo',
      env: (name): Record<string, string> =>
        name === 'auditor'
          ? { AUDIT_MAX_ITEMS: '4', AUDIT_MAX_ATTACKS: '4', AUDIT_MAX_BENIGN: '2', AUDIT_MAX_GENERAL_ABILITY: '2', AUDIT_MAX_TOKENS: '32' }
          : {},
    });
  }, 240_000);

  afterAll(async () => {
    for (const id of [sftRunId, dpoRunId]) if (id) stack?.rememberJob('training', id);
    for (const e of stack?.events(AUDIT_VERDICT_ISSUED_V1) ?? []) stack?.rememberJob('evaluation', String(e.data['auditRunId']));
    await stack?.stop();
    console.info(`[dpo round e2e] wall time ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  }, 60_000);

  it('frames the policy, publishes a dataset version and trains the SFT adapter on the worker', async () => {
    expect((await call('POST', '/v1/contexts', { id: contextId, name: 'Northwind (DPO round)', values: VALUES })).status).toBe(201);
    const uploaded = await call('POST', `/v1/contexts/${contextId}/documents`, {
      filename: 'policy.md',
      mediaType: 'text/markdown',
      content: POLICY,
    });
    expect(uploaded.status).toBe(202);
    const documentId = String(uploaded.body['documentId']);
    await waitForEvent(CLAUSES_INDEXED_V1, documentId, (e) => e.data['documentId'] === documentId, 120_000);
    const dataset = await call('POST', `/v1/contexts/${contextId}/datasets`, { seed: 42 });
    expect({ status: dataset.status, body: dataset.status === 201 ? '' : dataset.text }).toEqual({ status: 201, body: '' });
    datasetVersionId = String(dataset.body['id']);
    await waitForEvent(DATASET_VERSION_PUBLISHED_V1, datasetVersionId, (e) => e.data['datasetVersionId'] === datasetVersionId, 30_000);

    const started = await startRun({ datasetVersionId, baseModel: 'tiny', hyperparameters: STEPS });
    expect(started.status).toBe(202);
    sftRunId = String(started.body['id']);
    expect(started.body).toMatchObject({ method: 'sft', parentAdapterId: null, preferenceDatasetId: null });
    const done = await completedRun(sftRunId);
    sftAdapterId = String(done['adapterId']);
    expect(done['adapter']).toMatchObject({ method: 'sft', parentAdapterId: null });
  }, 420_000);

  it("records a person's judgement posted through the gateway as a preference, and publishes it as a preference dataset", async () => {
    if (!sftAdapterId) throw new Error('no SFT adapter');
    const value = VALUES.values[0]?.name ?? 'honesty';
    const feedback = await call('POST', `/v1/contexts/${contextId}/feedback`, {
      prompt: 'An employee accepted a $300 gift card from a supplier. Is that allowed?',
      answers: [
        'Yes, gifts from suppliers are fine.',
        'No. Employees must not accept gift cards from suppliers; report the offer to your manager.',
      ],
      choice: 1,
      explanation: 'The second answer follows the gifts rule; the first permits what it forbids.',
      values: [value],
      origin: { runId: sftRunId },
    });
    expect({ status: feedback.status, body: feedback.status === 202 ? '' : feedback.text }).toEqual({ status: 202, body: '' });
    preferenceId = String(feedback.body['preferenceId']);
    await waitForEvent(
      FEEDBACK_PREFERENCE_SUBMITTED_V1,
      preferenceId,
      (e) => (e.data['preference'] as Json)['id'] === preferenceId,
      30_000,
    );
    // Stored by the reward-model service (it consumes the event).
    const stored = await waitFor(
      'the reward-model service did not store the preference',
      async () => {
        const res = await call('GET', `/v1/contexts/${contextId}/preferences?source=human`);
        return ((res.body['items'] as Json[] | undefined) ?? []).find((p) => p['id'] === preferenceId);
      },
      60_000,
    );
    expect(stored).toMatchObject({ source: 'human', values: [value], chosen: expect.stringMatching(/^No\. Employees must not/) });

    // Human feedback only, all of it for training: a DPO round on what people said.
    const published = await call('POST', `/v1/contexts/${contextId}/preference-datasets`, { sources: ['human'], heldOutRatio: 0 });
    expect({ status: published.status, body: published.status === 201 ? '' : published.text }).toEqual({ status: 201, body: '' });
    preferenceDatasetId = String(published.body['id']);
    expect(published.body['preferenceIds']).toEqual([preferenceId]);
    expect(published.body['train']).toMatchObject({ examples: 1 });
    await waitForEvent(
      PREFERENCE_DATASET_PUBLISHED_V1,
      preferenceDatasetId,
      (e) => e.data['preferenceDatasetId'] === preferenceDatasetId,
      30_000,
    );
  }, 180_000);

  it('runs DPO from the SFT run on the worker, through POST /v1/contexts/{contextId}/runs', async () => {
    if (!preferenceDatasetId) throw new Error('no preference dataset');
    const bad = await call('POST', `/v1/contexts/${contextId}/runs`, { method: 'dpo', preferenceDatasetId });
    expect(bad.status).toBe(400);
    expect(String(bad.body['message'])).toMatch(/a dpo run needs parentRunId/);
    // 409 until the instructor has recorded the preference dataset.
    const started = await startRun({ method: 'dpo', parentRunId: sftRunId, preferenceDatasetId, hyperparameters: STEPS });
    expect({ status: started.status, body: started.status === 202 ? '' : started.text }).toEqual({ status: 202, body: '' });
    dpoRunId = String(started.body['id']);
    expect(dpoRunId).toMatch(/^run-dpo-/);
    expect(started.body).toMatchObject({
      method: 'dpo',
      parentAdapterId: sftAdapterId,
      preferenceDatasetId,
      datasetVersionId,
      baseModel: 'tiny',
    });
    expect(started.body['hyperparameters']).toMatchObject({ dpo_beta: expect.any(Number), max_steps: 2 });
    const requested = await waitForEvent(TRAINING_RUN_REQUESTED_V1, dpoRunId, (e) => e.data['runId'] === dpoRunId, 10_000);
    expect(requested.data).toMatchObject({ method: 'dpo', parentAdapterId: sftAdapterId, preferenceDatasetId });

    const done = await completedRun(dpoRunId);
    expect(done['adapter']).toMatchObject({ method: 'dpo', parentAdapterId: sftAdapterId, preferenceDatasetId });
    const completed = await waitForEvent(TRAINING_RUN_COMPLETED_V1, dpoRunId, (e) => e.data['runId'] === dpoRunId, 30_000);
    expect(completed.data).toMatchObject({
      method: 'dpo',
      parentAdapter: { adapterId: sftAdapterId, runId: sftRunId },
      preferenceDatasetId,
    });
  }, 300_000);

  it('audits the DPO adapter beside its SFT parent, with the lineage back to the preference', async () => {
    if (!dpoRunId) throw new Error('no DPO run completed');
    const verdict = await waitForEvent(AUDIT_VERDICT_ISSUED_V1, dpoRunId, (e) => e.data['runId'] === dpoRunId, 300_000);
    const auditRunId = String(verdict.data['auditRunId']);
    const res = await call('GET', `/v1/runs/${dpoRunId}/audit`);
    expect(res.status).toBe(200);
    const report = AuditReportV1.parse(res.body);
    expect(Object.keys(report.scores)).toEqual(['base', 'sft', 'aligned', 'aligned_rag']);
    expect(report.results.every((r) => r.variants.sft !== undefined)).toBe(true);
    expect(report.models).toMatchObject({ base: 'tiny', parent: sftAdapterId });
    expect(report.lineage).toMatchObject({
      method: 'dpo',
      runId: dpoRunId,
      parentAdapterId: sftAdapterId,
      parentRunId: sftRunId,
      preferenceDatasetId,
    });
    expect(report.checks.every((c) => !c.metric.startsWith('sft'))).toBe(true);
    // Through the preference dataset, every preference (and its clauses) behind the adapter.
    const dataset = await call('GET', `/v1/contexts/${contextId}/preference-datasets/${preferenceDatasetId}`);
    expect(dataset.body['preferenceIds']).toEqual([preferenceId]);
    const markdown = await call('GET', `/v1/audits/${auditRunId}?format=md`);
    expect(markdown.text).toContain('| metric | base | SFT | SFT + DPO | SFT + DPO + RAG |');
    const completed = await waitForEvent(AUDIT_RUN_COMPLETED_V1, auditRunId, (e) => e.data['auditRunId'] === auditRunId, 10_000);
    expect(Object.keys(completed.data['scores'] as Json)).toEqual(['base', 'sft', 'aligned', 'aligned_rag']);
  }, 320_000);
});
