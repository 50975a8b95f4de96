import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AUDIT_VERDICT_ISSUED_V1,
  buildCloudEvent,
  CLAUSES_INDEXED_V1,
  DATASET_VERSION_PUBLISHED_V1,
  DOCUMENT_FRAMED_V1,
  DOCUMENT_UPLOADED_V1,
  TRAINING_RUN_COMPLETED_V1,
  TRAINING_RUN_PROGRESS_V1,
  TRAINING_RUN_REQUESTED_V1,
  type CloudEvent,
  type DeadLetterRecordV1,
  type DocumentUploadedV1,
  type Topic,
} from '@studio/contracts';
import { InMemoryProcessedEventStore } from '@studio/inproc';
import type { EventBusLogger } from '@studio/ports';
import { KafkaDeadLetterReader, KafkaEventBus } from '@studio/kafka';
import { privateKafkaAvailable, startPrivateKafka, type PrivateKafkaBroker } from '@studio/nest';
import { describeWithServers, eventually, uniqueName } from '@studio/testing';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { RUNTIME_EXECUTABLE, runtimeInstalled } from './harness/runtime-process';
import { WORKSPACE_ROOT, type ServiceName } from './harness/service-process';
import { Stack, type Json } from './harness/stack';

/**
 * The fault suite: the distributed pipeline (gateway, framer, ontology, instructor, auditor, the
 * model server and the training worker as processes) on a Kafka broker of its own, driven through
 * one alignment while faults are injected — poison events on every consumed topic, kill -9 of each
 * service in the middle of its work and of the training worker, a broker stop and restart, a
 * handler that outlives its session. After each fault the pipeline goes on; events and records are
 * counted (published, consumed, duplicated, lost) and the time to recover is measured. The table
 * is printed at the end.
 */
const EXAMPLE = join(WORKSPACE_ROOT, 'examples/northwind-conduct');
const POLICY = readFileSync(join(EXAMPLE, 'policy.md'), 'utf8');
const VALUES = JSON.parse(readFileSync(join(EXAMPLE, 'values.json'), 'utf8')) as unknown;
const PIPELINE = ['gateway', 'framer', 'ontology', 'instructor', 'auditor'] as const satisfies readonly ServiceName[];
const CONSUMERS = ['framer', 'ontology', 'instructor', 'auditor'] as const satisfies readonly ServiceName[];
/** The topics each service consumes. */
const CONSUMED: Record<(typeof CONSUMERS)[number], Topic[]> = {
  framer: [DOCUMENT_UPLOADED_V1],
  ontology: [DOCUMENT_FRAMED_V1],
  instructor: [DATASET_VERSION_PUBLISHED_V1, CLAUSES_INDEXED_V1],
  auditor: [TRAINING_RUN_COMPLETED_V1],
};
const TENANT = 'acme';
const QUIET: EventBusLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

interface Row {
  fault: string;
  published: number;
  consumed: number;
  duplicates: number;
  lost: number;
  recoveryS: number;
}

function table(rows: Row[]): string {
  const header = ['fault', 'events published', 'consumed', 'duplicates', 'lost', 'recovery time'];
  const lines = rows.map((r) => [
    r.fault,
    String(r.published),
    String(r.consumed),
    String(r.duplicates),
    String(r.lost),
    `${r.recoveryS.toFixed(1)} s`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [fmt(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt)].join('\n');
}

const since = (start: number) => (Date.now() - start) / 1000;

describeWithServers(['MONGO_URL', 'REDIS_URL', 'QDRANT_URL'], 'fault tolerance of the distributed pipeline', (urls) => {
  const kafkaLib = privateKafkaAvailable();
  if (!runtimeInstalled() || 'missing' in kafkaLib) {
    const why = !runtimeInstalled()
      ? `the model runtime is not installed (${RUNTIME_EXECUTABLE})`
      : (kafkaLib as { missing: string }).missing;
    if (process.env['CI'] === 'true') {
      it('needs the model runtime and the Kafka jars', () => {
        throw new Error(`${why}: CI must run scripts/setup.sh and deploy/local first`);
      });
    } else {
      it.skip(`skipped: ${why}`, () => undefined);
    }
    return;
  }

  const contextId = uniqueName('faults');
  const rows: Row[] = [];
  let broker: PrivateKafkaBroker;
  let stack: Stack;
  let producer: Producer | null = null;
  let documentId = '';
  let runId = '';

  const ofContext = (topic: Topic) => stack.events(topic).filter((e) => e.data['contextId'] === contextId);
  const distinct = (events: CloudEvent<Json>[], key: (e: CloudEvent<Json>) => string) => new Set(events.map(key)).size;
  const readyAll = async (names: readonly ServiceName[]) => (await Promise.all(names.map((n) => stack.isReady(n)))).every(Boolean);

  beforeAll(async () => {
    broker = await startPrivateKafka(kafkaLib.lib);
    stack = await Stack.start({
      servers: { ...urls, KAFKA_BROKERS: broker.address },
      services: PIPELINE,
      runtimes: ['serve', 'worker'],
      tenant: TENANT,
      prefix: 'faults',
      env: (name): Record<string, string> =>
        name === 'auditor'
          ? { AUDIT_MAX_ITEMS: '4', AUDIT_MAX_ATTACKS: '4', AUDIT_MAX_BENIGN: '2', AUDIT_MAX_GENERAL_ABILITY: '2', AUDIT_MAX_TOKENS: '32' }
          : {},
    });
    producer = new Kafka({ clientId: `${stack.run}-raw`, brokers: [broker.address], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    const created = await stack.call('POST', '/v1/contexts', { id: contextId, name: 'Northwind (faults)', values: VALUES });
    expect(created.status).toBe(201);
  }, 300_000);

  afterAll(async () => {
    console.info(`[fault suite]\n${table(rows)}`);
    await producer?.disconnect().catch(() => undefined);
    if (runId) stack?.rememberJob('training', runId);
    for (const e of stack?.events(AUDIT_VERDICT_ISSUED_V1) ?? []) stack.rememberJob('evaluation', String(e.data['auditRunId']));
    await stack?.stop();
    await broker?.close();
  }, 120_000);

  it('malformed and schema-invalid events on every consumed topic are dead-lettered with the reason, and the next valid event is processed', async () => {
    const started = Date.now();
    const poisoned = CONSUMERS.flatMap((service) => CONSUMED[service].map((topic) => ({ service, topic })));
    for (const { topic } of poisoned) {
      const invalid = buildCloudEvent({ topic, source: '/faults', tenantId: TENANT, contextId, data: { version: 'v1', contextId } });
      await producer?.send({
        topic: `${stack.run}.${topic}`,
        messages: [
          { key: contextId, value: '{"this is": not JSON' },
          { key: contextId, value: JSON.stringify(invalid) },
        ],
      });
    }
    const expected = poisoned.length * 2;
    const mine = () => stack.deadLetters.filter((d) => CONSUMERS.some((s) => d.consumerGroup === `${stack.run}.${s}`));
    await stack.waitFor('the services did not dead-letter the poison events', async () => mine().length >= expected, 60_000);
    for (const { service, topic } of poisoned) {
      const letters = mine().filter((d) => d.consumerGroup === `${stack.run}.${service}` && d.originalTopic === `${stack.run}.${topic}`);
      expect(letters.map((d: DeadLetterRecordV1) => d.reason)).toEqual(['invalid-message', 'invalid-message']);
      expect(letters.every((d) => d.error.length > 0)).toBe(true);
    }
    // The next valid event on those partitions (same key) is processed: the upload is framed below.
    rows.push({
      fault: 'malformed + schema-invalid events on 5 consumed topics',
      published: expected,
      consumed: mine().length,
      duplicates: mine().length - expected,
      lost: Math.max(0, expected - mine().length),
      recoveryS: since(started),
    });
  }, 120_000);

  it('kill -9 of the framer during framing: restarted, the document is framed once', async () => {
    const upload = await stack.call('POST', `/v1/contexts/${contextId}/documents`, {
      filename: 'policy.md',
      mediaType: 'text/markdown',
      content: POLICY,
    });
    expect(upload.status).toBe(202);
    documentId = String(upload.body['documentId']);
    await stack.waitForEvent(DOCUMENT_UPLOADED_V1, documentId, (e) => e.data['documentId'] === documentId, 30_000);
    stack.kill('framer');
    const started = Date.now();
    await stack.restart('framer');
    const framed = await stack.waitForEvent(DOCUMENT_FRAMED_V1, documentId, (e) => e.data['documentId'] === documentId, 90_000);
    const recovery = since(started);
    const documents = await stack.call('GET', `/v1/contexts/${contextId}/documents`, undefined, 'framer');
    expect((documents.body['documents'] as unknown[]).length).toBe(1);
    const clauses = await stack.call('GET', `/v1/contexts/${contextId}/clauses`, undefined, 'framer');
    expect((clauses.body['clauses'] as unknown[]).length).toBe(framed.data['clauseCount']);
    const framedEvents = ofContext(DOCUMENT_FRAMED_V1);
    rows.push({
      fault: 'kill -9 framer while framing',
      published: 1,
      consumed: framedEvents.length,
      duplicates: framedEvents.length - distinct(framedEvents, (e) => String(e.data['documentId'])),
      lost: framedEvents.length === 0 ? 1 : 0,
      recoveryS: recovery,
    });
  }, 150_000);

  it('kill -9 of the ontology while it indexes: restarted, the clauses are indexed once', async () => {
    stack.kill('ontology');
    const started = Date.now();
    await stack.restart('ontology');
    const indexed = await stack.waitForEvent(CLAUSES_INDEXED_V1, documentId, (e) => e.data['documentId'] === documentId, 120_000);
    const recovery = since(started);
    const framed = ofContext(DOCUMENT_FRAMED_V1)[0];
    expect(indexed.data['clauseCount']).toBe(framed?.data['clauseCount']);
    const events = ofContext(CLAUSES_INDEXED_V1);
    rows.push({
      fault: 'kill -9 ontology while indexing',
      published: 1,
      consumed: events.length,
      duplicates: events.length - distinct(events, (e) => String(e.data['documentId'])),
      lost: events.length === 0 ? 1 : 0,
      recoveryS: recovery,
    });
  }, 180_000);

  it('a broker stop and restart: /ready reports the outage, uploads fail fast with 503, every service is ready again by itself and consumes again', async () => {
    await broker.kill();
    const down = Date.now();
    for (const name of PIPELINE) await eventually(async () => !(await stack.isReady(name)), 60_000, 500);
    const detectedS = since(down);
    const refused = Date.now();
    const upload = await stack.call('POST', `/v1/contexts/${contextId}/documents`, {
      filename: 'other.md',
      mediaType: 'text/markdown',
      content: `${POLICY}\n\n## 99. Outage\n\n**99.1** Employees must report outages.\n`,
    });
    const uploadS = since(refused);
    expect(upload.status).toBe(503);
    expect(upload.headers.get('retry-after')).toBeTruthy();
    expect(uploadS).toBeLessThan(15);

    await broker.start();
    const back = Date.now();
    await stack.waitFor('the services did not become ready again after the broker came back', () => readyAll(PIPELINE), 120_000, 500);
    const recovery = since(back);
    // They consume again: a dataset version published now reaches the instructor (runs are accepted).
    const dataset = await stack.call('POST', `/v1/contexts/${contextId}/datasets`, { seed: 42 });
    expect(dataset.status).toBe(201);
    const datasetVersionId = String(dataset.body['id']);
    await stack.waitForEvent(
      DATASET_VERSION_PUBLISHED_V1,
      datasetVersionId,
      (e) => e.data['datasetVersionId'] === datasetVersionId,
      60_000,
    );
    const run = await stack.waitFor(
      'the instructor did not take the run after the outage',
      async () => {
        const res = await stack.call('POST', `/v1/contexts/${contextId}/runs`, {
          datasetVersionId,
          baseModel: 'tiny',
          hyperparameters: { max_steps: 12, batch_size: 4, max_seq_length: 192, checkpoint_every_steps: 3 },
        });
        return res.status === 409 ? null : res;
      },
      60_000,
      500,
    );
    expect(run.status).toBe(202);
    runId = String(run.body['id']);
    const published = ofContext(DATASET_VERSION_PUBLISHED_V1);
    rows.push({
      fault: `Kafka broker stop/start (not ready after ${detectedS.toFixed(1)} s; upload 503 in ${uploadS.toFixed(1)} s)`,
      published: published.length,
      consumed: 1,
      duplicates: published.length - distinct(published, (e) => String(e.data['datasetVersionId'])),
      lost: 0,
      recoveryS: recovery,
    });
  }, 300_000);

  it('kill -9 of the training worker after a checkpoint: the job resumes from it on a new worker', async () => {
    const checkpoint = await stack.waitForEvent(
      TRAINING_RUN_PROGRESS_V1,
      runId,
      (e) => e.data['runId'] === runId && e.data['phase'] === 'checkpoint',
      180_000,
    );
    await stack.killRuntime('worker');
    const started = Date.now();
    stack.restartRuntime('worker');
    const resumed = await stack.waitForEvent(
      TRAINING_RUN_PROGRESS_V1,
      runId,
      (e) => e.data['runId'] === runId && e.data['phase'] === 'started' && Number(e.data['step']) > 0,
      180_000,
    );
    expect(Number(resumed.data['step'])).toBeGreaterThanOrEqual(Number(checkpoint.data['step']));
    rows.push({
      fault: `kill -9 training worker after checkpoint ${String(checkpoint.data['step'])} (resumed from step ${String(resumed.data['step'])})`,
      published: 1,
      consumed: 1,
      duplicates: 0,
      lost: 0,
      recoveryS: since(started),
    });
  }, 400_000);

  it('kill -9 of the instructor while the run trains: restarted, it follows the run to completion, once', async () => {
    stack.kill('instructor');
    const started = Date.now();
    await stack.restart('instructor');
    const done = await stack.waitFor(
      'the run did not complete',
      async () => {
        const res = await stack.call('GET', `/v1/runs/${runId}`);
        if (res.body['state'] === 'failed') throw new Error(`the run failed: ${String(res.body['error'])}`);
        return res.body['state'] === 'completed' ? res.body : null;
      },
      300_000,
      1_000,
    );
    expect(done['adapterId']).toEqual(expect.any(String));
    await stack.waitForEvent(TRAINING_RUN_COMPLETED_V1, runId, (e) => e.data['runId'] === runId, 60_000);
    const completed = ofContext(TRAINING_RUN_COMPLETED_V1);
    const requested = ofContext(TRAINING_RUN_REQUESTED_V1);
    expect(requested.map((e) => e.data['runId'])).toEqual([runId]);
    rows.push({
      fault: 'kill -9 instructor while training',
      published: completed.length,
      consumed: completed.length,
      duplicates: completed.length - distinct(completed, (e) => String(e.data['runId'])),
      lost: completed.length === 0 ? 1 : 0,
      recoveryS: since(started),
    });
  }, 400_000);

  it('kill -9 of the auditor during the audit: restarted, the audit completes and the verdict is issued once', async () => {
    await stack.waitFor(
      'the audit did not start',
      async () => {
        const res = await stack.call('GET', `/v1/runs/${runId}/audit`);
        return res.status === 200 && ['running', 'queued', 'completed'].includes(String(res.body['state'] ?? 'completed'));
      },
      120_000,
      500,
    );
    stack.kill('auditor');
    const started = Date.now();
    await stack.restart('auditor');
    const verdict = await stack.waitForEvent(AUDIT_VERDICT_ISSUED_V1, runId, (e) => e.data['runId'] === runId, 300_000);
    const recovery = since(started);
    const report = await stack.call('GET', `/v1/runs/${runId}/audit`);
    expect(report.status).toBe(200);
    expect(report.body['verdict']).toBe(verdict.data['verdict']);
    // Audit events carry fresh ids: give any second attempt time to (wrongly) publish again.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const verdicts = ofContext(AUDIT_VERDICT_ISSUED_V1);
    expect(verdicts).toHaveLength(1);
    rows.push({
      fault: 'kill -9 auditor while auditing',
      published: verdicts.length,
      consumed: 1,
      duplicates: verdicts.length - 1,
      lost: verdicts.length === 0 ? 1 : 0,
      recoveryS: recovery,
    });
  }, 400_000);

  it('a handler that outlives its session is dead-lettered after its attempts, and the next event on its partition is processed', async () => {
    const prefix = `${uniqueName('faults-slow')}.`;
    const group = `${prefix}consumer`;
    const bus = new KafkaEventBus({
      clientId: group,
      brokers: [broker.address],
      groupId: group,
      topicPrefix: prefix,
      processedEvents: new InMemoryProcessedEventStore(),
      partitions: 1,
      sessionTimeoutMs: 6_000,
      heartbeatIntervalMs: 1_000,
      handlerTimeoutMs: 2_000,
      retry: { maxAttempts: 3, initialBackoffMs: 50, maxBackoffMs: 200 },
      logger: QUIET,
      kafkaLogLevel: 'nothing',
    });
    const letters: DeadLetterRecordV1[] = [];
    const reader = new KafkaDeadLetterReader({
      clientId: `${group}-dlq`,
      brokers: [broker.address],
      groupId: `${group}-dlq`,
      topicPrefix: prefix,
    });
    const handled: string[] = [];
    bus.subscribe(DOCUMENT_UPLOADED_V1, async (event) => {
      // Deaf to its abort signal, like a call behind a socket timeout longer than the session.
      if (event.data.documentId === 'slow') await new Promise((resolve) => setTimeout(resolve, 8_000));
      handled.push(event.data.documentId);
    });
    try {
      await bus.start();
      await reader.start(async ({ record }) => void letters.push(record));
      const event = (documentId: string) =>
        buildCloudEvent<DocumentUploadedV1>({
          topic: DOCUMENT_UPLOADED_V1,
          source: '/faults',
          tenantId: TENANT,
          contextId,
          data: {
            version: 'v1',
            contextId,
            documentId,
            filename: 'x.md',
            mediaType: 'text/markdown',
            sha256: 'a'.repeat(64),
            sizeBytes: 1,
            storageUri: 'data:,x',
          },
        });
      const started = Date.now();
      await bus.publishMany(DOCUMENT_UPLOADED_V1, [event('slow'), event('next')]);
      await eventually(async () => handled.includes('next') && letters.length === 1, 90_000, 200);
      expect(letters[0]).toMatchObject({ reason: 'handler-failed', attempts: 3, error: expect.stringMatching(/handler exceeded 2000 ms/) });
      rows.push({
        fault: 'handler outliving its 6 s session (2 s limit, 3 attempts)',
        published: 2,
        consumed: 2,
        duplicates: handled.filter((id) => id === 'next').length - 1,
        lost: handled.includes('next') ? 0 : 1,
        recoveryS: since(started),
      });
    } finally {
      await reader.stop().catch(() => undefined);
      await bus.stop().catch(() => undefined);
    }
  }, 120_000);
});
