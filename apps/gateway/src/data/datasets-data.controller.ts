import { BadGatewayException, Body, Controller, Get, Inject, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { ContextId, DATASET_VERSION_PUBLISHED_V1, Id } from '@studio/contracts';
import { ZodValidationPipe } from '@studio/nest';
import { AuditLog } from '../auth/audit-log';
import { Caller, CallerTenant, Requires, type Principal } from '../auth/principal';
import { send } from '../runs/runs.controller';
import { openApi } from '../upstream/api-schemas';
import { ServiceClient, type HttpResponse } from '../upstream/service-client';
import { queryOf } from './data.controller';
import {
  DATASET_REVIEWED,
  ExamplesQuery,
  REVIEW_ACTIONS,
  ReviewAnswer,
  ReviewQueueQuery,
  ReviewRequest,
  type ExamplesQueryParams,
  type ReviewQueueQueryParams,
} from './data-api-schemas';

const path = (...parts: string[]) => `/v1/contexts/${parts.map(encodeURIComponent).join('/')}`;
const contextIdPipe = () => new ZodValidationPipe(ContextId, 'path parameter contextId');
const versionPipe = () => new ZodValidationPipe(Id, 'path parameter datasetVersionId');

/** A context's dataset versions, their examples and the review queue (the framer owns them); reviews are recorded in the audit log. */
@ApiTags('datasets')
@Controller('v1/contexts/:contextId/datasets')
export class DatasetDataController {
  constructor(
    @Inject(ServiceClient) private readonly upstream: ServiceClient,
    @Inject(AuditLog) private readonly auditLog: AuditLog,
  ) {}

  @Get()
  @Requires('studio:read')
  @ApiOperation({
    summary: "The context's dataset versions",
    description:
      'Newest first: `{ datasets: [{ id, contextId, sha256, documentId, documents, systemPrompt, train: { uri, sha256, examples }, heldOut, examplesByKind, clauseCoverage, createdAt, settingsSha256, incremental, review, conceptCoverage }] }`; `review` is null for a generated version and `{ parentDatasetVersionId, reviewedBy, approved, edited, rejected, unreviewed }` for one a review made; `conceptCoverage` is `{ concepts: { covered, total, share }, pairs, uncoveredConcepts, uncoveredPairs }` (null for a version made before it was measured).',
  })
  @ApiParam({ name: 'contextId' })
  @ApiOkResponse({ description: 'The dataset versions' })
  @ApiNotFoundResponse({ description: 'No such context for this tenant' })
  async list(
    @CallerTenant() tenant: string,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return send(res, await this.upstream.forward('framer', { method: 'GET', path: path(contextId, 'datasets'), tenant }));
  }

  @Get(':datasetVersionId')
  @Requires('studio:read')
  @ApiOperation({
    summary: 'A dataset version',
    description: 'As in the list: splits, counts by kind, clause coverage, its parent review.',
  })
  @ApiParam({ name: 'contextId' })
  @ApiParam({ name: 'datasetVersionId' })
  @ApiOkResponse({ description: 'The dataset version' })
  @ApiNotFoundResponse({ description: 'No such dataset version in this context for this tenant' })
  async get(
    @CallerTenant() tenant: string,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Param('datasetVersionId', versionPipe()) datasetVersionId: string,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return send(res, await this.upstream.forward('framer', { method: 'GET', path: path(contextId, 'datasets', datasetVersionId), tenant }));
  }

  @Get(':datasetVersionId/examples')
  @Requires('studio:read')
  @ApiOperation({
    summary: "A page of a dataset version's examples",
    description:
      'Train first, then held-out, each in id order, filtered by `split` (train, heldOut), `kind` (qa, scenario), `label` (compliant, violating, ambiguous), `clauseId`, `review` (unreviewed, approved, edited); `offset` (default 0), `limit` (1-500, default 50). `{ datasetVersionId, total, offset, limit, examples: [{ id, split, kind, source, question, answer, rejected, label, clauseIds, clauseRefs, statementKind, values, review?: { status (approved, edited), by, originalId } }] }`.',
  })
  @ApiParam({ name: 'contextId' })
  @ApiParam({ name: 'datasetVersionId' })
  @ApiQuery({ name: 'split', required: false, enum: ['train', 'heldOut'] })
  @ApiQuery({ name: 'kind', required: false, enum: ['qa', 'scenario'] })
  @ApiQuery({ name: 'label', required: false, enum: ['compliant', 'violating', 'ambiguous'] })
  @ApiQuery({ name: 'clauseId', required: false })
  @ApiQuery({ name: 'review', required: false, enum: ['unreviewed', 'approved', 'edited'] })
  @ApiQuery({ name: 'offset', required: false, type: Number })
  @ApiQuery({ name: 'limit', required: false, type: Number })
  @ApiOkResponse({ description: 'The page' })
  @ApiNotFoundResponse({ description: 'No such dataset version in this context for this tenant' })
  @ApiConflictResponse({ description: 'The version was made before examples were kept in full: generate it again' })
  async examples(
    @CallerTenant() tenant: string,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Param('datasetVersionId', versionPipe()) datasetVersionId: string,
    @Query(new ZodValidationPipe(ExamplesQuery, 'query')) query: ExamplesQueryParams,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return send(
      res,
      await this.upstream.forward('framer', {
        method: 'GET',
        path: path(contextId, 'datasets', datasetVersionId, 'examples'),
        tenant,
        query: queryOf(query),
      }),
    );
  }

  @Get(':datasetVersionId/review')
  @Requires('studio:read')
  @ApiOperation({
    summary: 'The review queue of a dataset version',
    description:
      'Its examples that nobody has reviewed yet, as a page of examples (same shape and filters as …/examples, without `review`). Reviewing them (POST …/reviews) makes a new version, whose queue holds the examples still unreviewed.',
  })
  @ApiParam({ name: 'contextId' })
  @ApiParam({ name: 'datasetVersionId' })
  @ApiQuery({ name: 'split', required: false, enum: ['train', 'heldOut'] })
  @ApiQuery({ name: 'kind', required: false, enum: ['qa', 'scenario'] })
  @ApiQuery({ name: 'label', required: false, enum: ['compliant', 'violating', 'ambiguous'] })
  @ApiQuery({ name: 'clauseId', required: false })
  @ApiQuery({ name: 'offset', required: false, type: Number })
  @ApiQuery({ name: 'limit', required: false, type: Number })
  @ApiOkResponse({ description: 'The page of the queue' })
  @ApiNotFoundResponse({ description: 'No such dataset version in this context for this tenant' })
  async reviewQueue(
    @CallerTenant() tenant: string,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Param('datasetVersionId', versionPipe()) datasetVersionId: string,
    @Query(new ZodValidationPipe(ReviewQueueQuery, 'query')) query: ReviewQueueQueryParams,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return send(
      res,
      await this.upstream.forward('framer', {
        method: 'GET',
        path: path(contextId, 'datasets', datasetVersionId, 'review'),
        tenant,
        query: queryOf(query),
      }),
    );
  }

  @Post(':datasetVersionId/reviews')
  @Requires('datasets:curate')
  @ApiOperation({
    summary: 'Review examples: approve, edit or reject',
    description: `Makes a NEW immutable, content-hashed dataset version from this one (its parent, recorded in \`review.parentDatasetVersionId\`): rejected examples are left out, an edited example replaces the original in its split with the same clauses (a new id; \`review: { status: "edited", by, originalId }\`), approved ones are marked approved. Published as \`${DATASET_VERSION_PUBLISHED_V1}\`, so a run can train on it. Each decision is recorded in the audit log (\`${REVIEW_ACTIONS.approve}\`, \`${REVIEW_ACTIONS.edit}\`, \`${REVIEW_ACTIONS.reject}\`, and \`${DATASET_REVIEWED}\`). Answer: \`{ dataset, parentDatasetVersionId, created, review: { parentDatasetVersionId, reviewedBy, approved, edited, rejected, unreviewed }, decisions: [{ exampleId, action, split, before: { id, question, answer }, after: { id, question, answer, review } | null }] }\`.`,
  })
  @ApiParam({ name: 'contextId' })
  @ApiParam({ name: 'datasetVersionId' })
  @ApiBody({ schema: openApi(ReviewRequest) })
  @ApiCreatedResponse({ description: 'The new dataset version' })
  @ApiOkResponse({ description: 'The same review had already made this version' })
  @ApiBadRequestResponse({ description: 'Invalid decisions (named), unknown examples, or a result that is not a valid dataset version' })
  @ApiForbiddenResponse({ description: 'The caller may not curate datasets' })
  @ApiNotFoundResponse({ description: 'No such dataset version in this context for this tenant' })
  async review(
    @Caller() caller: Principal,
    @CallerTenant() tenant: string,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Param('datasetVersionId', versionPipe()) datasetVersionId: string,
    @Body(new ZodValidationPipe(ReviewRequest)) body: ReviewRequest,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    const answer = await this.upstream.forward('framer', {
      method: 'POST',
      path: path(contextId, 'datasets', datasetVersionId, 'reviews'),
      tenant,
      body: { reviewer: caller.subject, review: body },
      timeoutMs: 120_000,
    });
    const parsed = ReviewAnswer.safeParse(answer.body);
    if (!parsed.success)
      throw new BadGatewayException({
        message: `the framer's answer to a review is not in the expected shape: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        service: 'framer',
      });
    const made = parsed.data;
    for (const d of made.decisions) {
      await this.auditLog.record({
        actor: caller,
        action: REVIEW_ACTIONS[d.action],
        target: `example:${d.exampleId}`,
        before: { contextId, datasetVersionId: made.parentDatasetVersionId, split: d.split, example: d.before },
        after: { contextId, datasetVersionId: made.dataset.id, split: d.split, example: d.after },
      });
    }
    await this.auditLog.record({
      actor: caller,
      action: DATASET_REVIEWED,
      target: `dataset:${made.dataset.id}`,
      before: { contextId, datasetVersionId: made.parentDatasetVersionId },
      after: { contextId, datasetVersionId: made.dataset.id, sha256: made.dataset.sha256, review: made.review, created: made.created },
    });
    return send(res, answer);
  }
}
