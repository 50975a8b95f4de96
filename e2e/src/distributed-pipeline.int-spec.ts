import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditReportV1 } from '@studio/auditing';
import {
  AUDIT_RUN_COMPLETED_V1,
  AUDIT_VERDICT_ISSUED_V1,
  DATASET_VERSION_PUBLISHED_V1,
  DOCUMENT_FRAMED_V1,
  DOCUMENT_UPLOADED_V1,
  CLAUSES_INDEXED_V1,
  TRAINING_RUN_COMPLETED_V1,
  TRAINING_RUN_PROGRESS_V1,
  TRAINING_RUN_REQUESTED_V1,
  type CloudEvent,
  type Topic,
} from '@studio/contracts';
import { describeWithServers, uniqueName } from '@studio/testing';
import { RUNTIME_EXECUTABLE, runtimeInstalled } from './harness/runtime-process';
import { E2E_MODEL_SERVER_API_KEY, WORKSPACE_ROOT, type ServiceName } from './harness/service-process';
import { Stack, type Json } from './harness/stack';

/**
 * The distributed profile end to end: the gateway, framer, ontology, instructor and auditor as
 * processes on real Kafka, FerretDB, Redis and the Qdrant API, with the real model runtime
 * (`studio-runtime serve --base-model tiny` and a `studio-runtime worker` on the BullMQ
 * `training` queue), driven only through the gateway's REST API (and the framer's, to read
 * clauses), observed on Kafka. One unique context, topic prefix and databases per run.
 */
const EXAMPLE = join(WORKSPACE_ROOT, 'examples/northwind-conduct');
const POLICY = readFileSync(join(EXAMPLE, 'policy.md'), 'utf8');
const VALUES = JSON.parse(readFileSync(join(EXAMPLE, 'values.json'), 'utf8')) as unknown;
const SEEDS = readFileSync(join(EXAMPLE, 'seeds.jsonl'), 'utf8');
const PIPELINE = ['gateway', 'framer', 'ontology', 'instructor', 'auditor', 'reward-model'] as const satisfies readonly ServiceName[];
const TENANT = 'acme';
const OTHER_TENANT = 'globex';
const ADMIN_API_KEY = 'e2e-administration-key-0123456789';
const MAX_DOCUMENT_BYTES = 100_000;
describeWithServers(['KAFKA_BROKERS', 'MONGO_URL', 'REDIS_URL', 'QDRANT_URL'], 'the alignment pipeline across the services', (urls) => {
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

  const contextId = uniqueName('northwind');
  let stack: Stack;
  const startedAt = Date.now();
  // What each step hands to the next.
  let documentId = '';
  let clauseIds: string[] = [];
  let datasetVersionId = '';
  let runId = '';

  const events = (topic: Topic) => stack.events(topic).filter((e) => e.data['contextId'] === contextId);
  const call = (method: string, path: string, body?: unknown, service: ServiceName = 'gateway', headers: Record<string, string> = {}) =>
    stack.call(method, path, body, service, headers);
  const waitFor = <T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs: number, everyMs = 250) =>
    stack.waitFor(what, probe, timeoutMs, everyMs);
  /** The number of preferences the reward-model service holds for a context, once it has some and stops adding (pairs are written in batches). */
  const waitForPreferences = async (context: string): Promise<number> => {
    let last = -1;
    return waitFor(
      `the reward-model service's preferences of ${context}`,
      async () => {
        const total = Number((await call('GET', `/v1/contexts/${context}/preferences`, undefined, 'reward-model')).body['total'] ?? 0);
        const settled = total > 0 && total === last;
        last = total;
        return settled ? total : undefined;
      },
      90_000,
      1_500,
    );
  };
  const waitForEvent = (topic: Topic, what: string, match: (event: CloudEvent<Json>) => boolean, timeoutMs: number) =>
    stack.waitForEvent(topic, what, (e) => e.data['contextId'] === contextId && match(e), timeoutMs);

  beforeAll(async () => {
    stack = await Stack.start({
      servers: urls,
      services: PIPELINE,
      runtimes: ['serve', 'worker'],
      tenant: TENANT,
      prefix: 'e2e',
      env: (name, { llmBaseUrl }): Record<string, string> =>
        name === 'gateway'
          ? { MAX_DOCUMENT_BYTES: String(MAX_DOCUMENT_BYTES), ADMIN_API_KEY }
          : name === 'auditor'
            ? {
                AUDIT_MAX_ITEMS: '6',
                AUDIT_MAX_ATTACKS: '4',
                AUDIT_MAX_BENIGN: '2',
                AUDIT_MAX_GENERAL_ABILITY: '2',
                AUDIT_MAX_TOKENS: '48',
                // The adaptive attacker: the run's model server (the tiny model) at its OpenAI-compatible endpoint, one goal, two rounds.
                AUDIT_ATTACKER_BASE_URL: llmBaseUrl,
                AUDIT_ATTACKER_MODEL: 'tiny',
                AUDIT_ATTACKER_API_KEY: E2E_MODEL_SERVER_API_KEY,
                AUDIT_ATTACKER_ROUNDS: '2',
                AUDIT_MAX_ADAPTIVE: '1',
              }
            : {},
    });
  }, 240_000);

  afterAll(async () => {
    if (runId) stack?.rememberJob('training', runId);
    for (const e of events(AUDIT_VERDICT_ISSUED_V1)) stack?.rememberJob('evaluation', String(e.data['auditRunId']));
    await stack?.stop();
    console.info(`[pipeline e2e] wall time ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  }, 60_000);

  it('creates the context, validating its values', async () => {
    const bad = await call('POST', '/v1/contexts', { id: contextId, name: 'Northwind', values: { values: [] } });
    expect(bad.status).toBe(400);
    expect(String(bad.body['message'])).toMatch(/values\./);
    const created = await call('POST', '/v1/contexts', {
      id: contextId,
      name: 'Northwind Dynamics business conduct',
      values: VALUES,
      seeds: SEEDS,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: contextId, thresholds: { minCorrectness: 0.8, minFaithfulness: 0.85, maxRefusalRate: 0.1 } });
  });

  it('refuses a bad document with a 4xx naming the problem, and stores or publishes nothing', async () => {
    const upload = (content: string, filename = 'bad.md') =>
      call('POST', `/v1/contexts/${contextId}/documents`, { filename, mediaType: 'text/markdown', content });
    const cases: [string, string, number, RegExp][] = [
      ['empty', '', 400, /content: must not be empty/],
      ['blank', ' \n\t\n ', 400, /document is empty/],
      ['binary', `%PDF-1.7\u0000\u0001\u0002${'\u0000'.repeat(64)}`, 422, /binary content/],
      ['too large', `# Rules\n${'x'.repeat(MAX_DOCUMENT_BYTES)}`, 413, /the limit is 100000 bytes/],
      ['no structure', 'Employees should be nice to each other and that is all we have to say.', 422, /no sections or numbered clauses/],
    ];
    for (const [what, content, status, message] of cases) {
      const res = await upload(content);
      expect({ what, status: res.status, message: String(res.body['message']) }).toEqual({
        what,
        status,
        message: expect.stringMatching(message),
      });
    }
    const documents = await call('GET', `/v1/contexts/${contextId}/documents`, undefined, 'framer');
    expect(documents.body).toEqual({ documents: [] });
  });

  it('frames the uploaded policy and indexes its clauses (framer → ontology over Kafka)', async () => {
    const res = await call('POST', `/v1/contexts/${contextId}/documents`, {
      filename: 'policy.md',
      mediaType: 'text/markdown',
      content: POLICY,
    });
    expect(res.status).toBe(202);
    documentId = String(res.body['documentId']);
    const framed = await waitForEvent(DOCUMENT_FRAMED_V1, documentId, (e) => e.data['documentId'] === documentId, 60_000);
    clauseIds = framed.data['clauseIds'] as string[];
    expect(clauseIds.length).toBeGreaterThan(20);
    const indexed = await waitForEvent(CLAUSES_INDEXED_V1, documentId, (e) => e.data['documentId'] === documentId, 90_000);
    expect(indexed.data['clauseCount']).toBe(clauseIds.length);
    // Only the good document was ever published.
    expect(events(DOCUMENT_UPLOADED_V1).map((e) => e.data['documentId'])).toEqual([documentId]);
    const clauses = await call('GET', `/v1/contexts/${contextId}/clauses?documentId=${documentId}`, undefined, 'framer');
    expect((clauses.body['clauses'] as { id: string }[]).map((c) => c.id)).toEqual(clauseIds);
  }, 180_000);

  it('re-uploading the same document gives the same clause ids and no duplicates', async () => {
    // The same file name in the context is the same document; the same bytes are its current version again.
    const again = await call('POST', `/v1/contexts/${contextId}/documents`, {
      filename: 'policy.md',
      mediaType: 'text/markdown',
      content: POLICY,
    });
    expect(again.status).toBe(202);
    expect(again.body['documentId']).toBe(documentId);
    const eventId = String(again.body['eventId']);
    await waitFor(
      'the framer did not frame the re-upload',
      async () => {
        const doc = await call('GET', `/v1/contexts/${contextId}/documents/${documentId}`, undefined, 'framer');
        return doc.body['uploadEventId'] === eventId && doc.body['status'] === 'framed';
      },
      60_000,
    );
    const documents = await call('GET', `/v1/contexts/${contextId}/documents`, undefined, 'framer');
    expect((documents.body['documents'] as unknown[]).length).toBe(1);
    const clauses = await call('GET', `/v1/contexts/${contextId}/clauses`, undefined, 'framer');
    expect((clauses.body['clauses'] as { id: string }[]).map((c) => c.id)).toEqual(clauseIds);
  });

  it('generates an immutable, content-hashed dataset version', async () => {
    if (!documentId) throw new Error('no document was framed');
    const res = await call('POST', `/v1/contexts/${contextId}/datasets`, { seed: 42 });
    expect({ status: res.status, body: res.status === 201 ? '' : res.text }).toEqual({ status: 201, body: '' });
    datasetVersionId = String(res.body['id']);
    expect(res.body).toMatchObject({
      contextId,
      documentId,
      train: { examples: expect.any(Number) },
      heldOut: { examples: expect.any(Number) },
    });
    const again = await call('POST', `/v1/contexts/${contextId}/datasets`, { seed: 42 });
    expect(again.status).toBe(200);
    expect(again.body['id']).toBe(datasetVersionId);
    expect(again.body['sha256']).toBe(res.body['sha256']);
    await waitForEvent(DATASET_VERSION_PUBLISHED_V1, datasetVersionId, (e) => e.data['datasetVersionId'] === datasetVersionId, 30_000);
  }, 60_000);

  it('generates a dataset version with a teacher on the generation queue, and reports what the teacher added', async () => {
    const request = { seed: 42, teacher: { concurrency: 2, maxClauses: 1 } };
    const queued = await call('POST', `/v1/contexts/${contextId}/datasets`, request);
    expect({ status: queued.status, body: queued.status === 202 ? '' : queued.text }).toEqual({ status: 202, body: '' });
    const jobId = String(queued.body['jobId']);
    expect(queued.body['statusPath']).toBe(`/v1/contexts/${contextId}/datasets/jobs/${jobId}`);
    // The same request is the same job.
    expect((await call('POST', `/v1/contexts/${contextId}/datasets`, request)).body['jobId']).toBe(jobId);
    const done = await waitFor(
      'the generation job did not finish',
      async () => {
        const res = await call('GET', `/v1/contexts/${contextId}/datasets/jobs/${jobId}`);
        if (res.body['state'] === 'failed') throw new Error(`generation failed: ${String(res.body['failedReason'])}`);
        return res.body['state'] === 'completed' ? res.body : null;
      },
      180_000,
      500,
    );
    const result = done['result'] as {
      dataset_version_id: string;
      synthesis: { teacher_model: string; requests: number; generated: number; kept: number };
    };
    expect(result.synthesis).toMatchObject({ teacher_model: 'tiny' });
    expect(result.synthesis.requests).toBeGreaterThan(0);
    const report = await call('GET', `/v1/contexts/${contextId}/datasets/${result.dataset_version_id}/report`);
    expect(report.status).toBe(200);
    const synthesis = report.body['synthesis'] as { generated: number; kept: number; droppedByReason: Record<string, number> };
    expect(synthesis.generated).toBe(synthesis.kept + Object.values(synthesis.droppedByReason).reduce((a, b) => a + b, 0));
    expect(synthesis.generated).toBe(result.synthesis.generated);
    expect((report.body['sample'] as unknown[]).length).toBeGreaterThan(0);
    await waitForEvent(
      DATASET_VERSION_PUBLISHED_V1,
      result.dataset_version_id,
      (e) => e.data['datasetVersionId'] === result.dataset_version_id,
      30_000,
    );
  }, 240_000);

  it('trains the tiny model on it through the BullMQ worker and follows the run to completion', async () => {
    if (!datasetVersionId) throw new Error('no dataset version was generated');
    const request = { datasetVersionId, baseModel: 'tiny', hyperparameters: { max_steps: 10, batch_size: 4, max_seq_length: 256 } };
    const bad = await call('POST', `/v1/contexts/${contextId}/runs`, { ...request, hyperparameters: { max_steps: -1, warmup: 3 } });
    expect(bad.status).toBe(400);
    expect(String(bad.body['message'])).toMatch(/warmup: unknown hyper-parameter/);
    // 409 until the instructor has the dataset.version.published event.
    const started = await waitFor(
      'the instructor did not accept the run',
      async () => {
        const res = await call('POST', `/v1/contexts/${contextId}/runs`, request);
        if (res.status === 409) return null;
        return res;
      },
      30_000,
      500,
    );
    expect(started.status).toBe(202);
    runId = String(started.body['id']);
    expect(started.body).toMatchObject({ state: 'requested', baseModel: 'tiny', datasetVersionId });

    const states = new Set<string>();
    const done = await waitFor(
      'the run did not complete',
      async () => {
        const res = await call('GET', `/v1/runs/${runId}`);
        states.add(String(res.body['state']));
        if (res.body['state'] === 'failed') throw new Error(`the run failed: ${String(res.body['error'])}`);
        return res.body['state'] === 'completed' ? res.body : null;
      },
      150_000,
      500,
    );
    expect(done).toMatchObject({
      id: runId,
      step: 10,
      totalSteps: 10,
      adapterId: expect.any(String),
      adapter: { runId, baseModel: 'tiny', datasetVersionId },
    });
    expect((done['lossCurve'] as { step: number; loss: number }[]).at(-1)?.loss).toEqual(expect.any(Number));
    const completed = await waitForEvent(TRAINING_RUN_COMPLETED_V1, runId, (e) => e.data['runId'] === runId, 30_000);
    expect(completed.data['adapterId']).toBe(done['adapterId']);
    expect(events(TRAINING_RUN_REQUESTED_V1).map((e) => e.data['runId'])).toEqual([runId]);
    expect(events(TRAINING_RUN_PROGRESS_V1).filter((e) => e.data['runId'] === runId && e.data['phase'] === 'step').length).toBeGreaterThan(
      0,
    );
  }, 200_000);

  it('audits the adapter and issues a verdict; the report reads through the gateway', async () => {
    if (!runId) throw new Error('no training run completed');
    const verdict = await waitForEvent(AUDIT_VERDICT_ISSUED_V1, runId, (e) => e.data['runId'] === runId, 150_000);
    const auditRunId = String(verdict.data['auditRunId']);
    expect(verdict.source).toBe('/studio/auditor');
    const res = await call('GET', `/v1/runs/${runId}/audit`);
    expect(res.status).toBe(200);
    const report = AuditReportV1.parse(res.body);
    expect(report).toMatchObject({ contextId, runId, auditRunId, datasetVersionId, verdict: verdict.data['verdict'] });
    expect(Object.keys(report.scores).sort()).toEqual(['aligned', 'aligned_rag', 'base']);
    expect(report.items).toBeGreaterThan(0);
    expect(Object.values(report.buckets).reduce((a, b) => a + b, 0)).toBe(report.items);
    // The adaptive attacker configured by AUDIT_ATTACKER_*: one goal against every variant, its rounds asked of the
    // model server and judged; the attacker's replies come from the same server (the tiny model's are rarely usable prompts).
    const adaptive = report.redTeam?.adaptive;
    if (!adaptive?.ran) throw new Error(`the report has no adaptive attacks: ${JSON.stringify(adaptive)}`);
    expect(adaptive.attacker).toEqual({ model: 'tiny', endpoint: stack.llmBaseUrl, promptVersion: 'adaptive-attacker.v1' });
    expect(adaptive).toMatchObject({ goals: 1, maxRounds: 2 });
    expect(adaptive.attempts.map((a) => a.variant).sort()).toEqual(['aligned', 'aligned_rag', 'base']);
    for (const a of adaptive.attempts) {
      expect(a.rounds[0]?.prompt).toBe(a.goal);
      expect(a.rounds.length).toBeLessThanOrEqual(2);
      expect(a.outcome).toBe(a.rounds.at(-1)?.outcome);
      expect(a.stop.reason === 'succeeded').toBe(a.outcome !== 'refused');
      expect(report.redTeam?.variants[a.variant]?.success.byStrategy['adaptive']).toMatchObject({
        n: 1,
        k: a.outcome === 'refused' ? 0 : 1,
      });
    }
    const markdown = await call('GET', `/v1/audits/${auditRunId}?format=md`);
    expect(markdown.status).toBe(200);
    expect(markdown.type).toMatch(/^text\/markdown/);
    expect(markdown.text).toContain(auditRunId);
    expect(markdown.text).toContain('### Adaptive attacks');
    expect((await call('GET', `/v1/audits/${auditRunId}`)).body['auditRunId']).toBe(auditRunId);
    await waitForEvent(AUDIT_RUN_COMPLETED_V1, auditRunId, (e) => e.data['auditRunId'] === auditRunId, 10_000);
  }, 200_000);

  it("erases the tenant through the administration API: its records, files and vectors go, another tenant's stay", async () => {
    if (!runId) throw new Error('no training run completed');
    // Another tenant uploads the same policy into a context of the same name.
    const theirs = await stack.call(
      'POST',
      `/v1/contexts/${contextId}/documents`,
      { filename: 'policy.md', mediaType: 'text/markdown', content: POLICY },
      'gateway',
      {},
      { tenant: OTHER_TENANT, role: 'curator' },
    );
    expect(theirs.status).toBe(202);
    const otherDocument = String(theirs.body['documentId']);
    await waitForEvent(CLAUSES_INDEXED_V1, otherDocument, (e) => e.data['documentId'] === otherDocument, 90_000);
    const retrieve = (tenant: string) =>
      stack.call('POST', `/v1/contexts/${contextId}/retrieve`, { question: 'May I accept a gift from a supplier?', k: 3 }, 'ontology', {
        'x-tenant-id': tenant,
      });
    expect(((await retrieve(TENANT)).body['clauses'] as unknown[]).length).toBe(3);

    expect((await call('DELETE', `/v1/admin/tenants/${TENANT}`)).status).toBe(401);
    // The reward-model service has made its synthetic pairs from the dataset version (an event away): wait for them,
    // so that none is written after the erasure.
    const preferencesBefore = await waitForPreferences(contextId);
    expect(preferencesBefore).toBeGreaterThan(0);
    const erased = await call('DELETE', `/v1/admin/tenants/${TENANT}`, undefined, 'gateway', { 'x-admin-key': ADMIN_API_KEY });
    expect({ status: erased.status, body: erased.status === 200 ? null : erased.body }).toEqual({ status: 200, body: null });
    expect(erased.body).toMatchObject({
      tenantId: TENANT,
      erased: {
        framer: { records: { documents: 1, documentVersions: 1, clauses: clauseIds.length, contexts: 1, datasets: 1 } },
        ontology: { records: { clauseIndexes: 1 }, vectorContexts: [contextId] },
        instructor: { records: { datasets: 1, clauseIndexes: 1, runs: 1, adapters: 1 } },
        auditor: { records: { candidates: 1, audits: 1 } },
        'reward-model': { records: { preferences: preferencesBefore } },
      },
    });
    // The tenant's files (documents, datasets, adapters, reports) share one folder: the first service to erase removes it.
    const files = Object.values(erased.body['erased'] as Record<string, { artifacts: number }>).reduce((n, e) => n + e.artifacts, 0);
    expect(files).toBeGreaterThanOrEqual(6);

    // Every key of the tenant was revoked first: the gateway refuses them at once.
    expect(erased.body['revokedKeys']).toEqual(expect.arrayContaining([expect.stringMatching(/^[0-9a-f]{16}$/)]));
    const refused = await call('GET', `/v1/runs/${runId}`);
    expect(refused.status).toBe(401);
    expect(String(refused.body['detail'])).toMatch(/^the API key [0-9a-f]{16} was revoked at /);
    // The services that held the run and its audit no longer know them.
    expect((await call('GET', `/v1/runs/${runId}`, undefined, 'instructor')).status).toBe(404);
    expect((await call('GET', `/v1/runs/${runId}/audit`, undefined, 'auditor')).status).toBe(404);
    // The preferences made from its dataset version are gone too.
    expect((await call('GET', `/v1/contexts/${contextId}/preferences`, undefined, 'reward-model')).body['total']).toBe(0);
    // The context is gone with its documents: the framer no longer knows it.
    expect((await call('GET', `/v1/contexts/${contextId}/documents`, undefined, 'framer')).status).toBe(404);
    expect(((await retrieve(TENANT)).body['clauses'] as unknown[]).length).toBe(0);
    expect(existsSync(join(stack.artifactDir, 'tenants', TENANT))).toBe(false);
    // The other tenant's data is all there.
    const kept = await stack.call('GET', `/v1/contexts/${contextId}/documents`, undefined, 'framer', { 'x-tenant-id': OTHER_TENANT });
    expect((kept.body['documents'] as { id: string }[]).map((d) => d.id)).toEqual([otherDocument]);
    expect(((await retrieve(OTHER_TENANT)).body['clauses'] as unknown[]).length).toBe(3);
    expect(existsSync(join(stack.artifactDir, 'tenants', OTHER_TENANT))).toBe(true);
    // Erasing again removes and revokes nothing more.
    const again = await call('DELETE', `/v1/admin/tenants/${TENANT}`, undefined, 'gateway', { 'x-admin-key': ADMIN_API_KEY });
    expect(again.body['revokedKeys']).toEqual([]);
    expect((again.body['erased'] as Record<string, { records: Record<string, number> }>)['framer']?.records).toEqual({
      documents: 0,
      documentVersions: 0,
      clauses: 0,
      contexts: 0,
      datasets: 0,
    });
  }, 180_000);
});
