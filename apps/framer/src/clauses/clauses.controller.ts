import { BadRequestException, Controller, Get, Inject, NotFoundException, Param, Query } from '@nestjs/common';
import { ContextId, Id } from '@studio/contracts';
import { Tenant, ZodValidationPipe } from '@studio/nest';
import { browseClauses, clausesOfDataset, PipelineNotFoundError, type ClauseRecord, type ClauseView } from '@studio/pipeline';
import { z } from 'zod';
import { tenantId, type Repository } from '@studio/ports';
import { CONTEXTS_REPOSITORY, type ContextSettings } from '../contexts/context-settings';
import { assertKnownContext } from '../contexts/known-context';
import {
  ARTIFACTS,
  CLAUSES_REPOSITORY,
  DATASETS_REPOSITORY,
  DOCUMENT_VERSIONS_REPOSITORY,
  DOCUMENTS_REPOSITORY,
  type Artifacts,
  type ClausesRepository,
  type DatasetsRepository,
  type DocumentVersionsRepository,
  type DocumentsRepository,
} from '../framer.ports';

const Search = z.string().max(500, 'must be at most 500 characters').optional();
const Flag = z.enum(['true', 'false']).optional();

@Controller('v1/contexts/:contextId/clauses')
export class ClausesController {
  constructor(
    @Inject(CLAUSES_REPOSITORY) private readonly clauses: ClausesRepository,
    @Inject(DATASETS_REPOSITORY) private readonly datasets: DatasetsRepository,
    @Inject(DOCUMENT_VERSIONS_REPOSITORY) private readonly documentVersions: DocumentVersionsRepository,
    @Inject(DOCUMENTS_REPOSITORY) private readonly documents: DocumentsRepository,
    @Inject(ARTIFACTS) private readonly artifacts: Artifacts,
    @Inject(CONTEXTS_REPOSITORY) private readonly contexts: Repository<ContextSettings>,
  ) {}

  /**
   * The context's current clauses (those of its documents' current versions), or one document's
   * (`?documentId=`), in document order; or the clauses a dataset version was generated from
   * (`?datasetVersionId=`), which later versions of its documents may have replaced.
   * `?annotate=true` (the studio's clause browser) adds each current clause's citation, run-in
   * heading, kind, parent clause and normative statements with their kinds; `?q=` keeps the
   * clauses that match every term of the search (and annotates them).
   */
  @Get()
  async list(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Query('documentId', new ZodValidationPipe(Id.optional(), 'query parameter documentId')) documentId: string | undefined,
    @Query('datasetVersionId', new ZodValidationPipe(Id.optional(), 'query parameter datasetVersionId'))
    datasetVersionId: string | undefined,
    @Query('q', new ZodValidationPipe(Search, 'query parameter q')) q: string | undefined,
    @Query('annotate', new ZodValidationPipe(Flag, 'query parameter annotate')) annotate: 'true' | 'false' | undefined,
  ): Promise<{ clauses: ClauseRecord[] } | { clauses: ClauseView[]; total: number }> {
    if (datasetVersionId) {
      if (documentId) throw new BadRequestException('query parameters documentId and datasetVersionId do not go together');
      if (q !== undefined || annotate === 'true')
        throw new BadRequestException('query parameters q and annotate are for current clauses, not with datasetVersionId');
      try {
        const repos = { clauses: this.clauses, datasets: this.datasets, documentVersions: this.documentVersions };
        return { clauses: await clausesOfDataset({ repos, artifacts: this.artifacts }, tenantId(tenant), contextId, datasetVersionId) };
      } catch (error) {
        if (error instanceof PipelineNotFoundError) throw new NotFoundException(error.message);
        throw error;
      }
    }
    if (annotate === 'true' || q !== undefined) {
      await assertKnownContext({ contexts: this.contexts, documents: this.documents }, tenant, contextId);
      const ports = { repos: { clauses: this.clauses, documents: this.documents }, artifacts: this.artifacts };
      return browseClauses(ports, tenantId(tenant), contextId, { documentId, q });
    }
    const found = await this.clauses.find(tenantId(tenant), documentId ? { contextId, documentId } : { contextId }, {
      sort: { documentId: 1, position: 1 },
      limit: 20_000,
    });
    return { clauses: found };
  }
}
