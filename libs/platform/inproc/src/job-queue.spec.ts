import { ContractViolation, EVALUATE_RUN_JOB, TRAIN_JOB, type EvaluationJobV1 } from '@studio/contracts';
import { JobWorkerStartupError, type JobStatus } from '@studio/ports';
import { InProcessJobEvents, InProcessJobQueue, InProcessJobWorker } from './job-queue';

function payload(id = 'dv-1'): EvaluationJobV1 {
  return {
    schema_version: 'v1',
    tenant_id: 'acme',
    context_id: 'bcg',
    audit_run_id: 'audit-1',
    run_id: 'run-1',
    dataset_version_id: id,
    variants: ['base', 'aligned'],
    base_model: 'tiny',
    adapter_name: null,
    judge_model: null,
    max_items: 7,
  };
}

async function until(queue: InProcessJobQueue, jobId: string, state: JobStatus['state']): Promise<JobStatus> {
  for (let i = 0; i < 200; i += 1) {
    const status = await queue.status(EVALUATE_RUN_JOB, jobId);
    if (status?.state === state) return status;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`job ${jobId} never reached ${state}: ${JSON.stringify(await queue.status(EVALUATE_RUN_JOB, jobId))}`);
}

describe('InProcessJobQueue and InProcessJobWorker', () => {
  let queue: InProcessJobQueue;
  let worker: InProcessJobWorker;

  beforeEach(() => {
    queue = new InProcessJobQueue({ defaultBackoffMs: 1 });
    worker = new InProcessJobWorker(queue, { jobs: [EVALUATE_RUN_JOB], shutdownGraceMs: 50 });
  });

  afterEach(async () => {
    await worker.stop();
    await queue.close();
  });

  it('runs a typed job with progress and a result, once per job id', async () => {
    const seen: EvaluationJobV1[] = [];
    worker.handle(EVALUATE_RUN_JOB, async (data, context) => {
      seen.push(data);
      await context.reportProgress({ step: 1 });
      return { examples: 3 };
    });
    await worker.start();
    const { jobId } = await queue.enqueue(EVALUATE_RUN_JOB, payload(), { jobId: 'gen-1' });
    expect(await queue.enqueue(EVALUATE_RUN_JOB, payload(), { jobId: 'gen-1' })).toEqual({ jobId: 'gen-1' });
    expect(await until(queue, jobId, 'completed')).toEqual({
      id: 'gen-1',
      name: EVALUATE_RUN_JOB,
      state: 'completed',
      progress: { step: 1 },
      attemptsMade: 1,
      result: { examples: 3 },
      failedReason: null,
    });
    expect(seen).toEqual([payload()]);
    expect(await queue.status(TRAIN_JOB, 'gen-1')).toBeNull();
  });

  it('holds a delayed job until its delay has passed, one job per id, and refuses a negative delay', async () => {
    const ran: number[] = [];
    worker.handle(EVALUATE_RUN_JOB, async () => void ran.push(Date.now()));
    await worker.start();
    const enqueued = Date.now();
    await queue.enqueue(EVALUATE_RUN_JOB, payload(), { jobId: 'later', delayMs: 150 });
    await queue.enqueue(EVALUATE_RUN_JOB, payload(), { jobId: 'later', delayMs: 10 });
    expect((await queue.status(EVALUATE_RUN_JOB, 'later'))?.state).toBe('delayed');
    await until(queue, 'later', 'completed');
    expect(ran).toHaveLength(1);
    expect((ran[0] as number) - enqueued).toBeGreaterThanOrEqual(140);
    await expect(queue.enqueue(EVALUATE_RUN_JOB, payload(), { delayMs: -1 })).rejects.toThrow('invalid job delay -1');
  });

  it('rejects an invalid payload or job id at enqueue', async () => {
    const bad = { ...payload(), variants: [] };
    await expect(queue.enqueue(EVALUATE_RUN_JOB, bad)).rejects.toThrow(ContractViolation);
    await expect(queue.enqueue(EVALUATE_RUN_JOB, bad)).rejects.toThrow(
      /payload of job "evaluate-run" does not match its contract[\s\S]*variants/,
    );
    await expect(queue.enqueue(EVALUATE_RUN_JOB, payload(), { jobId: '42' })).rejects.toThrow(/invalid job id "42"/);
  });

  it('retries a failing handler with backoff, then fails the job', async () => {
    const attempts: number[] = [];
    worker.handle(EVALUATE_RUN_JOB, async (_data, context) => {
      attempts.push(context.attempt);
      throw new Error(`boom ${context.attempt}`);
    });
    await worker.start();
    const { jobId } = await queue.enqueue(EVALUATE_RUN_JOB, payload(), { attempts: 3 });
    expect(await until(queue, jobId, 'failed')).toMatchObject({ attemptsMade: 3, failedReason: 'boom 3' });
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('runs one job at a time by default', async () => {
    let running = 0;
    let most = 0;
    worker.handle(EVALUATE_RUN_JOB, async () => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 10));
      running -= 1;
    });
    await worker.start();
    const ids = await Promise.all(['a', 'b', 'c'].map((id) => queue.enqueue(EVALUATE_RUN_JOB, payload(id), { jobId: `job-${id}` })));
    for (const { jobId } of ids) await until(queue, jobId, 'completed');
    expect(most).toBe(1);
  });

  it('cancels an active job through its signal, and a waiting one before it starts', async () => {
    let abortedWith: unknown = null;
    let started = false;
    worker.handle(
      EVALUATE_RUN_JOB,
      (_data, context) =>
        new Promise((_resolve, reject) => {
          started = true;
          context.signal.addEventListener('abort', () => {
            abortedWith = context.signal.reason;
            reject(new Error('aborted'));
          });
        }),
    );
    await worker.start();
    const active = await queue.enqueue(EVALUATE_RUN_JOB, payload('a'), { jobId: 'active', attempts: 3 });
    const waiting = await queue.enqueue(EVALUATE_RUN_JOB, payload('b'), { jobId: 'waiting' });
    await until(queue, active.jobId, 'active');
    while (!started) await new Promise((r) => setTimeout(r, 1));
    expect(await queue.cancel(EVALUATE_RUN_JOB, waiting.jobId)).toBe(true);
    expect((await queue.status(EVALUATE_RUN_JOB, waiting.jobId))?.state).toBe('cancelled');
    expect(await queue.cancel(EVALUATE_RUN_JOB, active.jobId)).toBe(true);
    expect(await until(queue, active.jobId, 'cancelled')).toMatchObject({ attemptsMade: 1, failedReason: 'job cancelled' });
    expect(abortedWith).toBe('job cancelled');
    expect(await queue.cancel(EVALUATE_RUN_JOB, active.jobId)).toBe(false);
    expect(await queue.cancel(EVALUATE_RUN_JOB, 'unknown')).toBe(false);
  });

  it('stop() waits for the active job, and puts back one that outlives the grace period', async () => {
    let release: (() => void) | null = null;
    worker.handle(EVALUATE_RUN_JOB, () => new Promise<string>((resolve) => (release = () => resolve('done'))));
    await worker.start();
    const { jobId } = await queue.enqueue(EVALUATE_RUN_JOB, payload());
    while (!release) await new Promise((r) => setTimeout(r, 1));
    const stopped = worker.stop();
    // Past the 50 ms grace the signal is aborted; this handler ignores it, and stop() still waits for it.
    await new Promise((r) => setTimeout(r, 100));
    expect((await queue.status(EVALUATE_RUN_JOB, jobId))?.state).toBe('active');
    (release as unknown as () => void)();
    await stopped;
    expect((await queue.status(EVALUATE_RUN_JOB, jobId))?.state).toBe('completed');

    const stubborn = new InProcessJobWorker(queue, { jobs: [EVALUATE_RUN_JOB], shutdownGraceMs: 20 });
    stubborn.handle(
      EVALUATE_RUN_JOB,
      (_data, context) =>
        new Promise((_resolve, reject) => context.signal.addEventListener('abort', () => reject(new Error('shutting down')))),
    );
    await stubborn.start();
    const second = await queue.enqueue(EVALUATE_RUN_JOB, payload('2'));
    await until(queue, second.jobId, 'active');
    await stubborn.stop();
    expect(await queue.status(EVALUATE_RUN_JOB, second.jobId)).toMatchObject({ state: 'waiting', attemptsMade: 0 });

    const next = new InProcessJobWorker(queue, { jobs: [EVALUATE_RUN_JOB] });
    next.handle(EVALUATE_RUN_JOB, async () => 'resumed');
    await next.start();
    expect((await until(queue, second.jobId, 'completed')).result).toBe('resumed');
    await next.stop();
  });

  it('refuses to start when a consumed queue has a job name with no handler or two', async () => {
    const missing = new InProcessJobWorker(queue, { jobs: [EVALUATE_RUN_JOB, TRAIN_JOB] });
    missing.handle(EVALUATE_RUN_JOB, async () => undefined);
    await expect(missing.start()).rejects.toThrow(JobWorkerStartupError);
    await expect(missing.start()).rejects.toThrow(/job "train" on queue "training" has no handler/);

    worker.handle(EVALUATE_RUN_JOB, async () => undefined);
    worker.handle(EVALUATE_RUN_JOB, async () => undefined);
    await expect(worker.start()).rejects.toThrow(/job "evaluate-run" on queue "evaluation" has 2 handlers/);
    const { jobId } = await queue.enqueue(EVALUATE_RUN_JOB, payload());
    await new Promise((r) => setTimeout(r, 20));
    expect((await queue.status(EVALUATE_RUN_JOB, jobId))?.state).toBe('waiting');
  });
});

describe('InProcessJobEvents', () => {
  it('reports progress, the result and the final failure (not a retried attempt) of one job name, in order', async () => {
    const queue = new InProcessJobQueue({ defaultBackoffMs: 1 });
    const worker = new InProcessJobWorker(queue, { jobs: [EVALUATE_RUN_JOB] });
    const seen: string[] = [];
    let flaky = 0;
    worker.handle(EVALUATE_RUN_JOB, async (data, context) => {
      await context.reportProgress({ step: 1 });
      if (data.dataset_version_id === 'dv-bad') throw new Error('RuntimeError: out of memory');
      if (data.dataset_version_id === 'dv-flaky' && flaky++ === 0) throw new Error('transient');
      return { examples: 3 };
    });
    const events = new InProcessJobEvents(queue, EVALUATE_RUN_JOB, {
      progress: async (job, value) => void seen.push(`${job.id} progress ${JSON.stringify(value)} ${job.data.dataset_version_id}`),
      completed: async (job, value) => void seen.push(`${job.id} completed ${JSON.stringify(value)}`),
      failed: async (job, reason, attempts) => void seen.push(`${job.id} failed ${reason} after ${attempts}`),
    });
    await events.start();
    await worker.start();
    await queue.enqueue(EVALUATE_RUN_JOB, payload('dv-ok'), { jobId: 'ok' });
    await until(queue, 'ok', 'completed');
    await queue.enqueue(EVALUATE_RUN_JOB, payload('dv-flaky'), { jobId: 'flaky', attempts: 2 });
    await until(queue, 'flaky', 'completed');
    await queue.enqueue(EVALUATE_RUN_JOB, payload('dv-bad'), { jobId: 'bad', attempts: 1 });
    await until(queue, 'bad', 'failed');
    await worker.stop();
    await events.stop();
    expect(seen).toEqual([
      'ok progress {"step":1} dv-ok',
      'ok completed {"examples":3}',
      'flaky progress {"step":1} dv-flaky',
      'flaky progress {"step":1} dv-flaky',
      'flaky completed {"examples":3}',
      'bad progress {"step":1} dv-bad',
      'bad failed RuntimeError: out of memory after 1',
    ]);
    await queue.enqueue(EVALUATE_RUN_JOB, payload('dv-late'), { jobId: 'late' });
    expect(seen).toHaveLength(7); // stopped: nothing more
    await queue.close();
  });

  it('retries a failing handler, then reports the event lost and goes on', async () => {
    const queue = new InProcessJobQueue();
    const worker = new InProcessJobWorker(queue, { jobs: [EVALUATE_RUN_JOB] });
    worker.handle(EVALUATE_RUN_JOB, async () => ({ ok: true }));
    const lost: string[] = [];
    let calls = 0;
    const events = new InProcessJobEvents(
      queue,
      EVALUATE_RUN_JOB,
      {
        completed: async () => {
          calls += 1;
          throw new Error('database down');
        },
      },
      { attempts: 2, onLost: (error, event) => lost.push(`${event.kind} ${event.jobId}: ${error}`) },
    );
    await events.start();
    await worker.start();
    await queue.enqueue(EVALUATE_RUN_JOB, payload(), { jobId: 'j' });
    await until(queue, 'j', 'completed');
    await worker.stop();
    await events.stop();
    expect(calls).toBe(2);
    expect(lost).toEqual(['completed j: database down']);
    await queue.close();
  });
});
