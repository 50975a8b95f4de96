import {
  TRAIN_JOB,
  TRAINING_RUN_COMPLETED_V1,
  TRAINING_RUN_FAILED_V1,
  TRAINING_RUN_PROGRESS_V1,
  TRAINING_RUN_REQUESTED_V1,
  type CloudEvent,
  type Topic,
  type TrainingJobV1,
} from '@studio/contracts';
import type { EventJob } from '@studio/bullmq';
import { EventPublisher } from '@studio/nest';
import { tenantId, type EventBus, type JobQueue, type Repository, type TenantId } from '@studio/ports';
import { TrainingDataset } from '../datasets/training-dataset';
import { DEFAULT_HYPERPARAMETERS, InvalidHyperparametersError, resolveHyperparameters } from './hyperparameters';
import { adapterIdFor, trainingRunId } from '@studio/pipeline';
import { DatasetNotAvailableError, RequestTrainingRun } from './request-training-run';
import { TrackTrainingRun } from './track-training-run';
import { RegisteredAdapter, TrainingRun } from './training-run';

/** A tenant-keyed map standing in for the Mongo repository (validating like it). */
class MapRepository<T extends { id: string }> implements Pick<Repository<T>, 'get' | 'upsert'> {
  readonly rows = new Map<string, T>();
  constructor(private readonly schema: { parse(v: unknown): T }) {}
  async get(tenant: TenantId, id: string): Promise<T | null> {
    return this.rows.get(`${tenant}/${id}`) ?? null;
  }
  async upsert(tenant: TenantId, entity: T): Promise<void> {
    this.rows.set(`${tenant}/${entity.id}`, this.schema.parse(entity));
  }
}

const acme = tenantId('acme');
const runId = 'run-0123456789abcdef';
const job: EventJob<typeof TRAIN_JOB> = {
  id: runId,
  name: TRAIN_JOB,
  data: {
    schema_version: 'v1',
    run_id: runId,
    tenant_id: 'acme',
    context_id: 'ctx-1',
    method: 'sft',
    base_model: 'tiny',
    dataset: { train_path: '/artifacts/datasets/dv/train.jsonl', eval_path: null, sha256: 'b'.repeat(64), format: 'conversational' },
    hyperparameters: DEFAULT_HYPERPARAMETERS,
    output_dir: `/artifacts/runs/${runId}`,
  } satisfies TrainingJobV1,
};
const base = { schema_version: 'v1', run_id: runId, time: '2026-01-01T00:00:00Z' } as const;

function setUp() {
  const runs = new MapRepository(TrainingRun);
  const adapters = new MapRepository(RegisteredAdapter);
  const published: { topic: Topic; event: CloudEvent<Record<string, unknown>> }[] = [];
  const bus: EventBus = {
    publish: async (topic, event) => void published.push({ topic, event: event as CloudEvent<Record<string, unknown>> }),
    subscribe: () => undefined,
    start: async () => undefined,
    stop: async () => undefined,
  };
  const track = new TrackTrainingRun(
    runs as unknown as Repository<TrainingRun>,
    adapters as unknown as Repository<RegisteredAdapter>,
    new EventPublisher(bus, '/studio/instructor'),
  );
  const now = '2026-01-01T00:00:00.000Z';
  void runs.upsert(acme, {
    id: runId,
    contextId: 'ctx-1',
    datasetVersionId: 'dv-1',
    datasetSha256: 'a'.repeat(64),
    baseModel: 'tiny',
    hyperparameters: DEFAULT_HYPERPARAMETERS,
    outputDir: job.data.output_dir,
    state: 'requested',
    totalSteps: null,
    step: 0,
    firstLoss: null,
    lastLoss: null,
    adapterId: null,
    error: null,
    requestedAt: now,
    updatedAt: now,
  });
  return { runs, adapters, published, track };
}

describe('TrackTrainingRun', () => {
  it('follows the runtime progress of the job and publishes it with deterministic ids', async () => {
    const { runs, published, track } = setUp();
    await track.progress(job, { ...base, event: 'started', method: 'sft', base_model: 'tiny', total_steps: 10, resumed_from_step: null });
    await track.progress(job, {
      ...base,
      event: 'step',
      step: 1,
      total_steps: 10,
      epoch: 0.1,
      loss: 3.5,
      learning_rate: 3e-4,
      tokens_per_s: 100,
      eta_s: 9,
    });
    await track.progress(job, {
      ...base,
      event: 'step',
      step: 2,
      total_steps: 10,
      epoch: 0.2,
      loss: 3.1,
      learning_rate: 3e-4,
      tokens_per_s: 100,
      eta_s: 8,
    });
    await track.progress(job, { not: 'a progress event' });
    expect(await runs.get(acme, runId)).toMatchObject({ state: 'running', step: 2, totalSteps: 10, firstLoss: 3.5, lastLoss: 3.1 });
    expect(published.map((p) => [p.topic, p.event.id])).toEqual([
      [TRAINING_RUN_PROGRESS_V1, `progress-${runId}-started-0`],
      [TRAINING_RUN_PROGRESS_V1, `progress-${runId}-step-1`],
      [TRAINING_RUN_PROGRESS_V1, `progress-${runId}-step-2`],
    ]);
    expect(published[2]?.event).toMatchObject({
      tenantid: 'acme',
      source: '/studio/instructor',
      data: { runId, phase: 'step', step: 2, totalSteps: 10, loss: 3.1 },
    });
  });

  it('registers the adapter with its lineage when the job completes, and a late progress event does not reopen the run', async () => {
    const { runs, adapters, published, track } = setUp();
    await track.progress(job, {
      ...base,
      event: 'step',
      step: 10,
      total_steps: 10,
      epoch: 1,
      loss: 2,
      learning_rate: 3e-4,
      tokens_per_s: 100,
      eta_s: 0,
    });
    await track.completed(job, { artifact_dir: `${job.data.output_dir}/artifact`, metrics: { train_loss: 2.4, total_steps: 10 } });
    await track.progress(job, {
      ...base,
      event: 'step',
      step: 9,
      total_steps: 10,
      epoch: 0.9,
      loss: 2.1,
      learning_rate: 3e-4,
      tokens_per_s: 100,
      eta_s: 1,
    });
    expect(await runs.get(acme, runId)).toMatchObject({ state: 'completed', step: 10, adapterId: adapterIdFor(runId) });
    expect(await adapters.get(acme, adapterIdFor(runId))).toMatchObject({
      runId,
      baseModel: 'tiny',
      datasetVersionId: 'dv-1',
      datasetSha256: 'a'.repeat(64),
      artifactDir: `${job.data.output_dir}/artifact`,
      metrics: { train_loss: 2.4 },
      lastLoss: 2,
    });
    const completed = published.find((p) => p.topic === TRAINING_RUN_COMPLETED_V1);
    expect(completed?.event).toMatchObject({
      id: `completed-${runId}`,
      data: { runId, adapterId: adapterIdFor(runId), artifactUri: `${job.data.output_dir}/artifact` },
    });
  });

  it('fails the run with the worker’s reason', async () => {
    const { runs, published, track } = setUp();
    await track.failed(job, 'dataset_error: sha256 mismatch', 1);
    expect(await runs.get(acme, runId)).toMatchObject({ state: 'failed', error: 'dataset_error: sha256 mismatch' });
    expect(published.find((p) => p.topic === TRAINING_RUN_FAILED_V1)?.event.data).toMatchObject({
      error: { type: 'dataset_error', message: 'sha256 mismatch' },
      attempts: 1,
    });
  });

  it('ignores events of runs it did not request', async () => {
    const { published, track } = setUp();
    await track.completed({ ...job, data: { ...job.data, run_id: 'run-unknown' } }, { artifact_dir: '/x', metrics: {} });
    expect(published).toEqual([]);
  });
});

describe('resolveHyperparameters', () => {
  it('applies overrides to the defaults, merging lora field by field', () => {
    expect(resolveHyperparameters({ max_steps: 10, lora: { r: 8 } })).toEqual({
      ...DEFAULT_HYPERPARAMETERS,
      max_steps: 10,
      lora: { ...DEFAULT_HYPERPARAMETERS.lora, r: 8 },
    });
  });

  it('names every unknown or invalid field', () => {
    expect(() => resolveHyperparameters({ warmup: 3 })).toThrow(/warmup: unknown hyper-parameter/);
    const error = (() => {
      try {
        resolveHyperparameters({ max_steps: -1, learning_rate: 'fast' });
      } catch (e) {
        return e as InvalidHyperparametersError;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(InvalidHyperparametersError);
    expect(error?.issues.map((i) => i.split(':')[0]).sort()).toEqual(['learning_rate', 'max_steps']);
  });

  it('names the same inputs the same run', () => {
    const h = resolveHyperparameters({ max_steps: 10 });
    expect(trainingRunId('a'.repeat(64), 'tiny', h)).toBe(trainingRunId('a'.repeat(64), 'tiny', { ...h }));
    expect(trainingRunId('a'.repeat(64), 'tiny', h)).not.toBe(trainingRunId('a'.repeat(64), 'tiny', { ...h, seed: 1 }));
    expect(trainingRunId('a'.repeat(64), 'tiny', h)).toMatch(/^run-[0-9a-f]{16}$/);
  });
});

describe('RequestTrainingRun', () => {
  const dataset = {
    id: 'dv-1',
    contextId: 'ctx-1',
    sha256: 'a'.repeat(64),
    format: 'conversational' as const,
    trainPath: 'file:///artifacts/datasets/dv-1/train.jsonl',
    trainSha256: 'b'.repeat(64),
    trainExamples: 90,
    heldOutPath: 'file:///artifacts/datasets/dv-1/held-out.jsonl',
    heldOutSha256: 'c'.repeat(64),
    heldOutExamples: 10,
    clauseCoverage: 1,
    status: 'available' as const,
    publishedAt: '2026-01-01T00:00:00.000Z',
    publishedEventId: 'e-1',
  };

  function setUpRequest() {
    const datasets = new MapRepository(TrainingDataset);
    void datasets.upsert(acme, dataset);
    const runs = new MapRepository(TrainingRun);
    const enqueued: { name: string; payload: unknown; options: unknown }[] = [];
    const queue = {
      enqueue: async (name: string, payload: unknown, options: unknown) => (enqueued.push({ name, payload, options }), { jobId: 'x' }),
    } as unknown as JobQueue;
    const published: Topic[] = [];
    const bus: EventBus = {
      publish: async (topic) => void published.push(topic),
      subscribe: () => undefined,
      start: async () => undefined,
      stop: async () => undefined,
    };
    const artifacts = { localPath: (key: string) => `/artifacts/${key}`, pathOf: (uri: string) => uri.replace('file://', '') };
    const request = new RequestTrainingRun(
      datasets as unknown as Repository<TrainingDataset>,
      runs as unknown as Repository<TrainingRun>,
      queue,
      artifacts,
      new EventPublisher(bus, '/studio/instructor'),
    );
    return { request, runs, enqueued, published };
  }

  it('records the run, publishes the request and queues the job with the dataset’s paths in the artifact folder', async () => {
    const { request, enqueued, published } = setUpRequest();
    const { run, created } = await request.execute({
      tenant: acme,
      contextId: 'ctx-1',
      datasetVersionId: 'dv-1',
      baseModel: 'tiny',
      hyperparameters: { max_steps: 10 },
    });
    expect(created).toBe(true);
    expect(run).toMatchObject({
      id: trainingRunId('a'.repeat(64), 'tiny', resolveHyperparameters({ max_steps: 10 })),
      state: 'requested',
      outputDir: `/artifacts/runs/${run.id}`,
    });
    expect(published).toEqual([TRAINING_RUN_REQUESTED_V1]);
    expect(enqueued).toEqual([
      {
        name: TRAIN_JOB,
        payload: expect.objectContaining({
          run_id: run.id,
          base_model: 'tiny',
          dataset: {
            train_path: '/artifacts/datasets/dv-1/train.jsonl',
            eval_path: null,
            sha256: 'b'.repeat(64),
            format: 'conversational',
          },
        }),
        options: { jobId: run.id, attempts: 2 },
      },
    ]);
  });

  it('returns the same run for the same request, queueing it again only while it is requested', async () => {
    const { request, runs, enqueued, published } = setUpRequest();
    const input = { tenant: acme, contextId: 'ctx-1', datasetVersionId: 'dv-1', baseModel: 'tiny', hyperparameters: {} };
    const first = await request.execute(input);
    const again = await request.execute(input);
    expect(again).toEqual({ run: first.run, created: false });
    expect(enqueued).toHaveLength(2);
    await runs.upsert(acme, { ...first.run, state: 'running' });
    await request.execute(input);
    expect(enqueued).toHaveLength(2);
    expect(published).toEqual([TRAINING_RUN_REQUESTED_V1]);
  });

  it('refuses a dataset version it has not seen, or of another context', async () => {
    const { request } = setUpRequest();
    await expect(
      request.execute({ tenant: acme, contextId: 'ctx-1', datasetVersionId: 'dv-2', baseModel: 'tiny', hyperparameters: {} }),
    ).rejects.toThrow(DatasetNotAvailableError);
    await expect(
      request.execute({ tenant: acme, contextId: 'ctx-2', datasetVersionId: 'dv-1', baseModel: 'tiny', hyperparameters: {} }),
    ).rejects.toThrow(/not available in context "ctx-2"/);
  });
});
