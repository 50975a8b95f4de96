import { appendFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TOPIC_NAMES, TRAIN_JOB, type TrainingHyperparameters } from '@studio/contracts';
import { ExactVectorIndex, InProcessEventBus, InProcessJobQueue, InProcessJobWorker, SqliteStore } from '@studio/inproc';
import { OpenAiCompatibleClient } from '@studio/llm';
import { LlmJudge } from '@studio/auditing';
import { tenantId, type JobQueue, type JobStatus, type TenantId } from '@studio/ports';
import { FileArtifactStore } from '@studio/artifacts';
import { RuntimeServer, runtimeExecutable, SubprocessTrainer } from './adapters/runtime-process';
import { ALIGN_DEFAULTS, type AlignArgs } from './cli/args';
import { asInputError, auditThresholdsFrom, loadInputs } from './cli/inputs';
import { ProgressBoard, type ProgressOutput } from './cli/progress';
import type { AlignSummary, StageTiming } from './cli/summary';
import {
  auditAdapter,
  frameDocument,
  publishFramedDocument,
  type FramedDocument,
  type FramingResult,
  indexClauses,
  AdapterRecord,
  AuditRunRecord,
  ClauseRecord,
  DatasetVersionRecord,
  DocumentRecord,
  TrainingRunRecord,
  type PipelinePorts,
  type StudioRepositories,
  adapterOfRun,
  requestTraining,
  trainJobHandler,
  type TrainJobResult,
} from '@studio/pipeline';

export const EMBEDDING_MODEL = 'all-minilm-l6-v2';

export interface AlignIo {
  stderr: ProgressOutput;
  /** The repository root (where apps/model-runtime lives). */
  root: string;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

export function hyperparametersFor(args: Pick<AlignArgs, 'epochs' | 'maxSteps' | 'learningRate'>): TrainingHyperparameters {
  return {
    epochs: args.epochs,
    max_steps: args.maxSteps,
    learning_rate: args.learningRate,
    batch_size: ALIGN_DEFAULTS.batchSize,
    gradient_accumulation_steps: 1,
    max_seq_length: ALIGN_DEFAULTS.maxSeqLength,
    seed: ALIGN_DEFAULTS.seed,
    eval_ratio: 0,
    checkpoint_every_steps: 1_000,
    adapter: 'lora',
    lora: { r: 16, alpha: 32, dropout: 0.05, target_modules: 'all-linear' },
    dpo_beta: null,
  };
}

interface Embedded {
  store: SqliteStore;
  repos: StudioRepositories;
  bus: InProcessEventBus;
  artifacts: FileArtifactStore;
  queue: InProcessJobQueue;
  vectors: ExactVectorIndex;
  eventCounts: Map<string, number>;
}

/** The embedded profile: SQLite repositories, in-process bus and queue, exact vector index, files. */
function openEmbedded(dataDir: string): Embedded {
  mkdirSync(dataDir, { recursive: true });
  const store = SqliteStore.open(dataDir, 'studio');
  const repos: StudioRepositories = {
    documents: store.repository({ collection: 'documents', schema: DocumentRecord }),
    clauses: store.repository({ collection: 'clauses', schema: ClauseRecord, indexes: [{ fields: { contextId: 1 } }] }),
    datasets: store.repository({ collection: 'dataset_versions', schema: DatasetVersionRecord }),
    runs: store.repository({ collection: 'training_runs', schema: TrainingRunRecord }),
    adapters: store.repository({ collection: 'adapters', schema: AdapterRecord }),
    audits: store.repository({ collection: 'audit_runs', schema: AuditRunRecord }),
  };
  const bus = new InProcessEventBus({ groupId: 'studio-cli' });
  const eventCounts = new Map<string, number>();
  const eventLog = join(dataDir, 'events.jsonl');
  // The embedded profile's event log: every event of the run, as a Kafka topic would keep it.
  for (const topic of TOPIC_NAMES) {
    bus.subscribe(topic, async (event) => {
      eventCounts.set(topic, (eventCounts.get(topic) ?? 0) + 1);
      appendFileSync(eventLog, `${JSON.stringify({ topic, event })}\n`);
    });
  }
  return {
    store,
    repos,
    bus,
    artifacts: new FileArtifactStore(resolve(dataDir)),
    queue: new InProcessJobQueue(),
    vectors: new ExactVectorIndex({ dataDir }),
    eventCounts,
  };
}

async function waitForJob(queue: JobQueue, jobId: string, signal: AbortSignal): Promise<JobStatus> {
  for (;;) {
    if (signal.aborted) throw new Error('interrupted');
    const status = await queue.status(TRAIN_JOB, jobId);
    if (!status) throw new Error(`training job ${jobId} is not in the queue`);
    if (status.state === 'completed' || status.state === 'failed' || status.state === 'cancelled') return status;
    await new Promise((r) => setTimeout(r, 200));
  }
}

function stageTimer() {
  const began = performance.now();
  return () => performance.now() - began;
}

/** Frames the policy (pure), turning bad input into InputErrors before anything is stored. */
export async function prepare(args: AlignArgs): Promise<{ framed: FramedDocument; inputs: Awaited<ReturnType<typeof loadInputs>> }> {
  const inputs = await loadInputs(args);
  try {
    const framed = frameDocument({
      contextId: inputs.contextId,
      documentId: inputs.documentId,
      filename: inputs.filename,
      mediaType: inputs.mediaType,
      content: inputs.content,
      values: inputs.values,
      seedsJsonl: inputs.seedsJsonl,
      seed: ALIGN_DEFAULTS.seed,
      heldOutRatio: ALIGN_DEFAULTS.heldOutRatio,
    });
    return { framed, inputs };
  } catch (error) {
    throw asInputError(error, inputs);
  }
}

/**
 * `studio align`: frame → index → train → audit in one process, on the embedded profile, with
 * `studio-runtime serve` as a child process. Returns the figures of the closing summary.
 */
export async function runAlign(args: AlignArgs, io: AlignIo): Promise<AlignSummary> {
  const totalTimer = stageTimer();
  const board = new ProgressBoard(io.stderr);
  const timings: StageTiming[] = [];
  let elapsed = stageTimer();
  const { framed, inputs } = await prepare(args);
  const prepareMs = elapsed();
  const thresholds = auditThresholdsFrom(inputs.values, inputs.valuesPath ?? 'defaults');
  const tenant: TenantId = tenantId(args.tenant);
  const dataDir = resolve(args.dataDir);
  const embedded = openEmbedded(dataDir);
  const { bus, repos, artifacts, queue, vectors } = embedded;
  await bus.start();

  const executable = runtimeExecutable(io.root);
  let server: RuntimeServer | null = null;
  let serverStart: Promise<RuntimeServer> | null = null;
  let serverMs = 0;
  const worker = new InProcessJobWorker(queue, { jobs: [TRAIN_JOB], shutdownGraceMs: 5_000 });
  try {
    // The model runtime loads while framing runs.
    if (args.command === 'align') {
      const began = performance.now();
      serverStart = RuntimeServer.start({
        executable,
        baseModel: args.model,
        logFile: join(dataDir, 'logs', 'runtime-server.log'),
        ...(io.env ? { env: io.env } : {}),
      }).then((s) => {
        serverMs = performance.now() - began;
        server = s;
        return s;
      });
      serverStart.catch(() => undefined);
    }

    // (a) frame (parsing, statements, examples and split ran in prepare(), before anything was stored)
    elapsed = stageTimer();
    const frameSink = board.stage('frame');
    frameSink({ done: 0, total: 1 });
    const framing: FramingResult = await publishFramedDocument({ bus, repos, artifacts }, tenant, framed);
    frameSink({ done: 1, total: 1 });
    timings.push({ stage: 'frame', ms: prepareMs + elapsed(), modelMs: 0 });
    board.done(
      'frame',
      timings.at(-1)?.ms ?? 0,
      `${framing.clauses.length} clauses, dataset ${framing.dataset.id}${framing.created ? '' : ' (already published)'}`,
    );
    const base = {
      contextId: inputs.contextId,
      dataDir,
      framing,
      statementsByKind: framed.statementsByKind,
    };
    if (args.command === 'frame') {
      await bus.stop();
      return { ...base, timings, totalMs: totalTimer(), training: null, audit: null, events: Object.fromEntries(embedded.eventCounts) };
    }

    // (b) index
    io.signal.throwIfAborted();
    elapsed = stageTimer();
    board.note('runtime: waiting for the model server');
    const ready = await (serverStart as Promise<RuntimeServer>);
    const llm = new OpenAiCompatibleClient({ baseUrl: ready.baseUrl, timeoutMs: 600_000 });
    const ports: PipelinePorts = { bus, repos, artifacts, queue, vectors, llm };
    const waitedMs = elapsed();
    board.note(`runtime: ${args.model} served at ${ready.baseUrl} (started in ${(serverMs / 1000).toFixed(1)} s)`);
    elapsed = stageTimer();
    const indexed = await indexClauses(
      { llm, vectors, embeddingModel: EMBEDDING_MODEL },
      { tenant, contextId: inputs.contextId, clauses: framing.clauses },
      board.stage('index'),
    );
    timings.push({ stage: 'runtime start (overlaps frame)', ms: waitedMs, modelMs: waitedMs });
    timings.push({ stage: 'index', ms: elapsed(), modelMs: indexed.embedMs });
    board.done('index', timings.at(-1)?.ms ?? 0, `${indexed.indexed} clauses, ${indexed.dimensions} dimensions`);

    // (c) train
    io.signal.throwIfAborted();
    elapsed = stageTimer();
    const trainSink = board.stage('train');
    let trainingMs = 0;
    worker.handle(TRAIN_JOB, async (job, context) => {
      const began = performance.now();
      try {
        return await trainJobHandler(
          { bus, repos, trainer: new SubprocessTrainer({ executable, ...(io.env ? { env: io.env } : {}) }) },
          trainSink,
        )(job, context);
      } finally {
        trainingMs = performance.now() - began;
      }
    });
    await worker.start();
    const requested = await requestTraining(ports, {
      tenant,
      contextId: inputs.contextId,
      dataset: framing.dataset,
      baseModel: args.model,
      hyperparameters: hyperparametersFor(args),
      force: args.retrain,
    });
    let adapter: AdapterRecord;
    let reused = false;
    if (requested.kind === 'reused') {
      adapter = requested.adapter;
      reused = true;
      board.note(
        `train: reusing adapter ${adapter.id} of run ${requested.runId} (same dataset, model and settings; --retrain to train again)`,
      );
    } else {
      const status = await waitForJob(queue, requested.jobId, io.signal);
      if (status.state !== 'completed') throw new Error(`training failed: ${status.failedReason ?? status.state}`);
      const result = status.result as TrainJobResult;
      adapter = await adapterOfRun(repos, tenant, result.runId);
    }
    timings.push({ stage: 'train', ms: elapsed(), modelMs: trainingMs });
    board.done(
      'train',
      timings.at(-1)?.ms ?? 0,
      reused ? 'reused' : `loss ${adapter.firstLoss?.toFixed(3) ?? '?'} → ${adapter.lastLoss?.toFixed(3) ?? '?'}`,
    );

    // (d) audit
    io.signal.throwIfAborted();
    elapsed = stageTimer();
    const audit = await auditAdapter(
      { bus, repos, artifacts, llm, vectors, embeddingModel: EMBEDDING_MODEL, adapters: ready, ...judgeOf(args) },
      {
        tenant,
        contextId: inputs.contextId,
        dataset: framing.dataset,
        adapter,
        baseModel: args.model,
        thresholds,
        minClauseCoverage: inputs.values?.audit.min_clause_coverage ?? null,
        settings: {
          maxItems: args.maxEval,
          ragTopK: ALIGN_DEFAULTS.ragTopK,
          maxTokens: ALIGN_DEFAULTS.maxTokens,
          concurrency: ALIGN_DEFAULTS.concurrency,
        },
        createdAt: new Date().toISOString(),
      },
      board.stage('audit'),
    );
    timings.push({ stage: 'audit', ms: elapsed(), modelMs: audit.modelMs });
    board.done('audit', timings.at(-1)?.ms ?? 0, `verdict ${audit.report.verdict}`);
    await bus.idle();
    return {
      ...base,
      timings,
      totalMs: totalTimer(),
      training: {
        runId: adapter.runId,
        adapterId: adapter.id,
        firstLoss: adapter.firstLoss,
        lastLoss: adapter.lastLoss,
        losses: adapter.losses,
        reused,
        hyperparameters: adapter.hyperparameters,
      },
      audit: { report: audit.report, reportJsonUri: audit.reportJsonUri, reportMarkdownUri: audit.reportMarkdownUri },
      events: Object.fromEntries(embedded.eventCounts),
    };
  } finally {
    await worker.stop().catch(() => undefined);
    await queue.close().catch(() => undefined);
    if (serverStart) await serverStart.catch(() => undefined);
    const running = server as RuntimeServer | null;
    if (running) await running.stop();
    await bus.stop().catch(() => undefined);
    embedded.store.close();
  }
}

/** The optional LLM judge of the audit: any OpenAI-compatible endpoint named on the command line. */
export function judgeOf(args: Pick<AlignArgs, 'judgeUrl' | 'judgeModel'>): { judge?: { judge: LlmJudge; model: string } } {
  if (!args.judgeUrl || !args.judgeModel) return {};
  const apiKey = process.env['STUDIO_JUDGE_API_KEY'];
  const client = new OpenAiCompatibleClient({ baseUrl: args.judgeUrl, timeoutMs: 120_000, ...(apiKey ? { apiKey } : {}) });
  return { judge: { judge: new LlmJudge(client, { model: args.judgeModel }), model: args.judgeModel } };
}
