import { BadRequestException, Controller, Get, Inject, NotFoundException, Param, Query } from '@nestjs/common';
import { ContextId, Id } from '@studio/contracts';
import { Tenant, ZodValidationPipe } from '@studio/nest';
import { clausesOfDataset, PipelineNotFoundError, type ClauseRecord } from '@studio/pipeline';
import { tenantId } from '@studio/ports';
import {
  ARTIFACTS,
  CLAUSES_REPOSITORY,
  DATASETS_REPOSITORY,
  DOCUMENT_VERSIONS_REPOSITORY,
  type Artifacts,
  type ClausesRepository,
  type DatasetsRepository,
  type DocumentVersionsRepository,
} from '../framer.ports';

@Controller('v1/contexts/:contextId/clauses')
export class ClausesController {
  constructor(
    @Inject(CLAUSES_REPOSITORY) private readonly clauses: ClausesRepository,
    @Inject(DATASETS_REPOSITORY) private readonly datasets: DatasetsRepository,
    @Inject(DOCUMENT_VERSIONS_REPOSITORY) private readonly documentVersions: DocumentVersionsRepository,
    @Inject(ARTIFACTS) private readonly artifacts: Artifacts,
  ) {}

  /**
   * The context's current clauses (those of its documents' current versions), or one document's
   * (`?documentId=`), in document order; or the clauses a dataset version was generated from
   * (`?datasetVersionId=`), which later versions of its documents may have replaced.
   */
  @Get()
  async list(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Query('documentId', new ZodValidationPipe(Id.optional(), 'query parameter documentId')) documentId: string | undefined,
    @Query('datasetVersionId', new ZodValidationPipe(Id.optional(), 'query parameter datasetVersionId'))
    datasetVersionId: string | undefined,
  ): Promise<{ clauses: ClauseRecord[] }> {
    if (datasetVersionId) {
      if (documentId) throw new BadRequestException('query parameters documentId and datasetVersionId do not go together');
      try {
        const repos = { clauses: this.clauses, datasets: this.datasets, documentVersions: this.documentVersions };
        return { clauses: await clausesOfDataset({ repos, artifacts: this.artifacts }, tenantId(tenant), contextId, datasetVersionId) };
      } catch (error) {
        if (error instanceof PipelineNotFoundError) throw new NotFoundException(error.message);
        throw error;
      }
    }
    const found = await this.clauses.find(tenantId(tenant), documentId ? { contextId, documentId } : { contextId }, {
      sort: { documentId: 1, position: 1 },
      limit: 20_000,
    });
    return { clauses: found };
  }
}
