import { Queue } from 'bullmq';
import { ContractViolation, EVALUATE_RUN_JOB, TRAIN_JOB, type EvaluationJobV1 } from '@studio/contracts';
import { JobWorkerStartupError } from '@studio/ports';
import { describeWithServers, eventually, uniqueName } from '@studio/testing';
import { producerConnection } from './connection';
import { BullMqJobQueue } from './job-queue';
import { BullMqJobWorker } from './job-worker';

function payload(overrides: Partial<EvaluationJobV1> = {}): EvaluationJobV1 {
  return {
    schema_version: 'v1',
    tenant_id: 'acme',
    context_id: 'bcg',
    audit_run_id: 'audit-1',
    run_id: 'run-1',
    dataset_version_id: uniqueName('dv'),
    variants: ['base', 'aligned'],
    base_model: 'tiny',
    adapter_name: null,
    judge_model: null,
    max_items: 7,
    ...overrides,
  };
}

describeWithServers(['REDIS_URL'], 'BullMQ job queue and worker on a real Redis', ({ REDIS_URL }) => {
  let prefix: string;
  let queue: BullMqJobQueue;
  const workers: BullMqJobWorker[] = [];
  const raws: { queue: Queue; connection: ReturnType<typeof producerConnection> }[] = [];

  /** The `evaluation` queue as plain BullMQ sees it, past our adapters' validation. */
  function rawQueue(): Queue {
    const connection = producerConnection(REDIS_URL);
    const raw = new Queue('evaluation', { connection, prefix });
    raws.push({ queue: raw, connection });
    return raw;
  }

  function worker(options: Partial<ConstructorParameters<typeof BullMqJobWorker>[0]> = {}): BullMqJobWorker {
    const w = new BullMqJobWorker({ redisUrl: REDIS_URL, prefix, jobs: [EVALUATE_RUN_JOB], shutdownGraceMs: 2_000, ...options });
    workers.push(w);
    return w;
  }

  beforeEach(() => {
    prefix = uniqueName('studio-test');
    queue = new BullMqJobQueue({ redisUrl: REDIS_URL, prefix, defaultBackoffMs: 10 });
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    await queue.close();
    for (const raw of raws.splice(0)) {
      await raw.queue.close();
      await raw.connection.quit();
    }
  });

  it('runs a typed job through a worker, with progress and a result', async () => {
    const seen: { payload: EvaluationJobV1; attempt: number }[] = [];
    const w = worker();
    w.handle(EVALUATE_RUN_JOB, async (data, context) => {
      seen.push({ payload: data, attempt: context.attempt });
      await context.reportProgress({ step: 1, of: 2 });
      return { examples: 42 };
    });
    await w.start();

    const job = payload();
    const { jobId } = await queue.enqueue(EVALUATE_RUN_JOB, job, { jobId: `gen-${job.dataset_version_id}` });
    expect(jobId).toBe(`gen-${job.dataset_version_id}`);
    const status = await eventually(async () => {
      const s = await queue.status(EVALUATE_RUN_JOB, jobId);
      return s?.state === 'completed' ? s : null;
    });
    expect(status).toMatchObject({
      id: jobId,
      name: EVALUATE_RUN_JOB,
      state: 'completed',
      result: { examples: 42 },
      progress: { step: 1, of: 2 },
      failedReason: null,
    });
    expect(seen).toEqual([{ payload: job, attempt: 1 }]);
    expect(await queue.status(TRAIN_JOB, jobId)).toBeNull();
  });

  it('deduplicates by job id', async () => {
    const job = payload();
    const first = await queue.enqueue(EVALUATE_RUN_JOB, job, { jobId: 'same-id' });
    const second = await queue.enqueue(EVALUATE_RUN_JOB, job, { jobId: 'same-id' });
    expect(second).toEqual(first);
    expect((await rawQueue().getJobCounts('waiting')).waiting).toBe(1);
    await expect(queue.enqueue(EVALUATE_RUN_JOB, job, { jobId: 'a:b' })).rejects.toThrow(/invalid job id "a:b"/);
  });

  it('rejects an invalid payload at enqueue, naming the job and the field, and enqueues nothing', async () => {
    const bad = { ...payload(), max_items: -1, variants: [] };
    const error = await queue.enqueue(EVALUATE_RUN_JOB, bad).catch((err: Error) => err);
    expect(error).toBeInstanceOf(ContractViolation);
    expect((error as Error).message).toMatch(/^payload of job "evaluate-run" does not match its contract/);
    expect((error as Error).message).toMatch(/at max_items/);
    expect((error as Error).message).toMatch(/at variants/);
    const raw = rawQueue();
    expect(await raw.count()).toBe(0);
  });

  it('retries a failing handler, then fails the job with its error', async () => {
    let calls = 0;
    const w = worker();
    w.handle(EVALUATE_RUN_JOB, async () => {
      calls += 1;
      throw new Error(`teacher model unreachable (call ${calls})`);
    });
    await w.start();
    const { jobId } = await queue.enqueue(EVALUATE_RUN_JOB, payload(), { attempts: 3, backoffMs: 20 });
    const status = await eventually(async () => {
      const s = await queue.status(EVALUATE_RUN_JOB, jobId);
      return s?.state === 'failed' ? s : null;
    });
    expect(calls).toBe(3);
    expect(status).toMatchObject({ state: 'failed', attemptsMade: 3, failedReason: 'teacher model unreachable (call 3)' });
  });

  it('fails a job whose payload breaks the contract without calling the handler or retrying', async () => {
    let calls = 0;
    const w = worker();
    w.handle(EVALUATE_RUN_JOB, async () => {
      calls += 1;
    });
    await w.start();
    // Written past the producer's validation, as another (buggy) producer could.
    const raw = rawQueue();
    await raw.add(EVALUATE_RUN_JOB, { schema_version: 'v1', tenant_id: 'acme' }, { jobId: 'raw-bad', attempts: 5, backoff: 10 });
    const status = await eventually(async () => {
      const s = await queue.status(EVALUATE_RUN_JOB, 'raw-bad');
      return s?.state === 'failed' ? s : null;
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(calls).toBe(0);
    expect((await raw.getJob('raw-bad'))?.attemptsStarted).toBe(1);
    expect((await queue.status(EVALUATE_RUN_JOB, 'raw-bad'))?.state).toBe('failed');
    expect(status.failedReason).toMatch(/payload of job "evaluate-run" does not match its contract[\s\S]*context_id/);
  });

  it('cancels an active job through its signal, and a waiting one by removing it', async () => {
    let started = false;
    let abortedWith: unknown = null;
    const w = worker();
    w.handle(EVALUATE_RUN_JOB, (_data, context) => {
      started = true;
      return new Promise((_resolve, reject) => {
        context.signal.addEventListener('abort', () => {
          abortedWith = context.signal.reason;
          reject(new Error('aborted by signal'));
        });
      });
    });
    await w.start();
    const { jobId } = await queue.enqueue(EVALUATE_RUN_JOB, payload(), { attempts: 3 });
    await eventually(async () => started && (await queue.status(EVALUATE_RUN_JOB, jobId))?.state === 'active');
    expect(await queue.cancel(EVALUATE_RUN_JOB, jobId)).toBe(true);
    const status = await eventually(async () => {
      const s = await queue.status(EVALUATE_RUN_JOB, jobId);
      return s?.state === 'cancelled' ? s : null;
    });
    expect(abortedWith).toBe('job cancelled');
    expect(status.attemptsMade).toBe(1);
    expect(await queue.cancel(EVALUATE_RUN_JOB, jobId)).toBe(false);

    await w.stop();
    const waiting = await queue.enqueue(EVALUATE_RUN_JOB, payload());
    expect((await queue.status(EVALUATE_RUN_JOB, waiting.jobId))?.state).toBe('waiting');
    expect(await queue.cancel(EVALUATE_RUN_JOB, waiting.jobId)).toBe(true);
    expect((await queue.status(EVALUATE_RUN_JOB, waiting.jobId))?.state).toBe('cancelled');
    expect(await queue.cancel(EVALUATE_RUN_JOB, 'never-enqueued')).toBe(false);
  });

  it('stop() waits for the active job to finish', async () => {
    let release: (() => void) | null = null;
    const w = worker();
    w.handle(EVALUATE_RUN_JOB, () => new Promise<string>((resolve) => (release = () => resolve('finished'))));
    await w.start();
    const { jobId } = await queue.enqueue(EVALUATE_RUN_JOB, payload());
    await eventually(async () => release !== null);
    let stopped = false;
    const stopping = w.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(stopped).toBe(false);
    (release as unknown as () => void)();
    await stopping;
    expect(await queue.status(EVALUATE_RUN_JOB, jobId)).toMatchObject({ state: 'completed', result: 'finished' });
  });

  it('refuses to start when a consumed queue has a job name with no handler or two', async () => {
    const missing = worker({ jobs: [EVALUATE_RUN_JOB, TRAIN_JOB] });
    missing.handle(EVALUATE_RUN_JOB, async () => undefined);
    await expect(missing.start()).rejects.toThrow(JobWorkerStartupError);
    await expect(worker({ jobs: [TRAIN_JOB] }).start()).rejects.toThrow(/job "train" on queue "training" has no handler/);

    const twice = worker();
    twice.handle(EVALUATE_RUN_JOB, async () => undefined);
    twice.handle(EVALUATE_RUN_JOB, async () => undefined);
    await expect(twice.start()).rejects.toThrow(/job "evaluate-run" on queue "evaluation" has 2 handlers/);

    // Nothing was consumed by the refused workers.
    await queue.enqueue(EVALUATE_RUN_JOB, payload(), { jobId: 'still-waiting' });
    await new Promise((r) => setTimeout(r, 200));
    expect((await queue.status(EVALUATE_RUN_JOB, 'still-waiting'))?.state).toBe('waiting');
  });
});
