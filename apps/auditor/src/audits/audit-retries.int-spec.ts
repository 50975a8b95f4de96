import { createServer, type Server } from 'node:http';
import { DatabaseSync } from 'node:sqlite';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  AuditStatusV1,
  buildCloudEvent,
  EVALUATE_RUN_JOB,
  TRAINING_RUN_COMPLETED_V1,
  type TrainingRunCompletedV1,
} from '@studio/contracts';
import { BullMqJobQueue, BullMqJobWorker } from '@studio/bullmq';
import { SqliteRepository } from '@studio/inproc';
import { EVENT_BUS } from '@studio/nest';
import { AuditRunRecord } from '@studio/pipeline';
import { tenantId } from '@studio/ports';
import { describeWithServers, uniqueName } from '@studio/testing';
import { AUDIT_CANDIDATES, AUDIT_CANDIDATES_REPOSITORY, candidateFromCompletedRun } from '../candidates/audit-candidate';
import { AUDIT_RETRY, AUDIT_SETTINGS } from './audit-settings';
import { FRAMER_CLIENT, FramerClient } from './framer-client';
import { INSTRUCTOR_CLIENT } from './instructor-client';
import { ReportsController } from './reports.controller';
import { EVALUATION_QUEUE_PORT, RequestAudit } from './request-audit';
import { AUDIT_PORTS, AUDITS_REPOSITORY, RunAudit } from './run-audit';
import { DATASET } from './fixtures.spec-helper';

/** The service credential the fake framer requires (the auditor sends its SERVICE_TOKEN). */
const FRAMER_SERVICE_TOKEN = 'test-service-token-0123456789abcdef0123';

/**
 * Audits on the real `evaluation` queue (BullMQ on Redis): an audit whose dependency refuses
 * every connection is retried with exponential back-off, its state and the cause of each failure
 * are visible, it fails after its attempts, and a re-audit queues a new job beside the failed one.
 */
describeWithServers(['REDIS_URL'], 'audit retries on BullMQ', (urls) => {
  const acme = tenantId('acme');
  const dataset = DATASET;
  const prefix = uniqueName('audit-retries');
  const queue = new BullMqJobQueue({ redisUrl: urls.REDIS_URL, prefix });
  const worker = new BullMqJobWorker({ redisUrl: urls.REDIS_URL, prefix, jobs: [EVALUATE_RUN_JOB], shutdownGraceMs: 1_000 });
  const db = new DatabaseSync(':memory:');
  const candidates = new SqliteRepository(db, AUDIT_CANDIDATES);
  let framer: Server | null = null;
  let framerPort = 0;
  let app: INestApplication;
  let base = '';

  const startFramer = async () => {
    framer = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.headers['x-studio-service-token'] !== FRAMER_SERVICE_TOKEN) res.writeHead(401).end('{"message":"service token required"}');
      else if (req.url === '/v1/contexts/ctx-1/datasets/dv-1') res.end(JSON.stringify(dataset));
      else res.writeHead(404).end('{"message":"not found"}');
    });
    await new Promise<void>((resolve) => framer?.listen(framerPort, '127.0.0.1', resolve));
    framerPort = (framer.address() as { port: number }).port;
  };
  const stopFramer = () => new Promise<void>((resolve) => (framer ? framer.close(() => resolve()) : resolve()));

  beforeAll(async () => {
    await startFramer();
    const moduleRef = await Test.createTestingModule({
      controllers: [ReportsController],
      providers: [
        { provide: AUDIT_CANDIDATES_REPOSITORY, useValue: candidates },
        { provide: AUDITS_REPOSITORY, useValue: new SqliteRepository(db, { collection: 'audit_runs', schema: AuditRunRecord }) },
        { provide: EVALUATION_QUEUE_PORT, useValue: queue },
        { provide: FRAMER_CLIENT, useValue: new FramerClient(`http://127.0.0.1:${framerPort}`, FRAMER_SERVICE_TOKEN) },
        { provide: INSTRUCTOR_CLIENT, useValue: { latestRewardModel: async () => null } },
        { provide: AUDIT_SETTINGS, useValue: { maxItems: 4, ragTopK: 2, maxTokens: 16, concurrency: 1 } },
        { provide: AUDIT_RETRY, useValue: { attempts: 3, delayMs: 300 } },
        { provide: AUDIT_PORTS, useValue: {} },
        { provide: EVENT_BUS, useValue: {} },
        RequestAudit,
        RunAudit,
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
    const runAudit = app.get(RunAudit);
    worker.handle(EVALUATE_RUN_JOB, (job, context) => runAudit.execute(job, context));
    await worker.start();
  });
  afterAll(async () => {
    await worker.stop();
    await queue.close();
    await app.close();
    await stopFramer();
  });

  const state = async (method: 'GET' | 'POST' = 'GET') => {
    const res = await fetch(`${base}/v1/runs/run-1/audit`, { method, headers: { 'x-tenant-id': 'acme' } });
    return { status: res.status, body: AuditStatusV1.parse(await res.json()) };
  };

  it('retries with back-off, shows each failure with its cause, fails after its attempts, and re-audits once', async () => {
    const event = buildCloudEvent<TrainingRunCompletedV1>({
      topic: TRAINING_RUN_COMPLETED_V1,
      source: '/studio/instructor',
      tenantId: 'acme',
      contextId: 'ctx-1',
      data: {
        version: 'v1',
        contextId: 'ctx-1',
        runId: 'run-1',
        method: 'sft',
        baseModel: 'tiny',
        datasetVersionId: 'dv-1',
        adapterId: 'adapter-1',
        artifactUri: 'file:///artifacts/run-1',
        metrics: {},
        parentAdapter: null,
        preferenceDatasetId: null,
      },
    });
    const candidate = candidateFromCompletedRun(event);
    await candidates.upsert(acme, candidate);
    const began = Date.now();
    const queued = await app.get(RequestAudit).execute(acme, candidate);
    await stopFramer(); // every attempt now meets a refused connection

    const seen = new Set<string>();
    let last = await state();
    while (last.body.state !== 'failed' && Date.now() - began < 30_000) {
      if (last.body.state === 'queued' && last.body.error) {
        seen.add(`retry after attempt ${last.body.error.attempt}`);
        expect(last.body.nextAttemptAt).not.toBeNull();
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
      last = await state();
    }
    const elapsed = Date.now() - began;
    expect(last.status).toBe(200);
    expect(last.body).toMatchObject({ state: 'failed', attempts: { made: 3, max: 3 }, requests: 1, nextAttemptAt: null });
    expect(last.body.error?.message).toMatch(new RegExp(`fetch failed: connect ECONNREFUSED 127\\.0\\.0\\.1:${framerPort}$`));
    expect(last.body.error?.causes.map((c) => c.code).filter(Boolean)).toContain('ECONNREFUSED');
    expect(seen.size).toBeGreaterThan(0);
    expect(elapsed).toBeGreaterThanOrEqual(300 + 600); // BullMQ waited 300 ms, then 600 ms
    const job = await queue.status(EVALUATE_RUN_JOB, queued.jobId as string);
    expect(job).toMatchObject({ state: 'failed', attemptsMade: 3 });
    expect(job?.failedReason).toMatch(/fetch failed: connect ECONNREFUSED/);

    // Re-audit: a new job beside the failed one, queued once however often it is asked for.
    await startFramer();
    const [first, second] = await Promise.all([state('POST'), state('POST')]);
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(first.body).toMatchObject({ requests: 2, state: expect.stringMatching(/^(queued|running)$/) });
    const reaudit = await queue.status(EVALUATE_RUN_JOB, `${queued.jobId}-r2`);
    expect(reaudit).not.toBeNull();
    expect(await queue.status(EVALUATE_RUN_JOB, `${queued.jobId}-r3`)).toBeNull();
  }, 60_000);
});
