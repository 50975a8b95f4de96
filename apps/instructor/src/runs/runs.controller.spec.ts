import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TRAIN_JOB, type TrainingJobV1 } from '@studio/contracts';
import { FileArtifactStore } from '@studio/artifacts';
import { InProcessEventBus, InProcessJobQueue, SqliteStore } from '@studio/inproc';
import {
  ADAPTERS,
  AdapterRecord,
  CLAUSE_INDEXES,
  clauseIndexId,
  DATASET_VERSIONS,
  DatasetVersionRecord,
  DEFAULT_HYPERPARAMETERS,
  PREFERENCE_DATASET_VERSIONS,
  TRAINING_RUNS,
  TrainingRunRecord,
} from '@studio/pipeline';
import { tenantId } from '@studio/ports';
import { RunsController, StartRunBody } from './runs.controller';

const TENANT = tenantId('t1');
const time = '2026-01-01T00:00:00.000Z';
const sha = (c: string) => c.repeat(64);

describe('RunsController (runs of any method)', () => {
  let dir: string;
  let store: SqliteStore;
  let queue: InProcessJobQueue;
  let bus: InProcessEventBus;
  let controller: RunsController;
  let enqueued: TrainingJobV1[];
  const res = {
    code: 0,
    status(code: number) {
      this.code = code;
    },
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'instructor-runs-'));
    store = SqliteStore.open(dir, 'instructor');
    queue = new InProcessJobQueue();
    bus = new InProcessEventBus();
    await bus.start();
    const artifacts = new FileArtifactStore(dir);
    const datasets = store.repository(DATASET_VERSIONS);
    const clauseIndexes = store.repository(CLAUSE_INDEXES);
    const runs = store.repository(TRAINING_RUNS);
    const adapters = store.repository(ADAPTERS);
    const preferenceDatasets = store.repository(PREFERENCE_DATASET_VERSIONS);
    const split = { uri: `file://${dir}/train.jsonl`, sha256: sha('1'), examples: 4 };
    await datasets.upsert(
      TENANT,
      DatasetVersionRecord.parse({
        id: 'ds-1',
        contextId: 'c1',
        sha256: sha('a'),
        documentId: 'doc',
        documentSha256: sha('d'),
        systemPrompt: 'Answer.',
        train: split,
        heldOut: split,
        examplesByKind: { qa: 4 },
        clauseCoverage: 1,
        createdAt: time,
      }),
    );
    await clauseIndexes.upsert(TENANT, {
      id: clauseIndexId('doc', sha('d')),
      contextId: 'c1',
      documentId: 'doc',
      documentSha256: sha('d'),
      clauseCount: 1,
      dimensions: 3,
      embeddingModel: 'm',
      indexedAt: time,
    });
    const sftDir = join(dir, 'sft-artifact');
    await artifacts.put('sft-artifact/adapter_config.json', '{}');
    await runs.upsert(
      TENANT,
      TrainingRunRecord.parse({
        id: 'run-sft',
        contextId: 'c1',
        datasetVersionId: 'ds-1',
        datasetSha256: sha('a'),
        baseModel: 'tiny',
        hyperparameters: DEFAULT_HYPERPARAMETERS,
        outputDir: dir,
        state: 'completed',
        totalSteps: 1,
        step: 1,
        lossCurve: [],
        adapterId: 'adapter-sft',
        error: null,
        jobId: 'run-sft',
        requestedAt: time,
        updatedAt: time,
      }),
    );
    await adapters.upsert(
      TENANT,
      AdapterRecord.parse({
        id: 'adapter-sft',
        contextId: 'c1',
        runId: 'run-sft',
        baseModel: 'tiny',
        datasetVersionId: 'ds-1',
        datasetSha256: sha('a'),
        hyperparameters: DEFAULT_HYPERPARAMETERS,
        artifactDir: sftDir,
        metrics: {},
        lossCurve: [],
        registeredAt: time,
      }),
    );
    await preferenceDatasets.upsert(TENANT, {
      id: 'pd-1',
      contextId: 'c1',
      sha256: sha('b'),
      previousId: null,
      pairs: 3,
      newPairs: 3,
      bySource: { human: 3 },
      resolutions: 0,
      train: { uri: `file://${dir}/pref-train.jsonl`, sha256: sha('2'), examples: 2 },
      heldOut: { uri: `file://${dir}/pref-held-out.jsonl`, sha256: sha('3'), examples: 1 },
      publishedAt: time,
    });
    enqueued = [];
    const spy = {
      enqueue: async (name: string, job: TrainingJobV1, opts: unknown) => {
        enqueued.push(job);
        return queue.enqueue(TRAIN_JOB, job, opts as never);
      },
    };
    controller = new RunsController(
      { bus, eventSource: '/studio/instructor' },
      datasets,
      clauseIndexes,
      runs,
      adapters,
      preferenceDatasets,
      {
        ...queue,
        enqueue: spy.enqueue,
        cancel: queue.cancel.bind(queue),
        status: queue.status.bind(queue),
        close: queue.close.bind(queue),
      } as unknown as InProcessJobQueue,
      artifacts,
    );
  });
  afterEach(async () => {
    await bus.stop();
    await queue.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (body: unknown) => controller.start('t1', 'c1', StartRunBody.parse(body), res);

  it('starts a dpo run from a completed parent run on a published preference dataset, with the parent base model and dataset version', async () => {
    const run = await start({ method: 'dpo', parentRunId: 'run-sft', preferenceDatasetId: 'pd-1' });
    expect(res.code).toBe(202);
    expect(run).toMatchObject({
      method: 'dpo',
      parentAdapterId: 'adapter-sft',
      preferenceDatasetId: 'pd-1',
      datasetVersionId: 'ds-1',
      baseModel: 'tiny',
    });
    expect(run.hyperparameters.dpo_beta).toBe(0.1);
    expect(enqueued[0]).toMatchObject({
      method: 'dpo',
      init_adapter: join(dir, 'sft-artifact'),
      dataset: { format: 'preference', sha256: sha('2') },
    });
  });

  it('starts a reward run on the context newest dataset version when none is named', async () => {
    const run = await start({ method: 'reward', preferenceDatasetId: 'pd-1', baseModel: 'tiny' });
    expect(run).toMatchObject({ method: 'reward', datasetVersionId: 'ds-1', parentAdapterId: null });
    expect(enqueued[0]?.dataset.eval_path).toBe(join(dir, 'pref-held-out.jsonl'));
  });

  it('names what is missing or does not fit', async () => {
    expect(() => StartRunBody.parse({ method: 'dpo', preferenceDatasetId: 'pd-1' })).toThrow(/a dpo run needs parentRunId/);
    expect(() => StartRunBody.parse({ method: 'dpo', parentRunId: 'run-sft' })).toThrow(/a dpo run needs preferenceDatasetId/);
    expect(() => StartRunBody.parse({ datasetVersionId: 'ds-1', baseModel: 'tiny', preferenceDatasetId: 'pd-1' })).toThrow(
      /an sft run trains on a dataset version/,
    );
    expect(() => StartRunBody.parse({ method: 'reward', preferenceDatasetId: 'pd-1' })).toThrow(/a reward run needs baseModel/);
    await expect(start({ method: 'dpo', parentRunId: 'run-sft', preferenceDatasetId: 'pd-9' })).rejects.toThrow(
      /preference dataset "pd-9" is not available in context "c1"/,
    );
    await expect(start({ method: 'dpo', parentRunId: 'run-nope', preferenceDatasetId: 'pd-1' })).rejects.toThrow(
      /parent run "run-nope" is not a training run of context "c1"/,
    );
    await expect(
      start({ method: 'dpo', parentRunId: 'run-sft', preferenceDatasetId: 'pd-1', baseModel: 'smollm2-135m-instruct' }),
    ).rejects.toMatchObject({
      status: 422,
      message: expect.stringMatching(/trained on base model tiny, not smollm2-135m-instruct/),
    });
    expect(enqueued).toEqual([]);
  });

  it('serves the newest reward model, 404 before there is one', async () => {
    await expect(controller.latestRewardModel('t1', 'c1')).rejects.toMatchObject({ status: 404 });
    const run = await start({ method: 'reward', preferenceDatasetId: 'pd-1', baseModel: 'tiny' });
    const adapters = store.repository(ADAPTERS);
    await adapters.upsert(
      TENANT,
      AdapterRecord.parse({
        id: 'adapter-reward',
        contextId: 'c1',
        runId: run.id,
        method: 'reward',
        baseModel: 'tiny',
        datasetVersionId: 'ds-1',
        datasetSha256: sha('a'),
        preferenceDatasetId: 'pd-1',
        hyperparameters: run.hyperparameters,
        artifactDir: join(dir, 'rm'),
        metrics: { pairwise_accuracy: 0.75 },
        lossCurve: [],
        registeredAt: '2026-01-02T00:00:00.000Z',
      }),
    );
    expect(await controller.latestRewardModel('t1', 'c1')).toMatchObject({ id: 'adapter-reward', metrics: { pairwise_accuracy: 0.75 } });
  });
});
