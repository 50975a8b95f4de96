import { Body, Controller, Get, Inject, Param, Post, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { ContextId, DATASET_VERSION_PUBLISHED_V1, Id } from '@studio/contracts';
import { ZodValidationPipe } from '@studio/nest';
import { CallerTenant, Requires } from '../auth/principal';
import { CreateContextRequest, GenerateDatasetRequest, openApi } from '../upstream/api-schemas';
import { send } from '../runs/runs.controller';
import { ServiceClient, type HttpResponse } from '../upstream/service-client';

/** Contexts and their dataset versions live in the framer; the gateway validates and forwards. */
@ApiTags('contexts')
@ApiBearerAuth()
@Controller('v1/contexts')
export class ContextsController {
  constructor(@Inject(ServiceClient) private readonly upstream: ServiceClient) {}

  @Post()
  @Requires('contexts:write')
  @ApiOperation({
    summary: 'Create (or replace) a context',
    description:
      'A context is one rule set: its values and their priorities, the release-gate thresholds and optional seed examples. Creating it again with the same id replaces its settings (200).',
  })
  @ApiBody({ schema: openApi(CreateContextRequest) })
  @ApiCreatedResponse({ description: 'The context was created' })
  @ApiOkResponse({ description: 'The context existed and its settings were replaced' })
  @ApiBadRequestResponse({ description: 'Invalid body; the message names each bad field' })
  async create(
    @CallerTenant() tenant: string,
    @Body(new ZodValidationPipe(CreateContextRequest)) body: CreateContextRequest,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    const { id, ...settings } = body;
    const answer = await this.upstream.forward('framer', {
      method: 'PUT',
      path: `/v1/contexts/${encodeURIComponent(id)}`,
      tenant,
      body: settings,
    });
    res.status(answer.status);
    return answer.body;
  }

  @Post(':contextId/datasets')
  @Requires('datasets:curate')
  @ApiOperation({
    summary: 'Generate a dataset version',
    description: `Generates instruction and scenario examples from a framed document of the context (templates and seeds), splits them into train and held-out without leakage, and writes an immutable, content-hashed dataset version; publishes \`${DATASET_VERSION_PUBLISHED_V1}\`. The same document, settings and seed give the same version (200 instead of 201).`,
  })
  @ApiParam({ name: 'contextId' })
  @ApiBody({ schema: openApi(GenerateDatasetRequest) })
  @ApiCreatedResponse({ description: 'A new dataset version' })
  @ApiOkResponse({ description: 'This dataset version already existed' })
  @ApiAcceptedResponse({ description: 'With a teacher: the generation job (jobId, state, statusPath); the same request is the same job' })
  @ApiConflictResponse({ description: 'A teacher was asked for, but the framer has no teacher endpoint (TEACHER_BASE_URL)' })
  @ApiBadRequestResponse({ description: 'Invalid body, or seeds that do not match the document' })
  async generateDataset(
    @CallerTenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Body(new ZodValidationPipe(GenerateDatasetRequest)) body: GenerateDatasetRequest,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    const answer = await this.upstream.forward('framer', {
      method: 'POST',
      path: `/v1/contexts/${encodeURIComponent(contextId)}/datasets`,
      tenant,
      body,
      timeoutMs: 120_000,
    });
    res.status(answer.status);
    return answer.body;
  }

  @Get(':contextId/datasets/jobs/:jobId')
  @Requires('studio:read')
  @ApiOperation({
    summary: 'Follow a dataset version generated with a teacher',
    description:
      'The generation job: state (waiting, active, completed, failed), progress (requests done of planned, `eta_ms`) and, once completed, the dataset version it made with the teacher’s figures (generated, kept).',
  })
  @ApiParam({ name: 'contextId' })
  @ApiParam({ name: 'jobId' })
  @ApiOkResponse({ description: 'The job' })
  @ApiNotFoundResponse({ description: 'No such job in this context for this tenant' })
  async getGenerationJob(
    @CallerTenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Param('jobId', new ZodValidationPipe(Id, 'path parameter jobId')) jobId: string,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    const path = `/v1/contexts/${encodeURIComponent(contextId)}/datasets/jobs/${encodeURIComponent(jobId)}`;
    return send(res, await this.upstream.forward('framer', { method: 'GET', path, tenant }));
  }

  @Get(':contextId/datasets/:datasetVersionId/report')
  @Requires('studio:read')
  @ApiOperation({
    summary: 'The data report of a dataset version',
    description:
      'Examples per kind, label, value and source; clause coverage; dropped candidates by stage and reason; the well-formedness rate; the teacher’s figures; twenty examples drawn at random.',
  })
  @ApiParam({ name: 'contextId' })
  @ApiParam({ name: 'datasetVersionId' })
  @ApiOkResponse({ description: 'The data report (JSON)' })
  @ApiNotFoundResponse({ description: 'No such dataset version in this context for this tenant' })
  async getDataReport(
    @CallerTenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Param('datasetVersionId', new ZodValidationPipe(Id, 'path parameter datasetVersionId')) datasetVersionId: string,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    const path = `/v1/contexts/${encodeURIComponent(contextId)}/datasets/${encodeURIComponent(datasetVersionId)}/report`;
    return send(res, await this.upstream.forward('framer', { method: 'GET', path, tenant }));
  }

  @Get(':contextId/datasets/:datasetVersionId/coverage')
  @Requires('studio:read')
  @ApiOperation({
    summary: 'The concept coverage of a dataset version',
    description:
      'Share of the documents’ concepts and of their governed (concept, statement kind) pairs that at least one example exercises (names the concept in its question or answer; a pair also needs the example to cite a clause that governs the concept with that kind), the uncovered concepts and pairs, and `examplesByConcept` (concept id → example ids).',
  })
  @ApiParam({ name: 'contextId' })
  @ApiParam({ name: 'datasetVersionId' })
  @ApiOkResponse({
    description:
      '`{ concepts: { covered, total, share }, pairs: { covered, total, share }, uncoveredConcepts, uncoveredPairs, examplesByConcept }`',
  })
  @ApiNotFoundResponse({ description: 'No such dataset version in this context for this tenant, or one made before coverage was measured' })
  async getConceptCoverage(
    @CallerTenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Param('datasetVersionId', new ZodValidationPipe(Id, 'path parameter datasetVersionId')) datasetVersionId: string,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    const path = `/v1/contexts/${encodeURIComponent(contextId)}/datasets/${encodeURIComponent(datasetVersionId)}/coverage`;
    return send(res, await this.upstream.forward('framer', { method: 'GET', path, tenant }));
  }
}
