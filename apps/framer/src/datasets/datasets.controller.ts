import { BadRequestException, Body, Controller, Get, Inject, NotFoundException, Param, Post, Res } from '@nestjs/common';
import { ContextId, Id } from '@studio/contracts';
import { DocumentValidationError, SeedImportError } from '@studio/framing';
import { Tenant, ZodValidationPipe } from '@studio/nest';
import type { DatasetVersionRecord } from '@studio/pipeline';
import { tenantId, type Repository } from '@studio/ports';
import { z } from 'zod';
import { DATASETS_REPOSITORY, GenerateDatasetVersion, NotFoundError } from './generate-dataset-version';

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
  })
  .strict();
export type GenerateDatasetBody = z.infer<typeof GenerateDatasetBody>;

@Controller('v1/contexts/:contextId/datasets')
export class DatasetsController {
  constructor(
    private readonly generate: GenerateDatasetVersion,
    @Inject(DATASETS_REPOSITORY) private readonly datasets: Repository<DatasetVersionRecord>,
  ) {}

  /** 201 for a new dataset version, 200 when the same version already existed. */
  @Post()
  async create(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Body(new ZodValidationPipe(GenerateDatasetBody)) body: GenerateDatasetBody,
    @Res({ passthrough: true }) res: { status(code: number): unknown },
  ): Promise<DatasetVersionRecord> {
    try {
      const { dataset, created } = await this.generate.execute({ tenant: tenantId(tenant), contextId, ...body });
      res.status(created ? 201 : 200);
      return dataset;
    } catch (err) {
      if (err instanceof NotFoundError) throw new NotFoundException(err.message);
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
