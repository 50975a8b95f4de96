import { TRAIN_JOB, type RuntimeProgressV1, type TrainingJobV1 } from '@studio/contracts';
import { InProcessJobWorker } from '@studio/inproc';
import type { JobStatus } from '@studio/ports';
import { fakeLlm, frameAndPublish, openHarness, TENANT, type Harness } from './fixtures.spec-helper';
import { indexDocumentClauses } from './index-clauses';
import type { ModelTrainer } from './ports';
import type { DatasetVersionRecord } from './records';
import {
  adapterIdFor,
  adapterOfRun,
  cancelTraining,
  ClauseIndexMissingError,
  lossTrend,
  ParentAdapterError,
  requestTraining,
  TrainingRequestError,
  type TrainablePreferenceDataset,
  RunNotCancellableError,
  trainableDataset,
  trainingRunId,
  trainJobHandler,
  TRAIN_JOB_ATTEMPTS,
  TrainingRunTracker,
} from './train';

const time = '2026-01-01T00:00:00.000Z';

/** A model runtime that reports `steps` steps with falling loss, then completes (or fails). */
const hyperparameters = {
  epochs: 1,
  max_steps: 3,
  learning_rate: 1e-4,
  batch_size: 4,
  gradient_accumulation_steps: 1,
  max_seq_length: 320,
  seed: 42,
  eval_ratio: 0,
  checkpoint_every_steps: 1_000,
  adapter: 'lora' as const,
  lora: { r: 16, alpha: 32, dropout: 0.05, target_modules: 'all-linear' as const },
  dpo_beta: null,
};

function scriptedTrainer(
  steps: number,
  outcome: 'completed' | 'failed' | 'silent' = 'completed',
): ModelTrainer & { jobs: TrainingJobV1[] } {
  const jobs: TrainingJobV1[] = [];
  return {
    jobs,
    async *train(job: TrainingJobV1): AsyncIterable<RuntimeProgressV1> {
      jobs.push(job);
      const base = { schema_version: 'v1' as const, run_id: job.run_id, time };
      yield { ...base, event: 'started', method: 'sft', base_model: job.base_model, total_steps: steps, resumed_from_step: null };
      for (let step = 1; step <= steps; step += 1) {
        yield {
          ...base,
          event: 'step',
          step,
          total_steps: steps,
          epoch: step / steps,
          loss: 3 - step * 0.5,
          learning_rate: 1e-4,
          tokens_per_s: 100,
          eta_s: steps - step,
        };
      }
      if (outcome === 'completed') {
        yield { ...base, event: 'checkpoint', step: steps, path: `${job.output_dir}/checkpoints/checkpoint-${steps}` };
        yield { ...base, event: 'completed', artifact_dir: `${job.output_dir}/artifact`, metrics: { train_loss: 2 } };
      } else if (outcome === 'failed') {
        yield { ...base, event: 'failed', error: { type: 'DatasetError', message: 'bad line 3' } };
      }
    },
  };
}

async function until(h: Harness, jobId: string): Promise<JobStatus> {
  for (let i = 0; i < 500; i += 1) {
    const status = await h.queue.status(TRAIN_JOB, jobId);
    if (status && (status.state === 'completed' || status.state === 'failed')) return status;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`job ${jobId} did not finish`);
}

describe('training stage', () => {
  let h: Harness;
  let dataset: DatasetVersionRecord;
  let worker: InProcessJobWorker;

  beforeEach(async () => {
    h = await openHarness(fakeLlm(() => ''));
    const framed = await frameAndPublish(h);
    dataset = framed.dataset.dataset;
    await indexDocumentClauses(
      { ...h, embeddingModel: 'all-minilm-l6-v2' },
      {
        tenant: TENANT,
        contextId: 'acme-conduct',
        documentId: dataset.documentId,
        documentSha256: dataset.documentSha256,
        clauses: framed.framed.clauses,
      },
    );
    worker = new InProcessJobWorker(h.queue, { jobs: [TRAIN_JOB], shutdownGraceMs: 50 });
    await h.bus.idle();
    h.events.length = 0;
  });
  afterEach(async () => {
    await worker.stop();
    await h.close();
  });

  const request = () =>
    requestTraining(h, {
      tenant: TENANT,
      contextId: 'acme-conduct',
      dataset: trainableDataset(dataset),
      baseModel: 'tiny',
      hyperparameters,
    });
  const handler = (trainer: ModelTrainer, sink?: (p: { done: number; total: number }) => void) =>
    trainJobHandler({ tracker: new TrainingRunTracker({ bus: h.bus, repos: h.repos }, sink), trainer });

  it('runs a train job through the queue: progress events, adapter registered with lineage, run completed', async () => {
    const trainer = scriptedTrainer(3);
    const progress: string[] = [];
    worker.handle(
      TRAIN_JOB,
      handler(trainer, (p) => progress.push(`${p.done}/${p.total}`)),
    );
    await worker.start();

    const requested = await request();
    if (requested.kind !== 'enqueued') throw new Error('expected a new run');
    const status = await until(h, requested.jobId);
    await h.bus.idle();

    expect(status.state).toBe('completed');
    expect(trainer.jobs[0]?.dataset.train_path).toBe(h.artifacts.pathOf(dataset.train.uri));
    expect(trainer.jobs[0]?.dataset.sha256).toBe(dataset.train.sha256);
    expect(h.events.map((e) => e.topic)).toEqual([
      'training.run.requested.v1',
      'training.run.progress.v1',
      'training.run.progress.v1',
      'training.run.progress.v1',
      'training.run.progress.v1',
      'training.run.progress.v1',
      'training.run.completed.v1',
    ]);
    expect(progress).toEqual(['0/3', '1/3', '2/3', '3/3']);
    const adapter = await adapterOfRun(h.repos, TENANT, requested.run.id);
    expect(adapter).toMatchObject({
      id: adapterIdFor(requested.run.id),
      baseModel: 'tiny',
      datasetVersionId: dataset.id,
      datasetSha256: dataset.sha256,
      hyperparameters,
      lossCurve: [
        { step: 1, loss: 2.5 },
        { step: 2, loss: 2 },
        { step: 3, loss: 1.5 },
      ],
    });
    const completed = h.events.at(-1)?.event.data as { adapterId: string; datasetVersionId: string };
    expect(completed).toMatchObject({ adapterId: adapter.id, datasetVersionId: dataset.id });
  });

  it('publishes training.run.failed once, after the last attempt, and fails the job when the runtime reports a failure', async () => {
    const trainer = scriptedTrainer(1, 'failed');
    worker.handle(TRAIN_JOB, handler(trainer));
    await worker.start();
    const requested = await request();
    if (requested.kind !== 'enqueued') throw new Error('expected a new run');
    const status = await until(h, requested.jobId);
    await h.bus.idle();
    expect(status.state).toBe('failed');
    expect(status.failedReason).toMatch(/DatasetError: bad line 3/);
    const failures = h.events
      .filter((e) => e.topic === 'training.run.failed.v1')
      .map((e) => e.event.data as { error: { type: string }; attempts: number });
    expect(trainer.jobs).toHaveLength(TRAIN_JOB_ATTEMPTS);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ error: { type: 'DatasetError' }, attempts: TRAIN_JOB_ATTEMPTS });
    expect((await h.repos.runs.get(TENANT, requested.run.id))?.state).toBe('failed');
    await expect(adapterOfRun(h.repos, TENANT, requested.run.id)).rejects.toThrow(/is failed: DatasetError/);
  });

  it('fails the run when the runtime stops without a completed event', async () => {
    worker.handle(TRAIN_JOB, handler(scriptedTrainer(1, 'silent')));
    await worker.start();
    const requested = await request();
    if (requested.kind !== 'enqueued') throw new Error('expected a new run');
    expect((await until(h, requested.jobId)).failedReason).toMatch(/TrainingIncomplete/);
  });

  it('names runs by content and reuses a registered adapter whose files exist', async () => {
    expect(trainingRunId('a'.repeat(64), 'tiny', hyperparameters)).toBe(trainingRunId('a'.repeat(64), 'tiny', { ...hyperparameters }));
    expect(trainingRunId('a'.repeat(64), 'tiny', hyperparameters)).not.toBe(
      trainingRunId('a'.repeat(64), 'smollm2-135m-instruct', hyperparameters),
    );
    worker.handle(TRAIN_JOB, handler(scriptedTrainer(1)));
    await worker.start();
    const first = await request();
    if (first.kind !== 'enqueued') throw new Error('expected a new run');
    await until(h, first.jobId);
    // The scripted trainer wrote no files: the adapter is not reusable yet.
    expect((await request()).kind).toBe('enqueued');
    await h.artifacts.put(`tenants/${TENANT}/runs/${first.run.id}/artifact/adapter_config.json`, '{}');
    const again = await request();
    expect(again).toMatchObject({ kind: 'reused', run: { id: first.run.id } });
  });

  it('refuses to train while the dataset clauses are not indexed for retrieval', async () => {
    await h.repos.clauseIndexes.delete(TENANT, (await h.repos.clauseIndexes.find(TENANT))[0]?.id ?? '');
    await expect(request()).rejects.toThrow(ClauseIndexMissingError);
    await h.bus.idle();
    expect(h.events).toEqual([]);
    expect(await h.repos.runs.count(TENANT)).toBe(0);
  });

  it('requesting a failed run again queues a new job for it', async () => {
    worker.handle(TRAIN_JOB, handler(scriptedTrainer(1, 'failed')));
    await worker.start();
    const first = await request();
    if (first.kind !== 'enqueued') throw new Error('expected a new run');
    await until(h, first.jobId);
    const again = await request();
    if (again.kind !== 'enqueued') throw new Error('expected a new job');
    expect(again.jobId).not.toBe(first.jobId);
    expect(again.run).toMatchObject({ id: first.run.id, state: 'requested', error: null });
    expect((await until(h, again.jobId)).state).toBe('failed');
  });

  it('the tracker skips replayed progress and a resumed attempt replaces the curve after its checkpoint', async () => {
    const requested = await request();
    if (requested.kind !== 'enqueued') throw new Error('expected a new run');
    const tracker = new TrainingRunTracker({ bus: h.bus, repos: h.repos });
    const job = requested;
    const payload = { run_id: job.run.id, tenant_id: TENANT, method: 'sft' } as unknown as TrainingJobV1;
    const base = { schema_version: 'v1' as const, run_id: job.run.id, time };
    const step = (n: number, loss: number): RuntimeProgressV1 => ({
      ...base,
      event: 'step',
      step: n,
      total_steps: 4,
      epoch: 1,
      loss,
      learning_rate: 1e-4,
      tokens_per_s: 1,
      eta_s: 1,
    });
    await tracker.progress(payload, {
      ...base,
      event: 'started',
      method: 'sft',
      base_model: 'tiny',
      total_steps: 4,
      resumed_from_step: null,
    });
    for (const [n, loss] of [
      [1, 4],
      [2, 3],
      [3, 2],
      [3, 2],
    ] as const)
      await tracker.progress(payload, step(n, loss));
    await tracker.progress(payload, { ...base, event: 'started', method: 'sft', base_model: 'tiny', total_steps: 4, resumed_from_step: 2 });
    await tracker.progress(payload, step(3, 2.5));
    await tracker.progress(payload, step(4, 1));
    await h.bus.idle();
    const run = await h.repos.runs.get(TENANT, job.run.id);
    expect(run?.lossCurve).toEqual([
      { step: 1, loss: 4 },
      { step: 2, loss: 3 },
      { step: 3, loss: 2.5 },
      { step: 4, loss: 1 },
    ]);
    const ids = h.events.filter((e) => e.topic === 'training.run.progress.v1').map((e) => e.event.id);
    // Deterministic ids: the replayed and the resumed step 3 are the same event, which the bus delivers once.
    expect(ids.filter((id) => id.endsWith('-step-3'))).toHaveLength(1);
  });

  it("relays checkpoint evaluations: the held-out file goes with the job, scores become the run's and adapter's eval curve and progress events", async () => {
    const checkpointEval = {
      every_steps: 2,
      items: 4,
      max_new_tokens: 32,
      early_stop: { metric: 'token_f1' as const, patience: 1, min_delta: 0 },
    };
    const notes: string[] = [];
    const trainer: ModelTrainer & { jobs: TrainingJobV1[] } = {
      jobs: [],
      async *train(job: TrainingJobV1): AsyncIterable<RuntimeProgressV1> {
        trainer.jobs.push(job);
        const base = { schema_version: 'v1' as const, run_id: job.run_id, time };
        const evaluated = (step: number, f1: number, best: [number, number], regressions: number): RuntimeProgressV1 => ({
          ...base,
          event: 'checkpoint_eval',
          step,
          total_steps: 4,
          items: 4,
          token_f1: f1,
          heldout_loss: 3 - f1,
          seconds: 0.5,
          early_stop: { metric: 'token_f1', best_step: best[0], best_value: best[1], regressions, patience: 1, stopped: regressions >= 1 },
        });
        yield { ...base, event: 'started', method: 'sft', base_model: job.base_model, total_steps: 4, resumed_from_step: null };
        yield evaluated(0, 0.1, [0, 0.1], 0);
        for (const step of [1, 2]) {
          yield {
            ...base,
            event: 'step',
            step,
            total_steps: 4,
            epoch: step / 4,
            loss: 3 - step,
            learning_rate: 1e-4,
            tokens_per_s: 1,
            eta_s: 1,
          };
        }
        yield evaluated(2, 0.4, [2, 0.4], 0);
        for (const step of [3, 4]) {
          yield {
            ...base,
            event: 'step',
            step,
            total_steps: 4,
            epoch: step / 4,
            loss: 3 - step,
            learning_rate: 1e-4,
            tokens_per_s: 1,
            eta_s: 1,
          };
        }
        yield evaluated(4, 0.2, [2, 0.4], 1);
        yield {
          ...base,
          event: 'completed',
          artifact_dir: `${job.output_dir}/artifact`,
          metrics: { train_loss: 2, early_stopped: 1, artifact_step: 2 },
        };
      },
    };
    worker.handle(
      TRAIN_JOB,
      trainJobHandler({
        tracker: new TrainingRunTracker({ bus: h.bus, repos: h.repos }, (p) => p.note && notes.push(p.note)),
        trainer,
      }),
    );
    await worker.start();
    const requested = await requestTraining(h, {
      tenant: TENANT,
      contextId: 'acme-conduct',
      dataset: trainableDataset(dataset),
      baseModel: 'tiny',
      hyperparameters: { ...hyperparameters, max_steps: 4, checkpoint_eval: checkpointEval },
    });
    if (requested.kind !== 'enqueued') throw new Error('expected a new run');
    expect((await until(h, requested.jobId)).state).toBe('completed');
    await h.bus.idle();

    expect(trainer.jobs[0]?.dataset.held_out_path).toBe(h.artifacts.pathOf(dataset.heldOut.uri));
    expect(trainer.jobs[0]?.hyperparameters.checkpoint_eval).toEqual(checkpointEval);
    const curve = [
      { step: 0, tokenF1: 0.1, heldoutLoss: 2.9 },
      { step: 2, tokenF1: 0.4, heldoutLoss: 2.6 },
      { step: 4, tokenF1: 0.2, heldoutLoss: 2.8 },
    ];
    expect((await h.repos.runs.get(TENANT, requested.run.id))?.evalCurve).toEqual(curve);
    const adapter = await adapterOfRun(h.repos, TENANT, requested.run.id);
    expect(adapter.evalCurve).toEqual(curve);
    expect(adapter.metrics).toMatchObject({ early_stopped: 1, artifact_step: 2 });
    const evals = h.events
      .filter((e) => e.topic === 'training.run.progress.v1')
      .map((e) => e.event.data as { phase: string; step: number; checkpointEval?: unknown })
      .filter((d) => d.phase === 'checkpoint_eval');
    expect(evals.map((d) => d.step)).toEqual([0, 2, 4]);
    expect(evals[2]?.checkpointEval).toEqual({
      items: 4,
      tokenF1: 0.2,
      heldoutLoss: 2.8,
      seconds: 0.5,
      earlyStop: { metric: 'token_f1', bestStep: 2, bestValue: 0.4, regressions: 1, patience: 1, stopped: true },
    });
    expect(notes.at(-1)).toBe(
      'held-out token F1 0.200, loss 2.800 (4 items, 0.5 s); early stop: 1 regressions in a row, keeping step 2 (best token_f1 0.400 at step 2)',
    );
  });

  it('asks for checkpoint evaluations only where there are held-out questions and a model that answers', async () => {
    const checkpointEval = { every_steps: 2, items: 4, max_new_tokens: 32, early_stop: null };
    await expect(
      requestTraining(h, {
        tenant: TENANT,
        contextId: 'acme-conduct',
        dataset: { ...trainableDataset(dataset), heldOutExamples: 0 },
        baseModel: 'tiny',
        hyperparameters: { ...hyperparameters, checkpoint_eval: checkpointEval },
      }),
    ).rejects.toThrow(`checkpoint_eval answers the held-out questions of dataset version ${dataset.id}, which has none`);
    // Without checkpoint evaluations the job names no held-out file.
    const plain = await request();
    if (plain.kind !== 'enqueued') throw new Error('expected a new run');
    expect(await h.repos.runs.get(TENANT, plain.run.id)).toMatchObject({ state: 'requested' });
    expect(plain.run.evalCurve).toBeUndefined();
  });

  /** A runtime that reports a step, then trains until its job is cancelled (and says so by throwing). */
  function trainerUntilCancelled(): ModelTrainer & { stepped: Promise<void> } {
    let stepped!: () => void;
    const started = new Promise<void>((r) => (stepped = r));
    return {
      stepped: started,
      async *train(job: TrainingJobV1, signal: AbortSignal): AsyncIterable<RuntimeProgressV1> {
        const base = { schema_version: 'v1' as const, run_id: job.run_id, time };
        yield { ...base, event: 'started', method: 'sft', base_model: job.base_model, total_steps: 100, resumed_from_step: null };
        yield { ...base, event: 'step', step: 1, total_steps: 100, epoch: 0.01, loss: 3, learning_rate: 1e-4, tokens_per_s: 1, eta_s: 99 };
        stepped();
        await new Promise<void>((resolve) => {
          if (signal.aborted) resolve();
          signal.addEventListener('abort', () => resolve(), { once: true });
        });
        throw new Error('training was cancelled');
      },
    };
  }

  it('cancels a running run: its job is stopped, the run is cancelled once, and a late result does not complete it', async () => {
    const trainer = trainerUntilCancelled();
    const tracker = new TrainingRunTracker({ bus: h.bus, repos: h.repos, queue: h.queue });
    worker.handle(TRAIN_JOB, trainJobHandler({ tracker, trainer }));
    await worker.start();
    const requested = await request();
    if (requested.kind !== 'enqueued') throw new Error('expected a new run');
    await trainer.stepped;
    await h.bus.idle();
    expect((await h.repos.runs.get(TENANT, requested.run.id))?.state).toBe('running');

    const cancelled = await cancelTraining(
      { bus: h.bus, repos: h.repos, queue: h.queue },
      { tenant: TENANT, runId: requested.run.id, by: 'key:ops', now: new Date(time) },
    );
    expect(cancelled).toMatchObject({ id: requested.run.id, state: 'cancelled', step: 1, totalSteps: 100 });
    for (let i = 0; i < 200 && (await h.queue.status(TRAIN_JOB, requested.jobId))?.state !== 'cancelled'; i += 1)
      await new Promise((r) => setTimeout(r, 5));
    expect((await h.queue.status(TRAIN_JOB, requested.jobId))?.state).toBe('cancelled');
    await h.bus.idle();
    const cancelEvents = h.events.filter((e) => e.topic === 'training.run.cancelled.v1');
    expect(cancelEvents.map((e) => e.event.data)).toEqual([
      {
        version: 'v1',
        contextId: 'acme-conduct',
        runId: requested.run.id,
        step: 1,
        totalSteps: 100,
        cancelledBy: 'key:ops',
        cancelledAt: time,
      },
    ]);
    expect(h.events.filter((e) => e.topic === 'training.run.failed.v1')).toEqual([]);

    // The worker finishing anyway (it saw the cancellation too late), and a replayed step: neither changes the run.
    const payload = { run_id: requested.run.id, tenant_id: TENANT, method: 'sft' } as unknown as TrainingJobV1;
    const base = { schema_version: 'v1' as const, run_id: requested.run.id, time };
    await tracker.progress(payload, {
      ...base,
      event: 'step',
      step: 2,
      total_steps: 100,
      epoch: 0.02,
      loss: 2,
      learning_rate: 1e-4,
      tokens_per_s: 1,
      eta_s: 98,
    });
    expect(await tracker.completed(payload, { artifact_dir: '/tmp/x', metrics: {} })).toBeNull();
    await tracker.failed(payload, { type: 'TrainingFailed', message: `run ${requested.run.id} was cancelled` }, 1);
    await h.bus.idle();
    const run = await h.repos.runs.get(TENANT, requested.run.id);
    expect(run).toMatchObject({ state: 'cancelled', step: 1, adapterId: null, error: null });
    expect(h.events.filter((e) => e.topic === 'training.run.completed.v1' || e.topic === 'training.run.failed.v1')).toEqual([]);

    // Finished runs are not cancellable; an unknown run is null; a cancelled run can be requested again, with a new job.
    await expect(
      cancelTraining({ bus: h.bus, repos: h.repos, queue: h.queue }, { tenant: TENANT, runId: requested.run.id, by: 'x' }),
    ).rejects.toThrow(RunNotCancellableError);
    expect(await cancelTraining({ bus: h.bus, repos: h.repos, queue: h.queue }, { tenant: TENANT, runId: 'run-nope', by: 'x' })).toBeNull();
    const again = await request();
    if (again.kind !== 'enqueued') throw new Error('expected a new job');
    expect(again.jobId).not.toBe(requested.jobId);
    expect(again.run.state).toBe('requested');
  });

  it('cancels a run whose job has not started: the job is removed before any worker takes it', async () => {
    const requested = await request();
    if (requested.kind !== 'enqueued') throw new Error('expected a new run');
    const cancelled = await cancelTraining(
      { bus: h.bus, repos: h.repos, queue: h.queue },
      { tenant: TENANT, runId: requested.run.id, by: 'key:ops' },
    );
    expect(cancelled?.state).toBe('cancelled');
    const trainer = scriptedTrainer(1);
    worker.handle(TRAIN_JOB, handler(trainer));
    await worker.start();
    await new Promise((r) => setTimeout(r, 50));
    expect(trainer.jobs).toEqual([]);
    expect((await h.queue.status(TRAIN_JOB, requested.jobId))?.state).toBe('cancelled');
  });

  it('a run whose job already completed is not cancelled, and a failed job that was cancelled ends the run cancelled', async () => {
    worker.handle(TRAIN_JOB, handler(scriptedTrainer(1)));
    await worker.start();
    const requested = await request();
    if (requested.kind !== 'enqueued') throw new Error('expected a new run');
    await until(h, requested.jobId);
    // The record still says running (the completion not yet recorded): the queue knows better.
    await h.repos.runs.upsert(TENANT, { ...requested.run, state: 'running' });
    await expect(
      cancelTraining({ bus: h.bus, repos: h.repos, queue: h.queue }, { tenant: TENANT, runId: requested.run.id, by: 'x' }),
    ).rejects.toThrow(/is completed/);

    const tracker = new TrainingRunTracker({
      bus: h.bus,
      repos: h.repos,
      queue: {
        status: async (_name, jobId) => ({
          id: jobId,
          name: TRAIN_JOB,
          state: 'cancelled',
          progress: null,
          attemptsMade: 1,
          result: null,
          failedReason: 'x',
        }),
      },
    });
    const payload = { run_id: requested.run.id, tenant_id: TENANT, method: 'sft' } as unknown as TrainingJobV1;
    h.events.length = 0;
    await tracker.failed(payload, { type: 'TrainingFailed', message: 'was cancelled' }, 1);
    await h.bus.idle();
    expect((await h.repos.runs.get(TENANT, requested.run.id))?.state).toBe('cancelled');
    expect(h.events).toEqual([]);
  });

  describe('dpo and reward runs', () => {
    let sft: Awaited<ReturnType<typeof adapterOfRun>>;
    let preferences: TrainablePreferenceDataset;
    let trainer: ReturnType<typeof scriptedTrainer>;

    beforeEach(async () => {
      trainer = scriptedTrainer(2);
      worker.handle(TRAIN_JOB, handler(trainer));
      await worker.start();
      const first = await request();
      if (first.kind !== 'enqueued') throw new Error('expected a new run');
      await until(h, first.jobId);
      sft = await adapterOfRun(h.repos, TENANT, first.run.id);
      await h.artifacts.put(`tenants/${TENANT}/runs/${first.run.id}/artifact/adapter_config.json`, '{}');
      const row = JSON.stringify({
        prompt: [{ role: 'user', content: 'q' }],
        chosen: [{ role: 'assistant', content: 'a' }],
        rejected: [{ role: 'assistant', content: 'b' }],
        weight: 1,
      });
      const train = await h.artifacts.putImmutable(`tenants/${TENANT}/preferences/pd-1/train.jsonl`, `${row}\n`);
      const heldOut = await h.artifacts.putImmutable(`tenants/${TENANT}/preferences/pd-1/held-out.jsonl`, `${row}\n`);
      preferences = {
        id: 'pd-1',
        contextId: 'acme-conduct',
        sha256: 'b'.repeat(64),
        trainUri: train.uri,
        trainSha256: train.sha256,
        trainExamples: 1,
        heldOutUri: heldOut.uri,
        heldOutExamples: 1,
      };
      await h.bus.idle();
      h.events.length = 0;
    });

    const dpo = (over: Partial<Parameters<typeof requestTraining>[1]> = {}) =>
      requestTraining(h, {
        tenant: TENANT,
        contextId: 'acme-conduct',
        method: 'dpo',
        dataset: trainableDataset(dataset),
        preferenceDataset: preferences,
        initAdapter: sft,
        baseModel: 'tiny',
        hyperparameters: { ...hyperparameters, dpo_beta: 0.1 },
        ...over,
      });

    it('runs DPO from the SFT adapter on the preference dataset and registers its lineage', async () => {
      const requested = await dpo();
      if (requested.kind !== 'enqueued') throw new Error('expected a new run');
      expect(requested.run.id).toMatch(/^run-dpo-[0-9a-f]{16}$/);
      expect(requested.run).toMatchObject({
        method: 'dpo',
        parentAdapterId: sft.id,
        preferenceDatasetId: 'pd-1',
        datasetVersionId: dataset.id,
      });
      expect((await until(h, requested.jobId)).state).toBe('completed');
      await h.bus.idle();
      const job = trainer.jobs.at(-1);
      expect(job).toMatchObject({
        method: 'dpo',
        init_adapter: sft.artifactDir,
        dataset: {
          train_path: h.artifacts.pathOf(preferences.trainUri),
          eval_path: null,
          sha256: preferences.trainSha256,
          format: 'preference',
        },
      });
      const adapter = await adapterOfRun(h.repos, TENANT, requested.run.id);
      expect(adapter).toMatchObject({ method: 'dpo', parentAdapterId: sft.id, preferenceDatasetId: 'pd-1', datasetVersionId: dataset.id });
      expect(sft).toMatchObject({ method: 'sft', parentAdapterId: null, preferenceDatasetId: null });
      const requestedEvent = h.events.find((e) => e.topic === 'training.run.requested.v1')?.event.data;
      expect(requestedEvent).toMatchObject({ method: 'dpo', parentAdapterId: sft.id, preferenceDatasetId: 'pd-1' });
      const completed = h.events.find((e) => e.topic === 'training.run.completed.v1')?.event.data;
      expect(completed).toMatchObject({
        method: 'dpo',
        adapterId: adapter.id,
        parentAdapter: { adapterId: sft.id, runId: sft.runId, artifactUri: sft.artifactDir, method: 'sft' },
        preferenceDatasetId: 'pd-1',
      });
      // Another preference dataset or parent is another run.
      const other = await dpo({ preferenceDataset: { ...preferences, id: 'pd-2', sha256: 'c'.repeat(64) } });
      expect(other.run.id).not.toBe(requested.run.id);
    });

    it('trains a reward model on the preferences, measured on the held-out ones', async () => {
      const requested = await dpo({ method: 'reward', initAdapter: null });
      if (requested.kind !== 'enqueued') throw new Error('expected a new run');
      expect(requested.run.id).toMatch(/^run-reward-/);
      await until(h, requested.jobId);
      expect(trainer.jobs.at(-1)).toMatchObject({
        method: 'reward',
        init_adapter: null,
        dataset: { eval_path: h.artifacts.pathOf(preferences.heldOutUri), format: 'preference' },
      });
      expect(await adapterOfRun(h.repos, TENANT, requested.run.id)).toMatchObject({
        method: 'reward',
        parentAdapterId: null,
        preferenceDatasetId: 'pd-1',
      });
    });

    it('names what is wrong with a request it cannot run, and records nothing', async () => {
      await expect(dpo({ initAdapter: null })).rejects.toThrow(/dpo run starts from a completed SFT run .*parentRunId/);
      await expect(dpo({ preferenceDataset: null })).rejects.toThrow(/needs a preference dataset version/);
      await expect(dpo({ baseModel: 'smollm2-135m-instruct' })).rejects.toThrow(ParentAdapterError);
      await expect(dpo({ baseModel: 'smollm2-135m-instruct' })).rejects.toThrow(/trained on base model tiny, not smollm2-135m-instruct/);
      await expect(dpo({ initAdapter: { ...sft, contextId: 'other' } })).rejects.toThrow(/belongs to context other/);
      await expect(dpo({ initAdapter: { ...sft, method: 'reward' } })).rejects.toThrow(/is a reward model/);
      await expect(dpo({ preferenceDataset: { ...preferences, contextId: 'other' } })).rejects.toThrow(
        /preference dataset pd-1 belongs to context other/,
      );
      await expect(dpo({ initAdapter: { ...sft, artifactDir: '/nowhere/adapter' } })).rejects.toThrow(
        /files at \/nowhere\/adapter are gone/,
      );
      await expect(dpo({ method: 'sft' })).rejects.toThrow(TrainingRequestError);
      await expect(dpo({ method: 'reward' })).rejects.toThrow(/reward model is trained from the base model/);
      await h.bus.idle();
      expect(h.events).toEqual([]);
      expect(await h.repos.runs.count(TENANT)).toBe(1);
    });
  });

  it('summarises the loss curve by the mean of its first and last steps', () => {
    expect(lossTrend([])).toBeNull();
    expect(lossTrend([3])).toEqual({ first: 3, last: 3 });
    expect(lossTrend([4, 2, 3, 1], 5)).toEqual({ first: 3, last: 2 });
    expect(lossTrend([5, 5, 5, 5, 5, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], 5)).toEqual({ first: 5, last: 0 });
  });
});
