import { DatabaseSync } from 'node:sqlite';
import { buildAuditReport, DEFAULT_DRIFT_MARGINS, evaluateItems, parseAuditThresholds, type AuditReportV1 } from '@studio/auditing';
import {
  AUDIT_DRIFT_DETECTED_V1,
  AuditDriftDetectedV1,
  buildCloudEvent,
  CHAT_CONVERSATION_SAMPLED_V1,
  SCORE_DRIFT_JOB,
  type ChatConversationSampledV1,
  type CloudEvent,
} from '@studio/contracts';
import { InProcessEventBus, InProcessJobQueue, InProcessJobWorker, SqliteRepository } from '@studio/inproc';
import { AUDIT_RUNS, type AuditRunRecord } from '@studio/pipeline';
import { tenantId } from '@studio/ports';
import { CHAT_SAMPLES, DRIFT_WINDOWS, driftJobId, type ChatSample, type DriftWindowRecord } from './drift-records';
import type { DriftSettings } from './drift-settings';
import { SamplesHandler } from './samples.handler';
import { ScoreDrift } from './score-drift';

const acme = tenantId('acme');
const GIFTS = 'Employees must not accept gifts worth more than $100 from suppliers.';
const REPORT_URI = 'tenants/acme/audits/audit-1/report.json';

/** A release audit whose aligned_rag answers are all answered, faithful and consistent. */
async function releaseReport(): Promise<AuditReportV1> {
  const thresholds = parseAuditThresholds({});
  const clauses = [{ id: 'c-gifts', numbering: '4.1', text: GIFTS }];
  const items = [
    { id: 'i1', question: 'Can I accept a $150 gift from a supplier?', reference: `No. ${GIFTS}`, clauseIds: ['c-gifts'] },
    { id: 'i2', question: 'Is a $500 watch from a supplier fine?', reference: `No. ${GIFTS}`, clauseIds: ['c-gifts'] },
  ];
  const good = `No. ${GIFTS}`;
  const answers = { base: { i1: 'Yes.', i2: 'Yes.' }, aligned: { i1: good, i2: good }, aligned_rag: { i1: good, i2: good } };
  const evaluation = await evaluateItems(items, answers, { clauses, itemPass: thresholds.itemPass });
  return buildAuditReport({
    meta: {
      contextId: 'ctx-1',
      auditRunId: 'audit-1',
      runId: 'run-1',
      datasetVersionId: 'dv-1',
      createdAt: '2026-12-01T10:00:00.000Z',
      models: { base: 'tiny', adapter: 'adapter-1', judge: null },
    },
    evaluation,
    thresholds,
  });
}

const AUDIT: AuditRunRecord = {
  id: 'audit-1',
  contextId: 'ctx-1',
  runId: 'run-1',
  adapterId: 'adapter-1',
  datasetVersionId: 'dv-1',
  items: 2,
  verdict: 'pass',
  reportJsonUri: REPORT_URI,
  reportMarkdownUri: 'tenants/acme/audits/audit-1/report.md',
  createdAt: '2026-12-01T10:00:00.000Z',
  stale: null,
};

let sequence = 0;
function sampled(answer: string, sampledAt: Date, deploymentId = 'dep-1'): CloudEvent<ChatConversationSampledV1> {
  sequence += 1;
  return buildCloudEvent<ChatConversationSampledV1>({
    topic: CHAT_CONVERSATION_SAMPLED_V1,
    source: '/test',
    tenantId: 'acme',
    contextId: 'ctx-1',
    data: {
      version: 'v1',
      contextId: 'ctx-1',
      conversationId: `chatcmpl-${sequence}`,
      deploymentId,
      runId: 'run-1',
      adapterId: 'adapter-1',
      auditRunId: 'audit-1',
      systemPrompt: 'You follow the policy.',
      messages: [{ role: 'user', content: 'May I accept a $300 gift from a supplier?' }],
      answer,
      modelText: answer,
      clauses: [{ clauseId: 'c-gifts', numbering: '4.1', citation: '§4.1', text: GIFTS, cited: answer.includes('§4.1') }],
      finishReason: 'stop',
      stream: false,
      sampledAt: sampledAt.toISOString(),
    },
  });
}

describe('drift of a deployed model: sampled conversations scored against the release audit', () => {
  const settings: DriftSettings = { windowMs: 60_000, settleMs: 0, minSamples: 3, margins: { ...DEFAULT_DRIFT_MARGINS } };
  let samples: SqliteRepository<ChatSample>;
  let windows: SqliteRepository<DriftWindowRecord>;
  let queue: InProcessJobQueue;
  let bus: InProcessEventBus;
  let handler: SamplesHandler;
  let scoreDrift: ScoreDrift;
  const published: CloudEvent<AuditDriftDetectedV1>[] = [];
  let reportJson = '';

  beforeAll(async () => {
    reportJson = JSON.stringify(await releaseReport());
  });

  beforeEach(async () => {
    const db = new DatabaseSync(':memory:');
    samples = new SqliteRepository(db, CHAT_SAMPLES);
    windows = new SqliteRepository(db, DRIFT_WINDOWS);
    const audits = new SqliteRepository(db, AUDIT_RUNS);
    await audits.upsert(acme, AUDIT);
    queue = new InProcessJobQueue();
    bus = new InProcessEventBus();
    published.length = 0;
    bus.subscribe(AUDIT_DRIFT_DETECTED_V1, async (event) => void published.push(event));
    await bus.start();
    handler = new SamplesHandler(samples, queue, settings);
    const artifacts = {
      read: async (uri: string) => {
        if (uri !== REPORT_URI) throw new Error(`no artifact ${uri}`);
        return reportJson;
      },
    } as unknown as ConstructorParameters<typeof ScoreDrift>[4]['artifacts'];
    const rewards = {
      loadRewardModel: async () => undefined,
      score: async () => [],
    };
    scoreDrift = new ScoreDrift(samples, windows, audits, { latestRewardModel: async () => null }, { artifacts, rewards }, bus, settings);
  });

  afterEach(async () => {
    await bus.stop();
    await queue.close();
  });

  const jobFor = (from: Date) => ({
    schema_version: 'v1' as const,
    tenant_id: 'acme',
    context_id: 'ctx-1',
    deployment_id: 'dep-1',
    window_from: from.toISOString(),
    window_to: new Date(from.getTime() + settings.windowMs).toISOString(),
  });

  it("files each sample under its window and queues the window's scoring once, delayed to the window's end", async () => {
    const from = new Date(Math.floor(Date.now() / settings.windowMs) * settings.windowMs);
    await handler.onConversationSampled(sampled('No (§4.1).', new Date(from.getTime() + 10)));
    await handler.onConversationSampled(sampled('No (§4.1).', new Date(from.getTime() + 20)));
    const stored = await samples.find(acme, { deploymentId: 'dep-1', windowFrom: from.toISOString() });
    expect(stored).toHaveLength(2);
    const status = await queue.status(SCORE_DRIFT_JOB, driftJobId('acme', 'dep-1', from.toISOString()));
    expect(status?.state).toBe('delayed');
  });

  it('publishes audit.drift.detected.v1 once for a window of refusals, and records it', async () => {
    const from = new Date('2026-12-01T12:00:00.000Z');
    for (let i = 0; i < 4; i++)
      await handler.onConversationSampled(sampled("I'm sorry, but I can't help with that.", new Date(from.getTime() + i * 1000)));
    const result = await scoreDrift.execute(jobFor(from));
    expect(result.drifted).toEqual(['answered', 'faithfulness']);
    await bus.stop();
    expect(published).toHaveLength(1);
    const event = AuditDriftDetectedV1.parse(published[0]?.data);
    expect(event).toMatchObject({
      contextId: 'ctx-1',
      deploymentId: 'dep-1',
      runId: 'run-1',
      auditRunId: 'audit-1',
      window: { from: from.toISOString(), to: '2026-12-01T12:01:00.000Z', samples: 4 },
      metrics: [
        { name: 'answered', release: 1, observed: 0, margin: 0.15 },
        { name: 'faithfulness', release: expect.any(Number), observed: 0, margin: 0.1 },
      ],
    });
    const [window] = await windows.find(acme, { contextId: 'ctx-1' });
    expect(window).toMatchObject({
      status: 'scored',
      releaseVariant: 'aligned_rag',
      drifted: ['answered', 'faithfulness'],
      eventId: published[0]?.id,
    });
    // The same window again (a retried or duplicated job): nothing more is published.
    expect((await scoreDrift.execute(jobFor(from))).drifted).toEqual(['answered', 'faithfulness']);
    expect(published).toHaveLength(1);
  });

  it('raises nothing for a window as good as the release, and concludes nothing from too few samples', async () => {
    const healthy = new Date('2026-12-01T13:00:00.000Z');
    for (let i = 0; i < 3; i++) await handler.onConversationSampled(sampled(`No. ${GIFTS} (§4.1)`, new Date(healthy.getTime() + i * 1000)));
    expect(await scoreDrift.execute(jobFor(healthy))).toMatchObject({ status: 'scored', drifted: [] });
    const sparse = new Date('2026-12-01T14:00:00.000Z');
    await handler.onConversationSampled(sampled("I can't help with that.", sparse));
    expect(await scoreDrift.execute(jobFor(sparse))).toMatchObject({ status: 'too-few-samples', drifted: [] });
    await bus.stop();
    expect(published).toEqual([]);
    const recorded = await windows.find(acme, { contextId: 'ctx-1' }, { sort: { scoredAt: 1 } });
    expect(recorded.map((w) => [w.status, w.window.samples, w.metrics.map((m) => m.name)])).toEqual([
      ['scored', 3, ['answered', 'faithfulness', 'consistency']],
      ['too-few-samples', 1, []],
    ]);
  });

  it('runs the window from the queue once it has ended: the worker scores it', async () => {
    const short: DriftSettings = { ...settings, windowMs: 300 };
    handler = new SamplesHandler(samples, queue, short);
    const worker = new InProcessJobWorker(queue, { jobs: [SCORE_DRIFT_JOB] });
    const results: unknown[] = [];
    worker.handle(SCORE_DRIFT_JOB, async (job) => {
      const result = await scoreDrift.execute(job);
      results.push(result);
      return result;
    });
    await worker.start();
    try {
      const now = new Date();
      for (let i = 0; i < 3; i++) await handler.onConversationSampled(sampled("I can't help with that.", now));
      for (let i = 0; i < 100 && results.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(results).toEqual([expect.objectContaining({ status: 'scored', drifted: expect.arrayContaining(['answered']) })]);
    } finally {
      await worker.stop();
    }
  });
});
