import { BadRequestException, Body, Controller, Get, Inject, NotFoundException, Param, Post, Res } from '@nestjs/common';
import { ContextId, Id } from '@studio/contracts';
import { DocumentValidationError, SeedImportError } from '@studio/framing';
import { PUBLISHING, Tenant, ZodValidationPipe, type Publishing } from '@studio/nest';
import { generateDatasetVersion, PipelineNotFoundError, type DatasetVersionRecord } from '@studio/pipeline';
import { tenantId, type Repository } from '@studio/ports';
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
  })
  .strict();
export type GenerateDatasetBody = z.infer<typeof GenerateDatasetBody>;

@Controller('v1/contexts/:contextId/datasets')
export class DatasetsController {
  constructor(
    @Inject(PUBLISHING) private readonly publishing: Publishing,
    @Inject(CONTEXTS_REPOSITORY) private readonly contexts: Repository<ContextSettings>,
    @Inject(DOCUMENTS_REPOSITORY) private readonly documents: DocumentsRepository,
    @Inject(DATASETS_REPOSITORY) private readonly datasets: DatasetsRepository,
    @Inject(ARTIFACTS) private readonly artifacts: Artifacts,
  ) {}

  /**
   * Generates a dataset version with the pipeline's use case, from the current versions of the
   * context's documents and its values and seeds, incrementally after a previous version with
   * the same settings (`incremental` counts kept / regenerated / dropped; `full: true` regenerates
   * everything): 201 for a new version, 200 when the same version already existed.
   */
  @Post()
  async create(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Body(new ZodValidationPipe(GenerateDatasetBody)) body: GenerateDatasetBody,
    @Res({ passthrough: true }) res: { status(code: number): unknown },
  ): Promise<DatasetVersionRecord> {
    const context = await this.contexts.get(tenantId(tenant), contextId);
    if (!context) throw new NotFoundException(`context "${contextId}" not found: create it with POST /v1/contexts`);
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
