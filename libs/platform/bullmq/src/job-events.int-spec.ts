import { EVALUATE_RUN_JOB, type EvaluationJobV1 } from '@studio/contracts';
import { describeWithServers, eventually, uniqueName } from '@studio/testing';
import { BullMqJobEvents, type EventJob } from './job-events';
import { BullMqJobQueue } from './job-queue';
import { BullMqJobWorker } from './job-worker';

type Seen = { kind: string; jobId: string; value: unknown; contextId: string };

describeWithServers(['REDIS_URL'], 'BullMQ job events on a real Redis', ({ REDIS_URL }) => {
  let prefix: string;
  let queue: BullMqJobQueue;
  let worker: BullMqJobWorker;
  const listeners: BullMqJobEvents<typeof EVALUATE_RUN_JOB>[] = [];
  const seen: Seen[] = [];

  const payload = (): EvaluationJobV1 => ({
    schema_version: 'v1',
    tenant_id: 'acme',
    context_id: uniqueName('ctx'),
    audit_run_id: 'audit-1',
    run_id: 'run-1',
    dataset_version_id: uniqueName('dv'),
    variants: ['base', 'aligned'],
    base_model: 'tiny',
    adapter_name: null,
    judge_model: null,
    max_items: 7,
  });

  function listen(): BullMqJobEvents<typeof EVALUATE_RUN_JOB> {
    const record = (kind: string) => async (job: EventJob<typeof EVALUATE_RUN_JOB>, value: unknown) => {
      seen.push({ kind, jobId: job.id, value, contextId: job.data.context_id });
    };
    const listener = new BullMqJobEvents(
      { redisUrl: REDIS_URL, prefix, job: EVALUATE_RUN_JOB, consumer: 'test' },
      { progress: record('progress'), completed: record('completed'), failed: record('failed') },
    );
    listeners.push(listener);
    return listener;
  }

  beforeEach(async () => {
    seen.length = 0;
    prefix = uniqueName('studio-events');
    queue = new BullMqJobQueue({ redisUrl: REDIS_URL, prefix, defaultBackoffMs: 10 });
    worker = new BullMqJobWorker({ redisUrl: REDIS_URL, prefix, jobs: [EVALUATE_RUN_JOB], shutdownGraceMs: 2_000 });
    worker.handle(EVALUATE_RUN_JOB, async (data, context) => {
      if (data.max_items === 13) throw new Error(`attempt ${context.attempt} failed`);
      await context.reportProgress({ step: 1 });
      await context.reportProgress({ step: 2 });
      return { examples: 3 };
    });
  });
  afterEach(async () => {
    await Promise.all(listeners.splice(0).map((l) => l.stop()));
    await worker.stop();
    await queue.close();
  });

  it('delivers progress and the result in order, with the job payload', async () => {
    await listen().start();
    await worker.start();
    const job = payload();
    const { jobId } = await queue.enqueue(EVALUATE_RUN_JOB, job);
    await eventually(async () => seen.some((s) => s.kind === 'completed'));
    expect(seen).toEqual([
      { kind: 'progress', jobId, value: { step: 1 }, contextId: job.context_id },
      { kind: 'progress', jobId, value: { step: 2 }, contextId: job.context_id },
      { kind: 'completed', jobId, value: { examples: 3 }, contextId: job.context_id },
    ]);
  });

  it('reports a failure once, after the last attempt', async () => {
    await listen().start();
    await worker.start();
    const { jobId } = await queue.enqueue(EVALUATE_RUN_JOB, { ...payload(), max_items: 13 }, { attempts: 3, backoffMs: 10 });
    await eventually(async () => seen.some((s) => s.kind === 'failed'));
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toEqual([{ kind: 'failed', jobId, value: 'attempt 3 failed', contextId: expect.any(String) }]);
  });

  it('continues after a restart from where it stopped, missing nothing', async () => {
    const first = listen();
    await first.start();
    await worker.start();
    const a = await queue.enqueue(EVALUATE_RUN_JOB, payload());
    await eventually(async () => seen.some((s) => s.kind === 'completed' && s.jobId === a.jobId));
    await first.stop();
    const b = await queue.enqueue(EVALUATE_RUN_JOB, payload());
    await eventually(async () => (await queue.status(EVALUATE_RUN_JOB, b.jobId))?.state === 'completed');
    await listen().start();
    await eventually(async () => seen.some((s) => s.kind === 'completed' && s.jobId === b.jobId));
    expect(seen.filter((s) => s.jobId === a.jobId)).toHaveLength(3);
    expect(seen.filter((s) => s.jobId === b.jobId).map((s) => s.kind)).toEqual(['progress', 'progress', 'completed']);
  });
});
