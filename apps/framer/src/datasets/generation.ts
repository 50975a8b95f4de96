import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { describeError, GENERATE_DATASET_JOB, type GenerationJobV1 } from '@studio/contracts';
import { canonicalJson } from '@studio/framing';
import { JOB_PLATFORM, PUBLISHING, type JobPlatform, type Publishing } from '@studio/nest';
import { generateDatasetVersion, type TeacherEndpoint } from '@studio/pipeline';
import { tenantId, type JobContext, type JobWorker, type Repository } from '@studio/ports';
import { CONTEXTS_REPOSITORY, type ContextSettings } from '../contexts/context-settings';
import {
  ARTIFACTS,
  DATASETS_REPOSITORY,
  DOCUMENTS_REPOSITORY,
  type Artifacts,
  type DatasetsRepository,
  type DocumentsRepository,
} from '../framer.ports';

/** The teacher endpoint for a model name (the framer's TEACHER_BASE_URL), or null when none is configured. */
export const TEACHER_FACTORY = Symbol('TEACHER_FACTORY');
export type TeacherFactory = ((model: string) => TeacherEndpoint) | null;
export const GENERATION_QUEUE_PORT = Symbol('GENERATION_QUEUE_PORT');

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const ownerTag = (tenant: string, contextId: string): string => sha256(`${tenant}\n${contextId}`).slice(0, 12);

/**
 * The job id of a request: the same request (tenant, context, document, seed, split, teacher)
 * queues one job. It starts with a tag of its tenant and context, so a job is only shown to them.
 */
export function generationJobId(job: GenerationJobV1): string {
  return `gen-${ownerTag(job.tenant_id, job.context_id)}-${sha256(canonicalJson(job)).slice(0, 24)}`;
}

export function isGenerationJobOf(jobId: string, tenant: string, contextId: string): boolean {
  return jobId.startsWith(`gen-${ownerTag(tenant, contextId)}-`);
}

/** What a finished `generate-dataset` job returns (its BullMQ result). */
export interface GenerationJobResult {
  tenant_id: string;
  context_id: string;
  dataset_version_id: string;
  created: boolean;
  synthesis: { teacher_model: string; requests: number; resumed: number; failed: number; generated: number; kept: number };
  data_report_uri: string;
}

/**
 * The `generate-dataset` job: the pipeline's dataset version with teacher synthesis, the context's
 * values and seeds read when the job runs. Progress (requests done of planned, ETA) is reported on
 * the job; the synthesis checkpoint lies in the artifact store, so a retried or redelivered job
 * resumes where the last attempt stopped instead of asking the teacher again.
 */
@Injectable()
export class RunGeneration {
  private readonly logger = new Logger(RunGeneration.name);

  constructor(
    @Inject(PUBLISHING) private readonly publishing: Publishing,
    @Inject(CONTEXTS_REPOSITORY) private readonly contexts: Repository<ContextSettings>,
    @Inject(DOCUMENTS_REPOSITORY) private readonly documents: DocumentsRepository,
    @Inject(DATASETS_REPOSITORY) private readonly datasets: DatasetsRepository,
    @Inject(ARTIFACTS) private readonly artifacts: Artifacts,
    @Inject(TEACHER_FACTORY) private readonly teachers: TeacherFactory,
  ) {}

  async execute(job: GenerationJobV1, context: Pick<JobContext, 'reportProgress' | 'signal' | 'attempt'>): Promise<GenerationJobResult> {
    if (!this.teachers) throw new Error('no teacher endpoint is configured: set TEACHER_BASE_URL');
    const tenant = tenantId(job.tenant_id);
    const settings = await this.contexts.get(tenant, job.context_id);
    if (!settings) throw new Error(`context "${job.context_id}" not found`);
    const ids = { tenant_id: job.tenant_id, context_id: job.context_id };
    let reported = 0;
    const result = await generateDatasetVersion(
      { ...this.publishing, repos: { documents: this.documents, datasets: this.datasets }, artifacts: this.artifacts },
      {
        tenant,
        contextId: job.context_id,
        documentId: job.document_id ?? undefined,
        values: settings.values,
        seedsJsonl: settings.seeds,
        seed: job.seed,
        heldOutRatio: job.held_out_ratio,
        synthesis: {
          teacher: this.teachers(job.teacher.model),
          settings: {
            concurrency: job.teacher.concurrency,
            maxPerClause: job.teacher.max_per_clause,
            maxClauses: job.teacher.max_clauses,
            seed: job.seed,
          },
          progress: (p) => {
            // At most one progress write a second (and the last one), not one per request.
            if (p.done < p.total && Date.now() - reported < 1_000) return;
            reported = Date.now();
            void context
              .reportProgress({ ...ids, done: p.done, total: p.total, eta_ms: p.etaMs ?? null })
              .catch((error: unknown) => this.logger.warn({ msg: 'could not report progress', error: describeError(error) }));
          },
          signal: context.signal,
        },
      },
    );
    const s = result.synthesis;
    if (!s) throw new Error('the dataset version was generated without its synthesis report');
    this.logger.log({
      msg: 'dataset version generated with a teacher',
      tenantId: tenant,
      contextId: job.context_id,
      datasetVersionId: result.dataset.id,
      teacher: s.teacherModel,
      generated: s.generated,
      kept: s.kept,
      dropped: s.droppedByReason,
      attempt: context.attempt,
    });
    return {
      ...ids,
      dataset_version_id: result.dataset.id,
      created: result.created,
      synthesis: {
        teacher_model: s.teacherModel,
        requests: s.requests,
        resumed: s.resumed,
        failed: s.failed,
        generated: s.generated,
        kept: s.kept,
      },
      data_report_uri: result.report.jsonUri,
    };
  }
}

/** Consumes the `generation` queue's `generate-dataset` jobs while the service runs (one at a time: the teacher is the bottleneck). */
@Injectable()
export class GenerationJobs implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(GenerationJobs.name);
  private readonly worker: JobWorker;

  constructor(@Inject(JOB_PLATFORM) jobs: JobPlatform, run: RunGeneration) {
    this.worker = jobs.worker({
      jobs: [GENERATE_DATASET_JOB],
      concurrency: 1,
      shutdownGraceMs: 5_000,
      logger: {
        info: (message, fields) => this.logger.log({ msg: message, ...fields }),
        warn: (message, fields) => this.logger.warn({ msg: message, ...fields }),
        error: (message, fields) => this.logger.error({ msg: message, ...fields }),
      },
    });
    this.worker.handle(GENERATE_DATASET_JOB, (job, context) => run.execute(job, context));
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.worker.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.worker.stop();
  }
}
