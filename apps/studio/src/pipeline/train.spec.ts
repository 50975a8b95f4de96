import { TRAIN_JOB, type RuntimeProgressV1, type TrainingJobV1 } from '@studio/contracts';
import { InProcessJobWorker } from '@studio/inproc';
import type { JobStatus } from '@studio/ports';
import { hyperparametersFor } from '../align';
import {
  frameDocument,
  publishFramedDocument,
  type FramingResult,
  type ModelTrainer,
  adapterIdFor,
  adapterOfRun,
  lossTrend,
  requestTraining,
  trainingRunId,
  trainJobHandler,
} from '@studio/pipeline';
import { fakeLlm, openHarness, POLICY, SEEDS, TENANT, type Harness } from './fixtures.spec-helper';

const time = '2026-01-01T00:00:00.000Z';

/** A model runtime that reports `steps` steps with falling loss, then completes (or fails). */
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
  let framing: FramingResult;
  let worker: InProcessJobWorker;
  const hyperparameters = hyperparametersFor({ epochs: 1, maxSteps: 3, learningRate: 1e-4 });

  beforeEach(async () => {
    h = await openHarness(fakeLlm(() => ''));
    framing = await publishFramedDocument(
      h,
      TENANT,
      frameDocument({
        contextId: 'acme-conduct',
        documentId: 'acme-cg',
        filename: 'policy.md',
        mediaType: 'text/markdown',
        content: new TextEncoder().encode(POLICY),
        values: null,
        seedsJsonl: SEEDS,
        seed: 7,
        heldOutRatio: 0.2,
      }),
    );
    worker = new InProcessJobWorker(h.queue, { jobs: [TRAIN_JOB], shutdownGraceMs: 50 });
    h.events.length = 0;
  });
  afterEach(async () => {
    await worker.stop();
    await h.close();
  });

  const request = () =>
    requestTraining(h, { tenant: TENANT, contextId: 'acme-conduct', dataset: framing.dataset, baseModel: 'tiny', hyperparameters });

  it('runs a train job through the queue: progress events, adapter registered with lineage, run completed', async () => {
    const trainer = scriptedTrainer(3);
    const progress: string[] = [];
    worker.handle(
      TRAIN_JOB,
      trainJobHandler({ bus: h.bus, repos: h.repos, trainer }, (p) => progress.push(`${p.done}/${p.total}`)),
    );
    await worker.start();

    const requested = await request();
    if (requested.kind !== 'enqueued') throw new Error('expected a new run');
    const status = await until(h, requested.jobId);
    await h.bus.idle();

    expect(status.state).toBe('completed');
    expect(trainer.jobs[0]?.dataset.train_path).toBe(h.artifacts.pathOf(framing.dataset.train.uri));
    expect(trainer.jobs[0]?.dataset.sha256).toBe(framing.dataset.train.sha256);
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
    const adapter = await adapterOfRun(h.repos, TENANT, requested.runId);
    expect(adapter).toMatchObject({
      id: adapterIdFor(requested.runId),
      baseModel: 'tiny',
      datasetVersionId: framing.dataset.id,
      datasetSha256: framing.dataset.sha256,
      hyperparameters,
      firstLoss: 2.5,
      lastLoss: 1.5,
      losses: [2.5, 2, 1.5],
    });
    const completed = h.events.at(-1)?.event.data as { adapterId: string; datasetVersionId: string };
    expect(completed).toMatchObject({ adapterId: adapter.id, datasetVersionId: framing.dataset.id });
  });

  it('publishes training.run.failed and fails the job when the runtime reports a failure', async () => {
    worker.handle(TRAIN_JOB, trainJobHandler({ bus: h.bus, repos: h.repos, trainer: scriptedTrainer(1, 'failed') }));
    await worker.start();
    const requested = await request();
    if (requested.kind !== 'enqueued') throw new Error('expected a new run');
    const status = await until(h, requested.jobId);
    await h.bus.idle();
    expect(status.state).toBe('failed');
    expect(status.failedReason).toMatch(/DatasetError: bad line 3/);
    const failed = h.events.find((e) => e.topic === 'training.run.failed.v1')?.event.data as { error: { type: string } };
    expect(failed.error.type).toBe('DatasetError');
    expect((await h.repos.runs.get(TENANT, requested.runId))?.state).toBe('failed');
    await expect(adapterOfRun(h.repos, TENANT, requested.runId)).rejects.toThrow(/is failed: DatasetError/);
  });

  it('fails the run when the runtime stops without a completed event', async () => {
    worker.handle(TRAIN_JOB, trainJobHandler({ bus: h.bus, repos: h.repos, trainer: scriptedTrainer(1, 'silent') }));
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
    worker.handle(TRAIN_JOB, trainJobHandler({ bus: h.bus, repos: h.repos, trainer: scriptedTrainer(1) }));
    await worker.start();
    const first = await request();
    if (first.kind !== 'enqueued') throw new Error('expected a new run');
    await until(h, first.jobId);
    // The scripted trainer wrote no files: the adapter is not reusable yet.
    expect((await request()).kind).toBe('enqueued');
    await h.artifacts.put(`runs/${first.runId}/artifact/adapter_config.json`, '{}');
    const again = await request();
    expect(again).toMatchObject({ kind: 'reused', runId: first.runId });
  });

  it('summarises the loss curve by the mean of its first and last steps', () => {
    expect(lossTrend([])).toBeNull();
    expect(lossTrend([3])).toEqual({ first: 3, last: 3 });
    expect(lossTrend([4, 2, 3, 1], 5)).toEqual({ first: 3, last: 2 });
    expect(lossTrend([5, 5, 5, 5, 5, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], 5)).toEqual({ first: 5, last: 0 });
  });
});
