import { BadRequestException, Body, ConflictException, Controller, Get, Inject, NotFoundException, Param, Post, Res } from '@nestjs/common';
import { ContextId, GENERATE_DATASET_JOB, Id, type GenerationJobV1 } from '@studio/contracts';
import { DocumentValidationError, SeedImportError } from '@studio/framing';
import { PUBLISHING, Tenant, ZodValidationPipe, type Publishing } from '@studio/nest';
import type { ConceptCoverage } from '@studio/ontology';
import {
  conceptCoverageKeys,
  dataReportKeys,
  generateDatasetVersion,
  PipelineNotFoundError,
  type DataReport,
  type DatasetVersionRecord,
} from '@studio/pipeline';
import { tenantId, tenantKey, type JobQueue, type JobState, type Repository } from '@studio/ports';
import { z } from 'zod';
import { CONTEXTS_REPOSITORY, type ContextSettings } from '../contexts/context-settings';
import {
  ARTIFACTS,
  DATASETS_REPOSITORY,
  DOCUMENTS_REPOSITORY,
  type Artifacts,
  type DatasetsRepository,
  type DocumentsRepository,
} from '../framer.ports';
import { GENERATION_QUEUE_PORT, generationJobId, isGenerationJobOf, TEACHER_FACTORY, type TeacherFactory } from './generation';

/** Teacher synthesis of a dataset version: the model (default: the framer's TEACHER_MODEL) and its bounds. */
export const TeacherBody = z
  .object({
    model: z.string().min(1).max(500).optional(),
    concurrency: z.number().int().min(1).max(256).default(4),
    maxPerClause: z.number().int().min(1).max(1_000).default(8),
    maxClauses: z.number().int().min(1).nullable().default(null),
  })
  .strict();

export const GenerateDatasetBody = z
  .object({
    documentId: Id.optional(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(42),
    heldOutRatio: z.number().min(0.05).max(0.5).default(0.1),
    full: z.boolean().default(false),
    /** With a teacher, the version is generated on the `generation` queue: 202 with the job to follow. */
    teacher: TeacherBody.optional(),
  })
  .strict();
export type GenerateDatasetBody = z.infer<typeof GenerateDatasetBody>;

export const DEFAULT_TEACHER_MODEL = Symbol('DEFAULT_TEACHER_MODEL');

export interface GenerationJobView {
  jobId: string;
  state: JobState;
  progress: unknown;
  result: unknown;
  failedReason: string | null;
  statusPath: string;
}

@Controller('v1/contexts/:contextId/datasets')
export class DatasetsController {
  constructor(
    @Inject(PUBLISHING) private readonly publishing: Publishing,
    @Inject(CONTEXTS_REPOSITORY) private readonly contexts: Repository<ContextSettings>,
    @Inject(DOCUMENTS_REPOSITORY) private readonly documents: DocumentsRepository,
    @Inject(DATASETS_REPOSITORY) private readonly datasets: DatasetsRepository,
    @Inject(ARTIFACTS) private readonly artifacts: Artifacts,
    @Inject(GENERATION_QUEUE_PORT) private readonly queue: JobQueue,
    @Inject(TEACHER_FACTORY) private readonly teachers: TeacherFactory,
    @Inject(DEFAULT_TEACHER_MODEL) private readonly defaultTeacherModel: string,
  ) {}

  /**
   * Generates a dataset version with the pipeline's use case, from the current versions of the
   * context's documents and its values and seeds, incrementally after a previous version with
   * the same settings (`incremental` counts kept / regenerated / dropped; `full: true` regenerates
   * everything): 201 for a new version, 200 when the same version already existed. With a teacher,
   * the version is queued on the `generation` queue instead: 202 with the job (the same request
   * queues one job), followed at GET …/datasets/jobs/{jobId}.
   */
  @Post()
  async create(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Body(new ZodValidationPipe(GenerateDatasetBody)) body: GenerateDatasetBody,
    @Res({ passthrough: true }) res: { status(code: number): unknown },
  ): Promise<DatasetVersionRecord | GenerationJobView> {
    const context = await this.contexts.get(tenantId(tenant), contextId);
    if (!context) throw new NotFoundException(`context "${contextId}" not found: create it with POST /v1/contexts`);
    if (body.teacher) {
      if (!this.teachers)
        throw new ConflictException('this framer has no teacher endpoint: set TEACHER_BASE_URL to generate with a teacher');
      const job: GenerationJobV1 = {
        schema_version: 'v1',
        tenant_id: tenant,
        context_id: contextId,
        document_id: body.documentId ?? null,
        seed: body.seed,
        held_out_ratio: body.heldOutRatio,
        teacher: {
          model: body.teacher.model ?? this.defaultTeacherModel,
          concurrency: body.teacher.concurrency,
          max_per_clause: body.teacher.maxPerClause,
          max_clauses: body.teacher.maxClauses,
        },
      };
      const { jobId } = await this.queue.enqueue(GENERATE_DATASET_JOB, job, { jobId: generationJobId(job), attempts: 3, backoffMs: 5_000 });
      res.status(202);
      return this.jobView(tenant, contextId, jobId);
    }
    try {
      const { dataset, created } = await generateDatasetVersion(
        {
          ...this.publishing,
          repos: { documents: this.documents, datasets: this.datasets },
          artifacts: this.artifacts,
        },
        { tenant: tenantId(tenant), contextId, values: context.values, seedsJsonl: context.seeds, ...body },
      );
      res.status(created ? 201 : 200);
      return dataset;
    } catch (err) {
      if (err instanceof PipelineNotFoundError) throw new NotFoundException(err.message);
      if (err instanceof SeedImportError || err instanceof DocumentValidationError)
        throw new BadRequestException(`cannot generate a dataset: ${err.message}`);
      throw err;
    }
  }

  /** A queued dataset version: its job's state, progress (requests done, ETA) and, once done, the version it made. */
  @Get('jobs/:jobId')
  async job(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Param('jobId', new ZodValidationPipe(Id, 'path parameter jobId')) jobId: string,
  ): Promise<GenerationJobView> {
    return this.jobView(tenant, contextId, jobId);
  }

  /** The data report of a dataset version (JSON): what it holds, what was dropped and why, twenty examples. */
  @Get(':datasetVersionId/report')
  async report(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Param('datasetVersionId', new ZodValidationPipe(Id, 'path parameter datasetVersionId')) datasetVersionId: string,
  ): Promise<DataReport> {
    const dataset = await this.datasets.get(tenantId(tenant), datasetVersionId);
    const path = this.artifacts.localPath(tenantKey(tenant, dataReportKeys(datasetVersionId).json));
    if (!dataset || dataset.contextId !== contextId || !(await this.artifacts.exists(path)))
      throw new NotFoundException(`no data report of dataset version "${datasetVersionId}" in context "${contextId}"`);
    return JSON.parse(await this.artifacts.read(path)) as DataReport;
  }

  /**
   * The concept coverage of a dataset version: the share of the documents' concepts and of their governed
   * (concept, statement kind) pairs that its examples exercise, what is left uncovered, and the examples per concept.
   */
  @Get(':datasetVersionId/coverage')
  async coverage(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Param('datasetVersionId', new ZodValidationPipe(Id, 'path parameter datasetVersionId')) datasetVersionId: string,
  ): Promise<ConceptCoverage> {
    const dataset = await this.datasets.get(tenantId(tenant), datasetVersionId);
    if (!dataset || dataset.contextId !== contextId)
      throw new NotFoundException(`dataset version "${datasetVersionId}" not found in context "${contextId}"`);
    const path = this.artifacts.localPath(tenantKey(tenant, conceptCoverageKeys(datasetVersionId).coverage));
    if (!(await this.artifacts.exists(path)))
      throw new NotFoundException(
        `dataset version "${datasetVersionId}" has no concept coverage (made before coverage was measured, or its documents name no concept): generate a new version`,
      );
    return JSON.parse(await this.artifacts.read(path)) as ConceptCoverage;
  }

  private async jobView(tenant: string, contextId: string, jobId: string): Promise<GenerationJobView> {
    // Job ids carry a tag of their tenant and context: another tenant's job is not shown.
    const status = isGenerationJobOf(jobId, tenant, contextId) ? await this.queue.status(GENERATE_DATASET_JOB, jobId) : null;
    if (!status) throw new NotFoundException(`generation job "${jobId}" not found in context "${contextId}"`);
    return {
      jobId,
      state: status.state,
      progress: status.progress,
      result: status.result,
      failedReason: status.failedReason,
      statusPath: `/v1/contexts/${contextId}/datasets/jobs/${jobId}`,
    };
  }

  @Get(':datasetVersionId')
  async get(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Param('datasetVersionId', new ZodValidationPipe(Id, 'path parameter datasetVersionId')) datasetVersionId: string,
  ): Promise<DatasetVersionRecord> {
    const dataset = await this.datasets.get(tenantId(tenant), datasetVersionId);
    if (!dataset || dataset.contextId !== contextId)
      throw new NotFoundException(`dataset version "${datasetVersionId}" not found in context "${contextId}"`);
    return dataset;
  }
}
