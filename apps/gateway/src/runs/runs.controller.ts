import { Body, Controller, Get, Inject, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { AUDIT_VERDICT_ISSUED_V1, ContextId, Id, TRAINING_RUN_REQUESTED_V1 } from '@studio/contracts';
import { Tenant, ZodValidationPipe } from '@studio/nest';
import { openApi, ReportFormat, StartRunRequest } from '../upstream/api-schemas';
import { ServiceClient, type HttpResponse, type UpstreamResponse } from '../upstream/service-client';

/** Sends a forwarded answer: its status, and Markdown as text/markdown. */
export function send(res: HttpResponse, answer: UpstreamResponse): unknown {
  res.status(answer.status);
  if (answer.contentType.startsWith('text/markdown')) res.type('text/markdown; charset=utf-8');
  return answer.body;
}

/** Training runs live in the instructor, audit reports in the auditor. */
@ApiTags('training and audits')
@ApiHeader({ name: 'x-tenant-id', required: true, description: 'Tenant that owns the context' })
@Controller('v1')
export class RunsController {
  constructor(@Inject(ServiceClient) private readonly upstream: ServiceClient) {}

  @Post('contexts/:contextId/runs')
  @ApiOperation({
    summary: 'Start a training run',
    description: `Fine-tunes the base model on a dataset version of the context (SFT with LoRA by default). The run id is a hash of dataset, base model and hyper-parameters: the same request names the same run. Publishes \`${TRAINING_RUN_REQUESTED_V1}\` and queues the job for a training worker; follow it with GET /v1/runs/{runId}. When training completes, the auditor audits the adapter and publishes \`${AUDIT_VERDICT_ISSUED_V1}\`. 409 when the dataset version is not (yet) known to the instructor.`,
  })
  @ApiParam({ name: 'contextId' })
  @ApiBody({ schema: openApi(StartRunRequest) })
  @ApiAcceptedResponse({ description: 'The run was requested (or already exists)' })
  async startRun(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Body(new ZodValidationPipe(StartRunRequest)) body: StartRunRequest,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return send(
      res,
      await this.upstream.forward('instructor', {
        method: 'POST',
        path: `/v1/contexts/${encodeURIComponent(contextId)}/runs`,
        tenant,
        body,
      }),
    );
  }

  @Get('runs/:runId')
  @ApiOperation({
    summary: 'Follow a training run',
    description: 'State (requested, running, completed, failed), step of total steps, first and last loss, the adapter once completed.',
  })
  @ApiParam({ name: 'runId' })
  @ApiOkResponse({ description: 'The run' })
  @ApiNotFoundResponse({ description: 'No such run for this tenant' })
  async getRun(
    @Tenant() tenant: string,
    @Param('runId', new ZodValidationPipe(Id, 'path parameter runId')) runId: string,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return send(res, await this.upstream.forward('instructor', { method: 'GET', path: `/v1/runs/${encodeURIComponent(runId)}`, tenant }));
  }

  @Get('runs/:runId/audit')
  @ApiOperation({
    summary: 'The audit report of a training run',
    description:
      'The latest audit of the run: base, aligned and aligned+RAG scores, outcome buckets, verdict. `?format=md` gives the Markdown report.',
  })
  @ApiParam({ name: 'runId' })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'md'] })
  @ApiOkResponse({ description: 'The report (audit/report.v1 JSON, or Markdown)' })
  @ApiNotFoundResponse({ description: 'The run has not been audited (yet)' })
  async getRunAudit(
    @Tenant() tenant: string,
    @Param('runId', new ZodValidationPipe(Id, 'path parameter runId')) runId: string,
    @Query('format', new ZodValidationPipe(ReportFormat, 'query parameter format')) format: 'json' | 'md',
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return send(
      res,
      await this.upstream.forward('auditor', {
        method: 'GET',
        path: `/v1/runs/${encodeURIComponent(runId)}/audit`,
        tenant,
        query: { format },
      }),
    );
  }

  @Get('audits/:auditRunId')
  @ApiOperation({ summary: 'An audit report', description: '`?format=md` gives the Markdown report.' })
  @ApiParam({ name: 'auditRunId' })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'md'] })
  @ApiOkResponse({ description: 'The report (audit/report.v1 JSON, or Markdown)' })
  @ApiNotFoundResponse({ description: 'No such audit for this tenant' })
  async getAudit(
    @Tenant() tenant: string,
    @Param('auditRunId', new ZodValidationPipe(Id, 'path parameter auditRunId')) auditRunId: string,
    @Query('format', new ZodValidationPipe(ReportFormat, 'query parameter format')) format: 'json' | 'md',
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return send(
      res,
      await this.upstream.forward('auditor', {
        method: 'GET',
        path: `/v1/audits/${encodeURIComponent(auditRunId)}`,
        tenant,
        query: { format },
      }),
    );
  }
}
