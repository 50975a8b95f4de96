import { appendFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TOPIC_NAMES, TRAIN_JOB, type TrainingHyperparameters } from '@studio/contracts';
import { ExactVectorIndex, InProcessEventBus, InProcessJobQueue, InProcessJobWorker, SqliteStore } from '@studio/inproc';
import { OpenAiCompatibleClient } from '@studio/llm';
import { LlmJudge, type AnswerJudge } from '@studio/auditing';
import { DEFAULT_MAX_DOCUMENT_BYTES } from '@studio/framing';
import { tenantId } from '@studio/ports';
import { FileArtifactStore } from '@studio/artifacts';
import { preferenceRepositories, type PreferenceRepositories } from '@studio/preferences';
import {
  DEFAULT_DPO_HYPERPARAMETERS,
  alignToPolicy,
  auditThresholdsFor,
  frameDocument,
  resolveHyperparameters,
  studioRepositories,
  trainJobHandler,
  TrainingRunTracker,
  type AlignmentObserver,
  type FramedDocument,
  type ModelEndpoint,
  type StudioRepositories,
  type SynthesisSettingsInput,
  type AttackerPort,
  type TeacherEndpoint,
} from '@studio/pipeline';
import { RuntimeServer, runtimeExecutable, SubprocessTrainer } from './adapters/runtime-process';
import { ALIGN_DEFAULTS, type AlignArgs } from './cli/args';
import { asInputError, loadInputs } from './cli/inputs';
import { ProgressBoard, type ProgressOutput } from './cli/progress';
import type { AlignSummary } from './cli/summary';
import { LlmAttackJudge } from '@studio/redteam';

export const EMBEDDING_MODEL = 'all-minilm-l6-v2';

export interface AlignIo {
  stderr: ProgressOutput;
  /** The repository root (where apps/model-runtime lives). */
  root: string;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

type CheckpointEvalArgs = Pick<AlignArgs, 'evalEvery' | 'evalItems' | 'earlyStop'>;

/** The command line's checkpoint evaluations (--eval-every, --eval-items, --early-stop), merged over the pipeline's defaults. */
function checkpointEvalOf(args: Partial<CheckpointEvalArgs>): Record<string, unknown> {
  if (args.evalEvery === null) return { checkpoint_eval: null };
  const asked = {
    ...(args.evalEvery !== undefined ? { every_steps: args.evalEvery } : {}),
    ...(args.evalItems !== undefined ? { items: args.evalItems } : {}),
    ...(args.earlyStop ? { early_stop: args.earlyStop } : {}),
  };
  return Object.keys(asked).length > 0 ? { checkpoint_eval: asked } : {};
}

/** The run's hyper-parameters: the pipeline's defaults with the command line's epochs, step cap, learning rate and checkpoint evaluations. */
export function hyperparametersFor(
  args: Pick<AlignArgs, 'epochs' | 'maxSteps' | 'learningRate'> & Partial<CheckpointEvalArgs>,
): TrainingHyperparameters {
  return resolveHyperparameters({
    epochs: args.epochs,
    max_steps: args.maxSteps,
    learning_rate: args.learningRate,
    ...checkpointEvalOf(args),
  });
}

/** The DPO round's hyper-parameters (--method sft,dpo): the DPO defaults with the command line's epochs, DPO steps, beta and learning rate; null for --method sft. */
export function dpoHyperparametersFor(
  args: Pick<AlignArgs, 'method' | 'epochs' | 'maxSteps' | 'dpoBeta' | 'dpoLearningRate' | 'dpoMaxSteps'> & Partial<CheckpointEvalArgs>,
): TrainingHyperparameters | null {
  if (args.method !== 'sft,dpo') return null;
  return resolveHyperparameters(
    {
      epochs: args.epochs,
      max_steps: args.dpoMaxSteps ?? DEFAULT_DPO_HYPERPARAMETERS.max_steps,
      ...(args.dpoBeta !== null ? { dpo_beta: args.dpoBeta } : {}),
      ...(args.dpoLearningRate !== null ? { learning_rate: args.dpoLearningRate } : {}),
      ...checkpointEvalOf(args),
    },
    'dpo',
  );
}

interface Embedded {
  store: SqliteStore;
  repos: StudioRepositories;
  /** Preferences and preference datasets (DPO rounds), in the same store. */
  preferences: PreferenceRepositories;
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
  const repos: StudioRepositories = studioRepositories((spec) => store.repository(spec));
  const preferences = preferenceRepositories((spec) => store.repository(spec));
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
    preferences,
    bus,
    artifacts: new FileArtifactStore(resolve(dataDir)),
    queue: new InProcessJobQueue(),
    vectors: new ExactVectorIndex({ dataDir }),
    eventCounts,
  };
}

/** Frames the policy in memory (pure), turning bad input into InputErrors before anything is stored. */
export async function prepare(args: AlignArgs): Promise<{ framed: FramedDocument; inputs: Awaited<ReturnType<typeof loadInputs>> }> {
  const inputs = await loadInputs(args);
  try {
    const framed = frameDocument({
      contextId: inputs.contextId,
      documentId: inputs.documentId,
      mediaType: inputs.framing.mediaType,
      content: inputs.framing.content,
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

function boardObserver(board: ProgressBoard): AlignmentObserver {
  return {
    stage: (stage) => board.stage(stage),
    done: (stage, ms, note) => board.done(stage, ms, note),
    note: (text) => board.note(text),
  };
}

/**
 * `studio align`: the pipeline's `alignToPolicy` on the embedded profile, with
 * `studio-runtime serve` as a child process and an in-process worker running the `train` jobs
 * through `studio-runtime train`. Returns the figures of the closing summary.
 */
export async function runAlign(args: AlignArgs, io: AlignIo): Promise<AlignSummary> {
  const began = performance.now();
  const { framed, inputs } = await prepare(args);
  const prepareMs = performance.now() - began;
  const thresholds = auditThresholdsFor(inputs.values, inputs.valuesPath ?? 'defaults');
  const tenant = tenantId(args.tenant);
  const dataDir = resolve(args.dataDir);
  const embedded = openEmbedded(dataDir);
  const { bus, repos, artifacts, queue, vectors } = embedded;
  const board = new ProgressBoard(io.stderr);
  await bus.start();

  const executable = runtimeExecutable(io.root);
  let server: RuntimeServer | null = null;
  let serverStart: Promise<RuntimeServer> | null = null;
  let serverMs = 0;
  let trainingMs = 0;
  const worker = new InProcessJobWorker(queue, { jobs: [TRAIN_JOB], shutdownGraceMs: 5_000 });
  try {
    // The model runtime loads while the document is framed (for `frame`, only when it is the teacher).
    const localTeacher = args.teacher && args.teacherUrl === null;
    if (args.command === 'align' || localTeacher) {
      const started = performance.now();
      serverStart = RuntimeServer.start({
        executable,
        baseModel: args.model,
        logFile: join(dataDir, 'logs', 'runtime-server.log'),
        artifactDir: dataDir,
        ...(io.env ? { env: io.env } : {}),
      }).then((s) => {
        serverMs = performance.now() - started;
        server = s;
        return s;
      });
      serverStart.catch(() => undefined);
    }
    if (args.command === 'align') {
      const handle = trainJobHandler({
        tracker: new TrainingRunTracker({ bus, repos }, board.stage('train')),
        trainer: new SubprocessTrainer({ executable, ...(io.env ? { env: io.env } : {}) }),
      });
      worker.handle(TRAIN_JOB, async (job, context) => {
        const t = performance.now();
        try {
          return await handle(job, context);
        } finally {
          trainingMs = performance.now() - t;
        }
      });
      await worker.start();
    }
    const models = async (): Promise<ModelEndpoint> => {
      const ready = await (serverStart as Promise<RuntimeServer>);
      board.note(`runtime: ${args.model} served at ${ready.baseUrl} (started in ${(serverMs / 1000).toFixed(1)} s)`);
      return { llm: new OpenAiCompatibleClient({ baseUrl: ready.baseUrl, apiKey: ready.apiKey, timeoutMs: 600_000 }), adapters: ready };
    };
    const judge = judgeOf(args);
    const attacker = attackerOf(args, models);
    // A configured judge also grades the teacher's examples (those it grades low are dropped).
    const teacher = teacherOf(args, models, judge.judge?.judge);
    const result = await alignToPolicy(
      {
        bus,
        repos,
        preferences: embedded.preferences,
        artifacts,
        queue,
        vectors,
        models,
        ...judge,
        ...(teacher ? { teacher } : {}),
        ...(attacker ? { attacker } : {}),
      },
      {
        tenant,
        contextId: inputs.contextId,
        document: {
          id: inputs.documentId,
          filename: inputs.filename,
          mediaType: inputs.mediaType,
          content: inputs.content,
          maxBytes: DEFAULT_MAX_DOCUMENT_BYTES,
        },
        values: inputs.values,
        seedsJsonl: inputs.seedsJsonl,
        seed: ALIGN_DEFAULTS.seed,
        heldOutRatio: ALIGN_DEFAULTS.heldOutRatio,
        baseModel: args.model,
        embeddingModel: EMBEDDING_MODEL,
        hyperparameters: hyperparametersFor(args),
        thresholds,
        audit: {
          maxItems: args.maxEval,
          maxAttacks: args.maxAttacks,
          maxBenign: args.maxBenign,
          ...(args.maxGeneralAbility === null ? {} : { maxGeneralAbility: args.maxGeneralAbility }),
          // Without an attacker these stay out, so the audit (and its id) is the one it was before.
          ...(args.attacker ? { maxAdaptive: args.maxAdaptive, adaptiveRounds: args.attackerRounds } : {}),
          ragTopK: ALIGN_DEFAULTS.ragTopK,
          maxTokens: ALIGN_DEFAULTS.maxTokens,
          concurrency: ALIGN_DEFAULTS.concurrency,
        },
        retrain: args.retrain,
        until: args.command === 'frame' ? 'frame' : 'audit',
        synthesis: synthesisSettingsOf(args),
        dpo: (() => {
          const hyperparameters = dpoHyperparametersFor(args);
          return hyperparameters ? { hyperparameters } : null;
        })(),
      },
      boardObserver(board),
      io.signal,
      () => trainingMs,
    );
    await bus.idle();
    const [frameTiming, ...rest] = result.timings;
    return {
      contextId: inputs.contextId,
      dataDir,
      document: {
        id: result.document.id,
        version: result.version?.version ?? null,
        revised:
          result.revision && result.revision.changes
            ? {
                previousVersion: result.revision.previousVersion,
                changes: result.revision.changes,
                differences: result.revision.differences,
                staleAudits: result.revision.staleAudits,
              }
            : null,
      },
      clauses: result.clauses.length,
      statements: framed.statements.length,
      statementsByKind: result.statementsByKind,
      seeds: framed.seeds.length,
      seedsDropped: framed.seedReport?.droppedPairs.length ?? 0,
      dataset: result.dataset.dataset,
      datasetCreated: result.dataset.created,
      synthesis: result.dataset.synthesis,
      dataReport: {
        data: result.dataset.report.data,
        jsonUri: result.dataset.report.jsonUri,
        markdownUri: result.dataset.report.markdownUri,
      },
      timings: [...(frameTiming ? [{ ...frameTiming, ms: frameTiming.ms + prepareMs }] : []), ...rest],
      totalMs: performance.now() - began,
      training: result.training
        ? {
            runId: result.training.adapter.runId,
            adapterId: result.training.adapter.id,
            losses: result.training.adapter.lossCurve.map((p) => p.loss),
            reused: result.training.reused,
            hyperparameters: result.training.adapter.hyperparameters,
            ...(result.training.adapter.evalCurve ? { evalCurve: result.training.adapter.evalCurve } : {}),
            metrics: result.training.adapter.metrics,
          }
        : null,
      dpo: result.dpo
        ? {
            runId: result.dpo.adapter.runId,
            adapterId: result.dpo.adapter.id,
            losses: result.dpo.adapter.lossCurve.map((p) => p.loss),
            reused: result.dpo.reused,
            hyperparameters: result.dpo.adapter.hyperparameters,
            ...(result.dpo.adapter.evalCurve ? { evalCurve: result.dpo.adapter.evalCurve } : {}),
            metrics: result.dpo.adapter.metrics,
            preferenceDatasetId: result.dpo.preferenceDataset.id,
            pairs: {
              generated: result.dpo.preferences.generated,
              train: result.dpo.preferenceDataset.train.examples,
              heldOut: result.dpo.preferenceDataset.heldOut.examples,
            },
          }
        : null,
      audit: result.audit
        ? {
            report: result.audit.report,
            reportJsonUri: result.audit.reportJsonUri,
            reportMarkdownUri: result.audit.reportMarkdownUri,
            redTeam: result.audit.redTeam,
          }
        : null,
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

/** The synthesis settings of the command line; null when no teacher was asked for. */
export function synthesisSettingsOf(
  args: Pick<AlignArgs, 'teacher' | 'teacherConcurrency' | 'teacherPerClause' | 'teacherMaxClauses'>,
): SynthesisSettingsInput | null {
  if (!args.teacher) return null;
  return {
    concurrency: args.teacherConcurrency,
    maxPerClause: args.teacherPerClause,
    maxClauses: args.teacherMaxClauses,
    seed: ALIGN_DEFAULTS.seed,
  };
}

/**
 * The teacher of synthesis: the endpoint named on the command line (API key from
 * STUDIO_TEACHER_API_KEY), else the locally served base model; undefined without --teacher.
 */
export function teacherOf(
  args: Pick<AlignArgs, 'teacher' | 'teacherUrl' | 'teacherModel' | 'model'>,
  models: () => Promise<ModelEndpoint>,
  judge?: AnswerJudge,
  env: NodeJS.ProcessEnv = process.env,
): (() => Promise<TeacherEndpoint>) | undefined {
  if (!args.teacher) return undefined;
  const graded = judge ? { judge } : {};
  if (args.teacherUrl && args.teacherModel) {
    const apiKey = env['STUDIO_TEACHER_API_KEY'];
    const llm = new OpenAiCompatibleClient({ baseUrl: args.teacherUrl, timeoutMs: 600_000, ...(apiKey ? { apiKey } : {}) });
    const model = args.teacherModel;
    return async () => ({ llm, model, ...graded });
  }
  return async () => ({ llm: (await models()).llm, model: args.model, ...graded });
}

/**
 * The audit's adaptive attacker: the endpoint named on the command line (API key from
 * STUDIO_ATTACKER_API_KEY), else the locally served base model; undefined without --attacker.
 */
export function attackerOf(
  args: Pick<AlignArgs, 'attacker' | 'attackerUrl' | 'attackerModel' | 'model'>,
  models: () => Promise<ModelEndpoint>,
  env: NodeJS.ProcessEnv = process.env,
): (() => Promise<AttackerPort>) | undefined {
  if (!args.attacker) return undefined;
  if (args.attackerUrl && args.attackerModel) {
    const apiKey = env['STUDIO_ATTACKER_API_KEY'];
    const llm = new OpenAiCompatibleClient({ baseUrl: args.attackerUrl, timeoutMs: 600_000, ...(apiKey ? { apiKey } : {}) });
    const port: AttackerPort = { llm, model: args.attackerModel, endpoint: args.attackerUrl };
    return async () => port;
  }
  return async () => ({ llm: (await models()).llm, model: args.model, endpoint: null });
}

/** The optional LLM judge of the audit: any OpenAI-compatible endpoint named on the command line. */
export function judgeOf(args: Pick<AlignArgs, 'judgeUrl' | 'judgeModel'>): {
  judge?: { judge: LlmJudge; model: string };
  attackJudge?: LlmAttackJudge;
} {
  if (!args.judgeUrl || !args.judgeModel) return {};
  const apiKey = process.env['STUDIO_JUDGE_API_KEY'];
  const client = new OpenAiCompatibleClient({ baseUrl: args.judgeUrl, timeoutMs: 120_000, ...(apiKey ? { apiKey } : {}) });
  // The same judge grades the held-out answers and the replies to the red team's attacks.
  return {
    judge: { judge: new LlmJudge(client, { model: args.judgeModel }), model: args.judgeModel },
    attackJudge: new LlmAttackJudge({ llm: client, model: args.judgeModel, seed: 0 }),
  };
}
