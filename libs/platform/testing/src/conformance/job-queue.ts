import { ContractViolation, EVALUATE_RUN_JOB, type EvaluationJobV1, type JobName } from '@studio/contracts';
import {
  JOB_CANCELLED,
  JobWorkerStartupError,
  WORKER_SHUTTING_DOWN,
  type JobContext,
  type JobQueue,
  type JobStatus,
  type JobWorker,
} from '@studio/ports';
import { eventually } from '../servers';

export interface JobWorkerOptionsUnderTest {
  jobs: readonly JobName[];
  /** How long stop() lets an active job finish before aborting its signal. */
  shutdownGraceMs?: number;
}

/** One adapter pair under test, fresh for each case (its own queues: a BullMQ prefix...). */
export interface JobQueueUnderTest {
  queue: JobQueue;
  /** A new worker consuming this queue. */
  worker: (options: JobWorkerOptionsUnderTest) => JobWorker;
  dispose?: () => Promise<void>;
}

const JOB = EVALUATE_RUN_JOB;
let counter = 0;

function payload(overrides: Partial<EvaluationJobV1> = {}): EvaluationJobV1 {
  counter += 1;
  return {
    schema_version: 'v1',
    tenant_id: 'acme',
    context_id: 'conduct',
    audit_run_id: `audit-${counter}`,
    run_id: 'run-1',
    dataset_version_id: 'dv-1',
    variants: ['base', 'aligned'],
    base_model: 'tiny',
    adapter_name: null,
    judge_model: null,
    max_items: 10,
    ...overrides,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The JobQueue/JobWorker ports' semantics, the same cases for every adapter: validated payloads,
 * job id idempotence, progress and results in `status`, retries up to `attempts`, cancellation
 * (a running handler sees its signal abort; a waiting job never runs) and resume after a
 * worker shutdown (the job is put back, not failed, and the next worker runs it).
 */
export function describeJobQueueConformance(name: string, makeQueue: () => Promise<JobQueueUnderTest>): void {
  describe(`JobQueue conformance: ${name}`, () => {
    let subject: JobQueueUnderTest;
    let queue: JobQueue;
    let workers: JobWorker[];

    function worker(options: Partial<JobWorkerOptionsUnderTest> = {}): JobWorker {
      const w = subject.worker({ jobs: [JOB], shutdownGraceMs: 2_000, ...options });
      workers.push(w);
      return w;
    }

    async function settled(jobId: string, state: JobStatus['state']): Promise<JobStatus> {
      return eventually(
        async () => {
          const status = await queue.status(JOB, jobId);
          return status?.state === state ? status : null;
        },
        15_000,
        25,
      );
    }

    beforeEach(async () => {
      subject = await makeQueue();
      queue = subject.queue;
      workers = [];
    });

    afterEach(async () => {
      await Promise.all(workers.map((w) => w.stop()));
      await queue.close();
      await subject.dispose?.();
    });

    it('runs an enqueued job with its validated payload; progress and result show in status', async () => {
      const seen: { payload: EvaluationJobV1; context: Pick<JobContext, 'jobId' | 'attempt'> }[] = [];
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const w = worker();
      w.handle(JOB, async (data, context) => {
        seen.push({ payload: data, context: { jobId: context.jobId, attempt: context.attempt } });
        await context.reportProgress({ step: 1, of: 2 });
        await released;
        await context.reportProgress({ step: 2, of: 2 });
        return { accuracy: 0.75 };
      });
      await w.start();
      const sent = payload();
      const { jobId } = await queue.enqueue(JOB, sent);
      const running = await eventually(async () => {
        const status = await queue.status(JOB, jobId);
        return status?.state === 'active' && status.progress !== null ? status : null;
      });
      expect(running).toMatchObject({ id: jobId, name: JOB, progress: { step: 1, of: 2 }, attemptsMade: 0 });
      release();
      const done = await settled(jobId, 'completed');
      expect(done).toEqual({
        id: jobId,
        name: JOB,
        state: 'completed',
        progress: { step: 2, of: 2 },
        attemptsMade: 1,
        result: { accuracy: 0.75 },
        failedReason: null,
      });
      expect(seen).toEqual([{ payload: sent, context: { jobId, attempt: 1 } }]);
    });

    it('enqueueing the same job id twice yields one job, run once, also after it completed', async () => {
      const runs: string[] = [];
      const first = await queue.enqueue(JOB, payload({ audit_run_id: 'first' }), { jobId: 'audit-once' });
      const second = await queue.enqueue(JOB, payload({ audit_run_id: 'second' }), { jobId: 'audit-once' });
      expect(first).toEqual({ jobId: 'audit-once' });
      expect(second).toEqual({ jobId: 'audit-once' });
      const w = worker();
      w.handle(JOB, async (data) => {
        runs.push(data.audit_run_id);
        return null;
      });
      await w.start();
      await settled('audit-once', 'completed');
      expect(await queue.enqueue(JOB, payload({ audit_run_id: 'third' }), { jobId: 'audit-once' })).toEqual({ jobId: 'audit-once' });
      await sleep(300);
      expect(runs).toEqual(['first']);
      expect((await queue.status(JOB, 'audit-once'))?.state).toBe('completed');
    });

    it('refuses an invalid payload or job id at enqueue, enqueueing nothing', async () => {
      const bad = { ...payload(), variants: [] } as EvaluationJobV1;
      await expect(queue.enqueue(JOB, bad, { jobId: 'bad-payload' })).rejects.toThrow(ContractViolation);
      await expect(queue.enqueue(JOB, bad)).rejects.toThrow(/variants/);
      expect(await queue.status(JOB, 'bad-payload')).toBeNull();
      await expect(queue.enqueue(JOB, payload(), { jobId: 'a:b' })).rejects.toThrow(/job id/);
      await expect(queue.enqueue(JOB, payload(), { jobId: '42' })).rejects.toThrow(/job id/);
      await expect(queue.enqueue(JOB, payload(), { jobId: '' })).rejects.toThrow(/job id/);
    });

    it('retries a failing handler up to its attempts, then fails the job with the last error', async () => {
      const attempts: number[] = [];
      const allowed: number[] = [];
      const w = worker();
      w.handle(JOB, async (_data, context) => {
        attempts.push(context.attempt);
        allowed.push(context.maxAttempts);
        throw new Error(`evaluation failed on attempt ${context.attempt}`);
      });
      await w.start();
      const { jobId } = await queue.enqueue(JOB, payload(), { attempts: 3, backoffMs: 10 });
      const failed = await settled(jobId, 'failed');
      expect(failed).toMatchObject({ attemptsMade: 3, failedReason: 'evaluation failed on attempt 3', result: null });
      expect(attempts).toEqual([1, 2, 3]);
      await sleep(200);
      expect(attempts).toEqual([1, 2, 3]);
      // Every attempt knows which one is the last.
      expect(allowed).toEqual([3, 3, 3]);
    });

    it('waits an exponential backoff between attempts: backoffMs, then twice that', async () => {
      const at: number[] = [];
      const w = worker();
      w.handle(JOB, async () => {
        at.push(Date.now());
        throw new Error('still failing');
      });
      await w.start();
      const { jobId } = await queue.enqueue(JOB, payload(), { attempts: 3, backoffMs: 200 });
      await settled(jobId, 'failed');
      expect(at).toHaveLength(3);
      const [first = 0, second = 0, third = 0] = at;
      expect(second - first).toBeGreaterThanOrEqual(190);
      expect(third - second).toBeGreaterThanOrEqual(390);
    });

    it('refuses to enqueue once closed', async () => {
      await queue.close();
      await expect(Promise.race([queue.enqueue(JOB, payload()), sleep(5_000).then(() => 'hung')])).rejects.toThrow(/closed/);
    });

    it('completes a job whose handler succeeds on a later attempt', async () => {
      const w = worker();
      w.handle(JOB, async (_data, context) => {
        if (context.attempt < 2) throw new Error('model server unavailable');
        return { attempt: context.attempt };
      });
      await w.start();
      const { jobId } = await queue.enqueue(JOB, payload(), { attempts: 3, backoffMs: 10 });
      expect(await settled(jobId, 'completed')).toMatchObject({ attemptsMade: 2, result: { attempt: 2 } });
    });

    it('runs one job at a time per queue by default, in enqueue order; a handler returning nothing has a null result', async () => {
      const log: string[] = [];
      let running = 0;
      let most = 0;
      const w = worker();
      w.handle(JOB, async (data) => {
        running += 1;
        most = Math.max(most, running);
        log.push(data.audit_run_id);
        await sleep(30);
        running -= 1;
      });
      const jobs = [];
      for (const id of ['j1', 'j2', 'j3']) jobs.push(await queue.enqueue(JOB, payload({ audit_run_id: id })));
      await w.start();
      for (const { jobId } of jobs) expect(await settled(jobId, 'completed')).toMatchObject({ result: null, attemptsMade: 1 });
      expect(log).toEqual(['j1', 'j2', 'j3']);
      expect(most).toBe(1);
    });

    it('refuses to start a worker that has no handler for a job of a queue it consumes', async () => {
      await expect(worker().start()).rejects.toThrow(JobWorkerStartupError);
    });

    it('cancel() of a running job aborts its signal with the cancel reason; the job is cancelled, not retried', async () => {
      const calls: number[] = [];
      let abortedWith: unknown = null;
      const w = worker();
      w.handle(JOB, (_data, context) => {
        calls.push(context.attempt);
        return new Promise((_resolve, reject) => {
          context.signal.addEventListener('abort', () => {
            abortedWith = context.signal.reason;
            reject(new Error('stopped by signal'));
          });
        });
      });
      await w.start();
      const { jobId } = await queue.enqueue(JOB, payload(), { attempts: 3, backoffMs: 10 });
      await eventually(async () => calls.length === 1);
      await settled(jobId, 'active');
      expect(await queue.cancel(JOB, jobId)).toBe(true);
      const cancelled = await settled(jobId, 'cancelled');
      expect(abortedWith).toBe(JOB_CANCELLED);
      expect(cancelled.failedReason).toMatch(JOB_CANCELLED);
      await sleep(300);
      expect(calls).toEqual([1]);
      expect((await queue.status(JOB, jobId))?.state).toBe('cancelled');
      expect(await queue.cancel(JOB, jobId)).toBe(false);
    });

    it('cancel() of a waiting job: it is cancelled and never runs, and its job id stays taken', async () => {
      const { jobId } = await queue.enqueue(JOB, payload());
      expect(await queue.status(JOB, jobId)).toEqual({
        id: jobId,
        name: JOB,
        state: 'waiting',
        progress: null,
        attemptsMade: 0,
        result: null,
        failedReason: null,
      });
      expect(await queue.cancel(JOB, jobId)).toBe(true);
      expect((await queue.status(JOB, jobId))?.state).toBe('cancelled');
      // The same job id again is the cancelled job: it does not run.
      await queue.enqueue(JOB, payload({ audit_run_id: 'cancelled' }), { jobId: 'cancelled-once' });
      expect(await queue.cancel(JOB, 'cancelled-once')).toBe(true);
      expect(await queue.enqueue(JOB, payload({ audit_run_id: 'again' }), { jobId: 'cancelled-once' })).toEqual({
        jobId: 'cancelled-once',
      });
      const runs: string[] = [];
      const w = worker();
      w.handle(JOB, async (data) => {
        runs.push(data.audit_run_id);
        return null;
      });
      await w.start();
      const after = await queue.enqueue(JOB, payload({ audit_run_id: 'after' }));
      await settled(after.jobId, 'completed');
      await sleep(200);
      expect(runs).toEqual(['after']);
      expect((await queue.status(JOB, jobId))?.state).toBe('cancelled');
      expect((await queue.status(JOB, 'cancelled-once'))?.state).toBe('cancelled');
    });

    it('cancel() of a job waiting for its retry: it is cancelled and not tried again', async () => {
      const calls: number[] = [];
      const w = worker();
      w.handle(JOB, async (_data, context) => {
        calls.push(context.attempt);
        throw new Error('transient');
      });
      await w.start();
      const { jobId } = await queue.enqueue(JOB, payload(), { attempts: 3, backoffMs: 1_000 });
      const delayed = await settled(jobId, 'delayed');
      expect(delayed).toMatchObject({ attemptsMade: 1 });
      expect(await queue.cancel(JOB, jobId)).toBe(true);
      expect((await queue.status(JOB, jobId))?.state).toBe('cancelled');
      await sleep(1_500);
      expect(calls).toEqual([1]);
      expect((await queue.status(JOB, jobId))?.state).toBe('cancelled');
    });

    it('cancel() of a finished or unknown job returns false; status of an unknown job is null', async () => {
      const w = worker();
      w.handle(JOB, async () => 'done');
      await w.start();
      const { jobId } = await queue.enqueue(JOB, payload());
      await settled(jobId, 'completed');
      expect(await queue.cancel(JOB, jobId)).toBe(false);
      expect((await queue.status(JOB, jobId))?.state).toBe('completed');
      expect(await queue.cancel(JOB, 'never-enqueued')).toBe(false);
      expect(await queue.status(JOB, 'never-enqueued')).toBeNull();
    });

    it('resumes a job interrupted by a worker shutdown: put back with its progress, not failed, and run by the next worker', async () => {
      const runs: { attempt: number; reason?: unknown }[] = [];
      const first = worker({ shutdownGraceMs: 100 });
      first.handle(JOB, (_data, context) => {
        const run: { attempt: number; reason?: unknown } = { attempt: context.attempt };
        runs.push(run);
        return new Promise((_resolve, reject) => {
          void context.reportProgress({ checkpoint: 5 });
          context.signal.addEventListener('abort', () => {
            run.reason = context.signal.reason;
            reject(new Error('interrupted'));
          });
        });
      });
      await first.start();
      const { jobId } = await queue.enqueue(JOB, payload(), { attempts: 1 });
      await eventually(async () => {
        const status = await queue.status(JOB, jobId);
        return status?.state === 'active' && status.progress !== null;
      });
      await first.stop();
      expect(runs).toEqual([{ attempt: 1, reason: WORKER_SHUTTING_DOWN }]);
      const waiting = await queue.status(JOB, jobId);
      expect(waiting).toMatchObject({ state: 'waiting', progress: { checkpoint: 5 }, attemptsMade: 0, failedReason: null });

      let resumedFrom: unknown = null;
      const second = worker();
      second.handle(JOB, async (_data, context) => {
        runs.push({ attempt: context.attempt });
        resumedFrom = (await queue.status(JOB, context.jobId))?.progress;
        return 'resumed';
      });
      await second.start();
      // attempts: 1, so a shutdown that counted as a failed attempt would have failed the job.
      expect(await settled(jobId, 'completed')).toMatchObject({ result: 'resumed', attemptsMade: 1 });
      expect(runs.map((r) => r.attempt)).toEqual([1, 1]);
      expect(resumedFrom).toEqual({ checkpoint: 5 });
    });
  });
}
