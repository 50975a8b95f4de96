import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Get,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import { ContextId, Id, type DatasetReview } from '@studio/contracts';
import { PUBLISHING, Tenant, ZodValidationPipe, type Publishing } from '@studio/nest';
import {
  datasetVersionIn,
  examplesOfDataset,
  ExamplesQuery,
  pageOfExamples,
  PipelineNotFoundError,
  reviewDatasetVersion,
  ReviewError,
  reviewQueue,
  ReviewRequest,
  type AppliedDecision,
  type DatasetVersionRecord,
  type ExamplePage,
} from '@studio/pipeline';
import { tenantId, type Repository } from '@studio/ports';
import { z } from 'zod';
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
  type DocumentsRepository,
  type DocumentVersionsRepository,
} from '../framer.ports';

/** Body of POST …/datasets/{id}/reviews: the decisions, and who made them (the gateway states its authenticated caller). */
export const ReviewBody = z
  .object({
    reviewer: z.string().min(1).max(500),
    review: ReviewRequest,
  })
  .strict();
export type ReviewBody = z.infer<typeof ReviewBody>;

/** What a review made: the new version, its parent, and what each decision did (the gateway's audit log records them). */
export interface ReviewView {
  dataset: DatasetVersionRecord;
  parentDatasetVersionId: string;
  created: boolean;
  review: DatasetReview;
  decisions: AppliedDecision[];
}

const ReviewQueueQuery = ExamplesQuery.pick({ offset: true, limit: true, split: true, kind: true, label: true, clauseId: true }).strict();
type ReviewQueueQuery = z.infer<typeof ReviewQueueQuery>;

/** What the studio reads of a context's dataset versions (the list, their examples, the review queue), and the review itself. */
@Controller('v1/contexts/:contextId/datasets')
export class DatasetBrowserController {
  constructor(
    @Inject(PUBLISHING) private readonly publishing: Publishing,
    @Inject(CONTEXTS_REPOSITORY) private readonly contexts: Repository<ContextSettings>,
    @Inject(DOCUMENTS_REPOSITORY) private readonly documents: DocumentsRepository,
    @Inject(DATASETS_REPOSITORY) private readonly datasets: DatasetsRepository,
    @Inject(CLAUSES_REPOSITORY) private readonly clauses: ClausesRepository,
    @Inject(DOCUMENT_VERSIONS_REPOSITORY) private readonly documentVersions: DocumentVersionsRepository,
    @Inject(ARTIFACTS) private readonly artifacts: Artifacts,
  ) {}

  /** The context's dataset versions, newest first (generated ones, and those a review made, with their parent). */
  @Get()
  async list(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
  ): Promise<{ datasets: DatasetVersionRecord[] }> {
    await assertKnownContext({ contexts: this.contexts, documents: this.documents }, tenant, contextId);
    return { datasets: await this.datasets.find(tenantId(tenant), { contextId }, { sort: { createdAt: -1 }, limit: 1000 }) };
  }

  /** A page of a version's examples in full (clauses, kind, label, values, review), filtered by split, kind, label, clause, review state. */
  @Get(':datasetVersionId/examples')
  async examples(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Param('datasetVersionId', new ZodValidationPipe(Id, 'path parameter datasetVersionId')) datasetVersionId: string,
    @Query(new ZodValidationPipe(ExamplesQuery, 'query')) query: ExamplesQuery,
  ): Promise<ExamplePage> {
    return this.reading(async () => {
      const dataset = await datasetVersionIn(this.datasets, tenantId(tenant), contextId, datasetVersionId);
      return pageOfExamples(dataset.id, await examplesOfDataset(this.artifacts, dataset), query);
    });
  }

  /** The review queue: the version's examples nobody has reviewed yet, a page at a time. */
  @Get(':datasetVersionId/review')
  async pendingReview(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Param('datasetVersionId', new ZodValidationPipe(Id, 'path parameter datasetVersionId')) datasetVersionId: string,
    @Query(new ZodValidationPipe(ReviewQueueQuery, 'query')) query: ReviewQueueQuery,
  ): Promise<ExamplePage> {
    return this.reading(async () => {
      const dataset = await datasetVersionIn(this.datasets, tenantId(tenant), contextId, datasetVersionId);
      return reviewQueue(dataset.id, await examplesOfDataset(this.artifacts, dataset), query);
    });
  }

  /**
   * A review: approve, edit or reject examples. Makes a new immutable, content-hashed dataset
   * version from this one (its parent) and publishes it (`dataset.version.published`): 201, or
   * 200 when the same review had already made it. 400 naming unknown examples or an invalid result.
   */
  @Post(':datasetVersionId/reviews')
  async review(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Param('datasetVersionId', new ZodValidationPipe(Id, 'path parameter datasetVersionId')) datasetVersionId: string,
    @Body(new ZodValidationPipe(ReviewBody)) body: ReviewBody,
    @Res({ passthrough: true }) res: { status(code: number): unknown },
  ): Promise<ReviewView> {
    try {
      const result = await reviewDatasetVersion(
        {
          ...this.publishing,
          repos: { datasets: this.datasets, clauses: this.clauses, documentVersions: this.documentVersions },
          artifacts: this.artifacts,
        },
        { tenant: tenantId(tenant), contextId, datasetVersionId, reviewer: body.reviewer, decisions: body.review.decisions },
      );
      res.status(result.created ? 201 : 200);
      return {
        dataset: result.dataset,
        parentDatasetVersionId: result.parent.id,
        created: result.created,
        review: result.review,
        decisions: result.decisions,
      };
    } catch (error) {
      if (error instanceof PipelineNotFoundError) throw new NotFoundException(error.message);
      if (error instanceof ReviewError) throw new BadRequestException(`cannot apply this review: ${error.message}`);
      throw error;
    }
  }

  private async reading<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (error instanceof PipelineNotFoundError) throw new NotFoundException(error.message);
      // A version made before examples were kept in full has none to page through.
      if (error instanceof ReviewError) throw new ConflictException(error.message);
      throw error;
    }
  }
}
