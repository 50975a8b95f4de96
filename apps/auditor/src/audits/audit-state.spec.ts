import { createServer, type Server } from 'node:http';
import { DatabaseSync } from 'node:sqlite';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AuditStatusV1, buildCloudEvent, DOCUMENT_REVISED_V1, EVALUATE_RUN_JOB, type JobName, type JobPayload } from '@studio/contracts';
import { InProcessJobQueue, InProcessJobWorker, SqliteRepository } from '@studio/inproc';
import { EVENT_BUS } from '@studio/nest';
import { AuditRunRecord } from '@studio/pipeline';
import { tenantId, type EnqueueOptions, type JobQueue } from '@studio/ports';
import {
  AUDIT_CANDIDATES,
  AUDIT_CANDIDATES_REPOSITORY,
  auditStatusOf,
  markAttemptFailed,
  markQueued,
  type AuditCandidate,
} from '../candidates/audit-candidate';
import { AUDIT_RETRY, AUDIT_SETTINGS, auditRetryProblem, retryDelayMs, type AuditRetry } from './audit-settings';
import { FRAMER_CLIENT, FramerClient } from './framer-client';
import { INSTRUCTOR_CLIENT } from './instructor-client';
import { ReportsController } from './reports.controller';
import { RevisionsHandler } from './revisions.handler';
import { EVALUATION_QUEUE_PORT, RequestAudit } from './request-audit';
import { AUDIT_PORTS, AUDITS_REPOSITORY, RunAudit } from './run-audit';
import { DATASET } from './fixtures.spec-helper';

/** The service credential the fake framer requires (the auditor sends its SERVICE_TOKEN). */
const FRAMER_SERVICE_TOKEN = 'test-service-token-0123456789abcdef0123';

const acme = tenantId('acme');
const dataset = DATASET;
const candidate = (over: Partial<AuditCandidate> = {}): AuditCandidate =>
  ({
    id: 'run-1',
    contextId: 'ctx-1',
    run: {
      version: 'v1',
      contextId: 'ctx-1',
      runId: 'run-1',
      method: 'sft',
      baseModel: 'tiny',
      datasetVersionId: 'dv-1',
      adapterId: 'adapter-1',
      artifactUri: 'file:///artifacts/runs/run-1',
      metrics: {},
    },
    status: 'awaiting-audit',
    auditRunId: null,
    jobId: null,
    attempts: 0,
    maxAttempts: 0,
    requests: 0,
    nextAttemptAt: null,
    error: null,
    updatedAt: null,
    completedAt: '2026-01-01T00:00:00.000Z',
    completedEventId: 'evt-1',
    ...over,
  }) as AuditCandidate;

/** A stored report (the fields the view reads: no items) and the view the JSON answer adds to it. */
const STORED_REPORT = { version: 'v1', verdict: 'pass', results: [], clauses: [] };
const EMPTY_VIEW = {
  outcomes: {
    both_fine: { count: 0, items: [] },
    only_base_right: { count: 0, items: [] },
    only_aligned_right: { count: 0, items: [] },
    both_fail: { count: 0, items: [] },
  },
  clauseCompliance: [],
};

describe('audit retry policy', () => {
  it('waits 5 s, then twice as long each time, over about ten minutes by default', () => {
    const retry: AuditRetry = { attempts: 8, delayMs: 5_000 };
    const waits = Array.from({ length: 7 }, (_, i) => retryDelayMs(retry, i + 1) / 1000);
    expect(waits).toEqual([5, 10, 20, 40, 80, 160, 320]);
    expect(waits.reduce((a, b) => a + b)).toBe(635);
    expect(auditRetryProblem(retry)).toBeNull();
    expect(auditRetryProblem({ attempts: 20, delayMs: 5_000 })).toMatch(/^AUDIT_ATTEMPTS=20 with AUDIT_RETRY_DELAY_MS=5000 would wait/);
  });
});

describe('audit state on the candidate', () => {
  it('keeps the cause chain, and queues a retry until the attempts run out', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const queued = markQueued(candidate(), { auditRunId: 'audit-1', jobId: 'audit-1', maxAttempts: 8, request: 1 }, now);
    const error = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED' }),
    });
    const retrying = markAttemptFailed(queued, { attempt: 1, maxAttempts: 8, error, retryDelayMs: 5_000 }, now);
    expect(auditStatusOf(retrying)).toMatchObject({
      state: 'queued',
      attempts: { made: 1, max: 8 },
      nextAttemptAt: '2026-01-01T00:00:05.000Z',
      error: {
        message: 'fetch failed: connect ECONNREFUSED 127.0.0.1:8000',
        causes: [
          { name: 'TypeError', message: 'fetch failed' },
          { name: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:8000', code: 'ECONNREFUSED' },
        ],
        attempt: 1,
      },
    });
    const failed = markAttemptFailed(retrying, { attempt: 8, maxAttempts: 8, error, retryDelayMs: 640_000 }, now);
    expect(auditStatusOf(failed)).toMatchObject({ state: 'failed', attempts: { made: 8, max: 8 }, nextAttemptAt: null });
    expect(AuditStatusV1.parse(auditStatusOf(failed))).toEqual(auditStatusOf(failed));
  });

  it('reads a record written before the cause chain was kept', () => {
    const legacy = AUDIT_CANDIDATES.schema.parse({ ...candidate({ status: 'failed' }), error: 'fetch failed' });
    expect(auditStatusOf(legacy)).toMatchObject({ state: 'failed', error: { message: 'fetch failed', causes: [] } });
  });
});

/** A framer that serves the dataset version, and can be switched off (its port then refuses connections). */
class FakeFramer {
  private server: Server | null = null;
  port = 0;
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      // The framer refuses calls without the service credential, as the real one does.
      if (req.headers['x-studio-service-token'] !== FRAMER_SERVICE_TOKEN) res.writeHead(401).end('{"message":"service token required"}');
      else if (req.url === '/v1/contexts/ctx-1/datasets/dv-1') res.end(JSON.stringify(dataset));
      else res.writeHead(404).end(JSON.stringify({ message: 'not found' }));
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

/** The in-process job queue, recording what was enqueued with which options. */
class RecordingQueue extends InProcessJobQueue {
  readonly enqueued: { jobId: string | undefined; attempts: number | undefined; backoffMs: number | undefined }[] = [];
  override enqueue<N extends JobName>(name: N, payload: JobPayload<N>, options: EnqueueOptions = {}): Promise<{ jobId: string }> {
    this.enqueued.push({ jobId: options.jobId, attempts: options.attempts, backoffMs: options.backoffMs });
    return super.enqueue(name, payload, options);
  }
}

describe('GET and POST /v1/runs/:runId/audit', () => {
  const framer = new FakeFramer();
  const db = new DatabaseSync(':memory:');
  const candidates = new SqliteRepository(db, AUDIT_CANDIDATES);
  const audits = new SqliteRepository(db, { collection: 'audit_runs', schema: AuditRunRecord });
  const retry: AuditRetry = { attempts: 3, delayMs: 20 };
  const queue = new RecordingQueue();
  let worker: InProcessJobWorker;
  let app: INestApplication;
  let base = '';
  /** Stored files by URI (null: missing); any other URI holds STORED_REPORT. */
  const storedFiles = new Map<string, string | null>();

  beforeAll(async () => {
    await framer.start();
    const moduleRef = await Test.createTestingModule({
      controllers: [ReportsController],
      providers: [
        { provide: AUDIT_CANDIDATES_REPOSITORY, useValue: candidates },
        { provide: AUDITS_REPOSITORY, useValue: audits },
        { provide: EVALUATION_QUEUE_PORT, useValue: queue satisfies JobQueue },
        { provide: FRAMER_CLIENT, useValue: new FramerClient(`http://127.0.0.1:${framer.port}`, FRAMER_SERVICE_TOKEN) },
        { provide: INSTRUCTOR_CLIENT, useValue: { latestRewardModel: async () => null } },
        { provide: AUDIT_SETTINGS, useValue: { maxItems: 4, ragTopK: 2, maxTokens: 16, concurrency: 1 } },
        { provide: AUDIT_RETRY, useValue: retry },
        {
          provide: AUDIT_PORTS,
          useValue: {
            artifacts: {
              read: async (uri: string) => {
                const text = storedFiles.get(uri);
                if (text === null) throw new Error(`ENOENT: no such file or directory, open '${uri}'`);
                return text ?? JSON.stringify(STORED_REPORT);
              },
            },
          },
        },
        { provide: EVENT_BUS, useValue: {} },
        RequestAudit,
        RunAudit,
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
    const runAudit = app.get(RunAudit);
    worker = new InProcessJobWorker(queue, { jobs: [EVALUATE_RUN_JOB] });
    worker.handle(EVALUATE_RUN_JOB, (job, context) => runAudit.execute(job, context));
    await worker.start();
  });
  afterAll(async () => {
    await worker.stop();
    await queue.close();
    await app.close();
    await framer.stop().catch(() => undefined);
  });

  const call = async (method: 'GET' | 'POST', runId = 'run-1') => {
    const res = await fetch(`${base}/v1/runs/${runId}/audit`, { method, headers: { 'x-tenant-id': 'acme' } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const until = async (what: string, ok: () => Promise<boolean>) => {
    for (let i = 0; i < 200; i += 1) {
      if (await ok()) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`timed out waiting until ${what}`);
  };

  it('answers 404 for a run the auditor has not seen complete', async () => {
    const res = await call('GET', 'run-unknown');
    expect(res.status).toBe(404);
    expect(String(res.body['message'])).toMatch(/training run "run-unknown" has no audit/);
    expect((await call('POST', 'run-unknown')).status).toBe(404);
  });

  it('shows a failed audit as failed, with its attempts and the cause of the last failure, and re-audits it once', async () => {
    const requestAudit = app.get(RequestAudit);
    await candidates.upsert(acme, candidate());
    // Queued while the framer answers, then the framer goes away: every attempt is refused.
    const queued = requestAudit.execute(acme, candidate());
    await queued;
    await framer.stop();
    expect(queue.enqueued.at(-1)).toMatchObject({ attempts: 3, backoffMs: 20 });
    const auditRunId = queue.enqueued.at(-1)?.jobId as string;
    expect(auditRunId).toMatch(/^audit-/);

    await until('the audit has failed', async () => (await call('GET')).body['state'] === 'failed');
    const failed = await call('GET');
    expect(failed.status).toBe(200);
    expect(AuditStatusV1.parse(failed.body)).toMatchObject({
      runId: 'run-1',
      auditRunId,
      state: 'failed',
      attempts: { made: 3, max: 3 },
      requests: 1,
      report: null,
      error: {
        attempt: 3,
        message: expect.stringMatching(
          new RegExp(
            `^reading (dataset version dv-1|context ctx-1|clauses of ctx-1|clauses of dataset version dv-1) from the framer at .* failed: fetch failed: connect ECONNREFUSED 127\\.0\\.0\\.1:${framer.port}$`,
          ),
        ),
        causes: expect.arrayContaining([expect.objectContaining({ code: 'ECONNREFUSED' })]),
      },
    });
    expect((await queue.status(EVALUATE_RUN_JOB, auditRunId))?.failedReason).toMatch(/fetch failed: connect ECONNREFUSED/);

    // Re-audit: a new job (the failed one keeps its id), queued once however often it is asked for.
    await framer.start();
    const before = queue.enqueued.length;
    const [first, second] = await Promise.all([call('POST'), call('POST')]);
    expect([first.status, second.status]).toEqual([202, 202]);
    await until('the re-audit has failed too', async () => (await call('GET')).body['state'] === 'failed');
    const jobIds = new Set(queue.enqueued.slice(before).map((e) => e.jobId));
    expect([...jobIds]).toEqual([`${auditRunId}-r2`]);
    expect((await call('GET')).body).toMatchObject({ state: 'failed', requests: 2, attempts: { made: 3, max: 3 } });
  });

  it('answers 202 with the state and queues nothing while the audit is queued or running', async () => {
    await candidates.upsert(
      acme,
      candidate({ id: 'run-2', status: 'running', auditRunId: 'audit-2', jobId: null, attempts: 1, maxAttempts: 3, requests: 1 }),
    );
    const before = queue.enqueued.length;
    const res = await call('POST', 'run-2');
    expect(res).toMatchObject({ status: 202, body: { state: 'running', attempts: { made: 1, max: 3 } } });
    expect(queue.enqueued.length).toBe(before);
  });

  it('queues the audit of a run recorded but never queued, once', async () => {
    await candidates.upsert(acme, candidate({ id: 'run-4' }));
    const before = queue.enqueued.length;
    const [first, second] = await Promise.all([call('POST', 'run-4'), call('POST', 'run-4')]);
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(new Set(queue.enqueued.slice(before).map((e) => e.jobId)).size).toBe(1);
    expect(queue.enqueued.at(-1)?.jobId).toMatch(/^audit-[0-9a-f]{16}$/);
  });

  it('answers a 500 naming the report and each problem when the stored report is malformed or missing, never a bare 500', async () => {
    const record = (id: string, uri: string) =>
      audits.upsert(acme, {
        id,
        contextId: 'ctx-1',
        runId: `run-of-${id}`,
        adapterId: 'adapter-1',
        datasetVersionId: 'dv-1',
        items: 4,
        verdict: 'pass',
        reportJsonUri: uri,
        reportMarkdownUri: `${uri}.md`,
        createdAt: '2026-01-01T00:00:00.000Z',
        stale: null,
      });
    const get = async (id: string, format = 'json') => {
      const res = await fetch(`${base}/v1/audits/${id}?format=${format}`, { headers: { 'x-tenant-id': 'acme' } });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    storedFiles.set('file:///no-results.json', JSON.stringify({ version: 'v1', verdict: 'pass' }));
    await record('audit-bad', 'file:///no-results.json');
    const noResults = await get('audit-bad');
    expect(noResults.status).toBe(500);
    expect(noResults.body).toMatchObject({
      message:
        'stored audit report audit-bad (file:///no-results.json) is malformed: results: missing (expected array); clauses: missing (expected array)',
      problem: 'malformed-report',
      auditRunId: 'audit-bad',
      issues: [
        { path: 'results', message: 'missing (expected array)' },
        { path: 'clauses', message: 'missing (expected array)' },
      ],
    });

    storedFiles.set('file:///truncated.json', '{"version":"v1","results":[');
    await record('audit-cut', 'file:///truncated.json');
    const cut = await get('audit-cut');
    expect(cut.status).toBe(500);
    expect(String(cut.body['message'])).toMatch(/^stored audit report audit-cut \(file:\/\/\/truncated\.json\) is malformed: not JSON \(/);

    storedFiles.set('file:///gone.json', null);
    storedFiles.set('file:///gone.json.md', null);
    await record('audit-gone', 'file:///gone.json');
    for (const format of ['json', 'md']) {
      const gone = await get('audit-gone', format);
      expect(gone.status).toBe(500);
      expect(gone.body).toMatchObject({ problem: 'unreadable-report', auditRunId: 'audit-gone' });
      expect(String(gone.body['message'])).toMatch(
        /^stored audit report audit-gone \(file:\/\/\/gone\.json(\.md)?\) cannot be read: ENOENT/,
      );
    }
  });

  it('answers the report once the audit has completed, and does not re-run it', async () => {
    await candidates.upsert(
      acme,
      candidate({ id: 'run-3', status: 'audited', auditRunId: 'audit-3', requests: 1, maxAttempts: 3, attempts: 1 }),
    );
    await audits.upsert(acme, {
      id: 'audit-3',
      contextId: 'ctx-1',
      runId: 'run-3',
      adapterId: 'adapter-1',
      datasetVersionId: 'dv-1',
      items: 4,
      verdict: 'pass',
      reportJsonUri: 'file:///r.json',
      reportMarkdownUri: 'file:///r.md',
      createdAt: '2026-01-01T00:00:00.000Z',
      stale: null,
    });
    expect(await call('GET', 'run-3')).toEqual({ status: 200, body: { ...STORED_REPORT, stale: null, ...EMPTY_VIEW } });
    // The report is written (and its verdict published) a moment before the candidate says audited.
    await candidates.upsert(
      acme,
      candidate({ id: 'run-3', status: 'running', auditRunId: 'audit-3', requests: 1, maxAttempts: 3, attempts: 1 }),
    );
    expect(await call('GET', 'run-3')).toEqual({ status: 200, body: { ...STORED_REPORT, stale: null, ...EMPTY_VIEW } });
    const before = queue.enqueued.length;
    expect(await call('POST', 'run-3')).toMatchObject({ status: 200, body: { state: 'completed', report: '/v1/audits/audit-3' } });
    expect(queue.enqueued.length).toBe(before);

    // A revision of a document changed clauses the audited dataset cites: the report says the audit is stale.
    const revised = {
      version: 'v1' as const,
      contextId: 'ctx-1',
      documentId: 'doc-1',
      fromVersion: 1,
      toVersion: 2,
      fromSha256: 'a'.repeat(64),
      toSha256: 'b'.repeat(64),
      summary: { unchanged: 3, moved: 0, changed: 1, added: 0, removed: 0 },
      staleClauseIds: ['doc-1:1:abc'],
      addedClauseIds: ['doc-1:1:def'],
      staleDatasetVersions: [{ datasetVersionId: 'dv-1', staleExamples: 2, examples: 4 }],
    };
    const handler = new RevisionsHandler(audits);
    const event = buildCloudEvent({ topic: DOCUMENT_REVISED_V1, source: '/test', tenantId: 'acme', contextId: 'ctx-1', data: revised });
    await handler.onDocumentRevised(event);
    await handler.onDocumentRevised(event); // redelivered: recorded once
    const stale = (await call('GET', 'run-3')).body['stale'] as { reason: string; staleExamples: number; revisions: unknown[] };
    expect(stale).toMatchObject({
      since: event.time,
      staleExamples: 2,
      revisions: [{ documentId: 'doc-1', fromVersion: 1, toVersion: 2, staleExamples: 2 }],
    });
    expect(stale.reason).toBe("2 of the audited dataset's examples cite clauses that document doc-1 v1→v2 changed");
    const markdown = await fetch(`${base}/v1/audits/audit-3?format=md`, { headers: { 'x-tenant-id': 'acme' } });
    expect(await markdown.text()).toMatch(/^> \*\*Stale audit\*\* \(.+\): 2 of the audited dataset's examples cite clauses/);
  });
});
