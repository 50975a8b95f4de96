import { Body, Controller, Get, Inject, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiQuery,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { ContextId, Id, PREFERENCE_DATASET_PUBLISHED_V1 } from '@studio/contracts';
import { ZodValidationPipe } from '@studio/nest';
import { AuditLog } from '../auth/audit-log';
import { Caller, CallerTenant, Requires, type Principal } from '../auth/principal';
import { queryOf } from '../data/data.controller';
import { ProblemDetails } from '../http/problem-details';
import { send } from '../runs/runs.controller';
import { openApi } from '../upstream/api-schemas';
import { ServiceClient, type HttpResponse, type UpstreamResponse } from '../upstream/service-client';
import {
  PreferencesQuery,
  PublishPreferenceDatasetRequest,
  ResolutionsQuery,
  type PreferencesQueryParams,
  type ResolutionsQueryParams,
} from './feedback-schemas';

const contextIdPipe = () => new ZodValidationPipe(ContextId, 'path parameter contextId');
const path = (...parts: string[]) => `/v1/contexts/${parts.map(encodeURIComponent).join('/')}`;

/** Audit-log action of a published preference dataset version. */
export const PREFERENCE_DATASET_PUBLISHED = 'preference-dataset.published';

const PREFERENCE_SHAPE =
  '`{ id, contextId, prompt, systemPrompt, retrievedClauseIds, clauseIds, chosen, rejected, source (human, synthetic, model, red-team), rejectedKind, values, annotator, explanation, edited, origin: { datasetVersionId, exampleId, auditId, runId }, createdAt, weight }`';
const DATASET_SHAPE =
  '`{ id, contextId, sha256, previousId, preferenceIds, newPreferenceIds, pairs: [{ preferenceId, weight, components: { priority, agreement, source } }], train: { uri, sha256, examples }, heldOut, bySource, resolutions, valuesSha256, createdAt }`';

/**
 * Preferences, preference dataset versions and the resolutions of their conflicts (the
 * reward-model service owns them). Every route first asks the framer for the context in the
 * caller's tenant, so another tenant's context is 404 whatever the reward-model service holds.
 */
@ApiTags('feedback and preferences')
@ApiBearerAuth()
@Controller('v1/contexts/:contextId')
export class PreferencesController {
  constructor(
    @Inject(ServiceClient) private readonly upstream: ServiceClient,
    @Inject(AuditLog) private readonly auditLog: AuditLog,
  ) {}

  /** The context in the caller's tenant (the framer answers 404 otherwise), then the reward-model service. */
  private async forward(tenant: string, contextId: string, request: Parameters<ServiceClient['forward']>[1]): Promise<UpstreamResponse> {
    await this.upstream.forward('framer', { method: 'GET', path: path(contextId), tenant });
    return this.upstream.forward('reward-model', request);
  }

  @Get('preferences')
  @Requires('studio:read')
  @ApiOperation({
    summary: "The context's preferences",
    description: `Newest first, a page: \`{ items: [preference], total }\`, each ${PREFERENCE_SHAPE}; \`weight\` is the one the newest preference dataset version gives it (null when none has considered it). \`source\` filters; \`limit\` (1–1000), \`offset\`.`,
  })
  @ApiParam({ name: 'contextId' })
  @ApiQuery({ name: 'source', required: false, enum: ['human', 'synthetic', 'model', 'red-team'] })
  @ApiQuery({ name: 'limit', required: false, type: Number })
  @ApiQuery({ name: 'offset', required: false, type: Number })
  @ApiOkResponse({ description: 'The page of preferences' })
  @ApiNotFoundResponse({ description: 'No such context for this tenant', schema: openApi(ProblemDetails) })
  async preferences(
    @CallerTenant() tenant: string,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Query(new ZodValidationPipe(PreferencesQuery, 'query')) query: PreferencesQueryParams,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return send(
      res,
      await this.forward(tenant, contextId, { method: 'GET', path: path(contextId, 'preferences'), tenant, query: queryOf(query) }),
    );
  }

  @Get('preferences/:preferenceId')
  @Requires('studio:read')
  @ApiOperation({ summary: 'A preference', description: `${PREFERENCE_SHAPE}.` })
  @ApiParam({ name: 'contextId' })
  @ApiParam({ name: 'preferenceId' })
  @ApiOkResponse({ description: 'The preference' })
  @ApiNotFoundResponse({ description: 'No such preference in this context for this tenant', schema: openApi(ProblemDetails) })
  async preference(
    @CallerTenant() tenant: string,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Param('preferenceId', new ZodValidationPipe(Id, 'path parameter preferenceId')) preferenceId: string,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return send(res, await this.forward(tenant, contextId, { method: 'GET', path: path(contextId, 'preferences', preferenceId), tenant }));
  }

  @Post('preference-datasets')
  @Requires('preferences:publish')
  @ApiOperation({
    summary: 'Publish the next preference dataset version',
    description: `Weighs every preference of the context (value priority × annotator agreement × source × verdict balance; conflicts on one prompt settled by the value priorities, each recorded as a resolution) into an immutable, content-hashed version of TRL preference JSON lines, split train / held-out; \`previousId\` is the version before it and \`newPreferenceIds\` the preferences it adds (a round trains on them). Publishes \`${PREFERENCE_DATASET_PUBLISHED_V1}\`. 201 with the version ${DATASET_SHAPE}; 200 when nothing changed since the same version. Recorded in the audit log (\`${PREFERENCE_DATASET_PUBLISHED}\`).`,
  })
  @ApiParam({ name: 'contextId' })
  @ApiBody({ schema: openApi(PublishPreferenceDatasetRequest) })
  @ApiCreatedResponse({ description: 'The new preference dataset version' })
  @ApiOkResponse({ description: 'The same version already exists' })
  @ApiBadRequestResponse({ description: 'An invalid body, naming the field', schema: openApi(ProblemDetails) })
  @ApiForbiddenResponse({ description: 'The caller may not publish preference datasets (preferences:publish)' })
  @ApiNotFoundResponse({ description: 'No such context for this tenant', schema: openApi(ProblemDetails) })
  @ApiConflictResponse({ description: 'Nothing to publish: no preferences, or every weight is 0 (the reason is named)' })
  @ApiUnprocessableEntityResponse({ description: 'Nothing to publish (the reason is named)' })
  async publishDataset(
    @Caller() caller: Principal,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Body(new ZodValidationPipe(PublishPreferenceDatasetRequest)) body: PublishPreferenceDatasetRequest,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    const answer = await this.forward(caller.tenant, contextId, {
      method: 'POST',
      path: path(contextId, 'preference-datasets'),
      tenant: caller.tenant,
      body,
      timeoutMs: 120_000,
    });
    const dataset = answer.body as { id?: unknown; sha256?: unknown; previousId?: unknown; newPreferenceIds?: unknown; bySource?: unknown };
    if (answer.status === 201)
      await this.auditLog.record({
        actor: caller,
        action: PREFERENCE_DATASET_PUBLISHED,
        target: `preference-dataset:${String(dataset.id)}`,
        before: { contextId, preferenceDatasetId: dataset.previousId ?? null },
        after: {
          contextId,
          preferenceDatasetId: dataset.id,
          sha256: dataset.sha256,
          newPreferences: Array.isArray(dataset.newPreferenceIds) ? dataset.newPreferenceIds.length : null,
          bySource: dataset.bySource,
        },
      });
    return send(res, answer);
  }

  @Get('preference-datasets')
  @Requires('studio:read')
  @ApiOperation({ summary: "The context's preference dataset versions", description: `Newest first: each ${DATASET_SHAPE}.` })
  @ApiParam({ name: 'contextId' })
  @ApiOkResponse({ description: 'The preference dataset versions' })
  @ApiNotFoundResponse({ description: 'No such context for this tenant', schema: openApi(ProblemDetails) })
  async datasets(
    @CallerTenant() tenant: string,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return send(res, await this.forward(tenant, contextId, { method: 'GET', path: path(contextId, 'preference-datasets'), tenant }));
  }

  @Get('preference-datasets/:preferenceDatasetId')
  @Requires('studio:read')
  @ApiOperation({ summary: 'A preference dataset version', description: `${DATASET_SHAPE}.` })
  @ApiParam({ name: 'contextId' })
  @ApiParam({ name: 'preferenceDatasetId' })
  @ApiOkResponse({ description: 'The preference dataset version' })
  @ApiNotFoundResponse({ description: 'No such version in this context for this tenant', schema: openApi(ProblemDetails) })
  async dataset(
    @CallerTenant() tenant: string,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Param('preferenceDatasetId', new ZodValidationPipe(Id, 'path parameter preferenceDatasetId')) id: string,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return send(res, await this.forward(tenant, contextId, { method: 'GET', path: path(contextId, 'preference-datasets', id), tenant }));
  }

  @Get('preference-datasets/:preferenceDatasetId/export')
  @Requires('studio:read')
  @ApiOperation({
    summary: "A preference dataset version's train split as TRL preference JSON lines",
    description:
      'One line per preference: `{ prompt: [system?, user], chosen: [assistant], rejected: [assistant], weight, values, preference_id, clause_ids }` (the JSON Schema runtime/preference-row.v1), as DPO and reward-model training read it.',
  })
  @ApiParam({ name: 'contextId' })
  @ApiParam({ name: 'preferenceDatasetId' })
  @ApiProduces('application/jsonl')
  @ApiOkResponse({ description: 'The JSON lines' })
  @ApiNotFoundResponse({ description: 'No such version in this context for this tenant', schema: openApi(ProblemDetails) })
  async export(
    @CallerTenant() tenant: string,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Param('preferenceDatasetId', new ZodValidationPipe(Id, 'path parameter preferenceDatasetId')) id: string,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    const answer = await this.forward(tenant, contextId, {
      method: 'GET',
      path: path(contextId, 'preference-datasets', id, 'export'),
      tenant,
      timeoutMs: 120_000,
    });
    res.status(answer.status);
    res.type('application/jsonl; charset=utf-8');
    // JSON lines are text; a service that labels them JSON (a single line parses) is sent as it wrote them.
    return typeof answer.body === 'string' ? answer.body : `${JSON.stringify(answer.body)}\n`;
  }

  @Get('resolutions')
  @Requires('studio:read')
  @ApiOperation({
    summary: 'How the value priorities settled conflicting preferences',
    description:
      'Of a preference dataset version (`preferenceDatasetId`, default the newest): `[{ id, contextId, preferenceDatasetId, prompt, kind (annotators-disagree, values-conflict), preferenceIds (all in the conflict), winnerIds (the side that won), values, winningValue, reason }]`.',
  })
  @ApiParam({ name: 'contextId' })
  @ApiQuery({ name: 'preferenceDatasetId', required: false })
  @ApiOkResponse({ description: 'The resolutions' })
  @ApiNotFoundResponse({ description: 'No such context (or version) for this tenant', schema: openApi(ProblemDetails) })
  async resolutions(
    @CallerTenant() tenant: string,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Query(new ZodValidationPipe(ResolutionsQuery, 'query')) query: ResolutionsQueryParams,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return send(
      res,
      await this.forward(tenant, contextId, { method: 'GET', path: path(contextId, 'resolutions'), tenant, query: queryOf(query) }),
    );
  }
}
