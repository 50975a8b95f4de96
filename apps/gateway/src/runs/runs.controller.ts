import { Body, Controller, Get, Inject, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import {
  AUDIT_DRIFT_DETECTED_V1,
  AUDIT_VERDICT_ISSUED_V1,
  AuditStatusV1,
  CHAT_CONVERSATION_SAMPLED_V1,
  ContextId,
  Id,
  TRAINING_RUN_REQUESTED_V1,
} from '@studio/contracts';
import { ProblemDetails } from '../http/problem-details';
import { ZodValidationPipe } from '@studio/nest';
import { CallerTenant, Requires } from '../auth/principal';
import { RateLimit } from '../auth/rate-limit';
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
@ApiBearerAuth()
@Controller('v1')
export class RunsController {
  constructor(@Inject(ServiceClient) private readonly upstream: ServiceClient) {}

  @Post('contexts/:contextId/runs')
  @Requires('runs:operate')
  @RateLimit('runs')
  @ApiOperation({
    summary: 'Start a training run',
    description: `Trains a model of the context. \`method\` sft (default): fine-tunes the base model on a dataset version (LoRA). dpo: a DPO round — improves the adapter of \`parentRunId\` (a completed SFT run, or an earlier round) with a preference dataset version, weighted by the value priorities; its audit compares base, SFT (the parent), SFT + DPO and SFT + DPO + RAG. reward: trains a reward model on a preference dataset version (pairwise accuracy on its held-out pairs). The run id is a hash of method, datasets, parent, base model and hyper-parameters: the same request names the same run. Publishes \`${TRAINING_RUN_REQUESTED_V1}\` and queues the job for a training worker; follow it with GET /v1/runs/{runId}. When an sft or dpo run completes, the auditor audits the adapter and publishes \`${AUDIT_VERDICT_ISSUED_V1}\`. 409 when the dataset version, preference dataset or parent run is not (yet) known to the instructor or not completed; 422 when the parent does not fit (another base model or dataset version, a reward model).`,
  })
  @ApiParam({ name: 'contextId' })
  @ApiBody({ schema: openApi(StartRunRequest) })
  @ApiAcceptedResponse({ description: 'The run was requested (or already exists)' })
  async startRun(
    @CallerTenant() tenant: string,
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
  @Requires('studio:read')
  @ApiOperation({
    summary: 'Follow a training run',
    description: 'State (requested, running, completed, failed), step of total steps, first and last loss, the adapter once completed.',
  })
  @ApiParam({ name: 'runId' })
  @ApiOkResponse({ description: 'The run' })
  @ApiNotFoundResponse({ description: 'No such run for this tenant' })
  async getRun(
    @CallerTenant() tenant: string,
    @Param('runId', new ZodValidationPipe(Id, 'path parameter runId')) runId: string,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return send(res, await this.upstream.forward('instructor', { method: 'GET', path: `/v1/runs/${encodeURIComponent(runId)}`, tenant }));
  }

  @Get('runs/:runId/audit')
  @Requires('studio:read')
  @ApiOperation({
    summary: 'The audit of a training run: its state, or its report once completed',
    description:
      "Once the audit has completed: its report (audit/report.v1: base, aligned and aligned+RAG scores, outcome buckets, verdict; `?format=md` the Markdown report). Until then, and when it has failed: 200 with the audit's state (a body with `state` instead of `verdict`): queued (waiting for its first attempt, or for a retry after a failed one: `error`, `nextAttemptAt`), running, or failed (every attempt failed; `error` has the cause chain of the last failure; POST re-audits it). Audits are retried with exponential back-off (8 attempts from 5 s by default).",
  })
  @ApiParam({ name: 'runId' })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'md'] })
  @ApiOkResponse({
    description: 'The report (audit/report.v1 JSON, or Markdown) once the audit has completed; the audit state before',
    schema: {
      oneOf: [openApi(AuditStatusV1), { type: 'object', description: 'audit/report.v1', properties: { verdict: { type: 'string' } } }],
    },
  })
  @ApiNotFoundResponse({
    description: 'The auditor has not seen this run complete (no such run, or training has not finished)',
    schema: openApi(ProblemDetails),
  })
  async getRunAudit(
    @CallerTenant() tenant: string,
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

  @Post('runs/:runId/audit')
  @Requires('runs:operate')
  @ApiOperation({
    summary: 'Re-audit a training run',
    description:
      'Queues a new attempt of a failed audit (202 with its state). Idempotent: while the audit is queued or running nothing more is queued (202 with its state), and a completed audit is not re-run (200 with its state; the report is at `report`). No request body.',
  })
  @ApiParam({ name: 'runId' })
  @ApiAcceptedResponse({ description: 'The audit is queued (now, or already) or running', schema: openApi(AuditStatusV1) })
  @ApiOkResponse({ description: 'The audit has completed; nothing was queued', schema: openApi(AuditStatusV1) })
  @ApiNotFoundResponse({ description: 'The auditor has not seen this run complete', schema: openApi(ProblemDetails) })
  @ApiServiceUnavailableResponse({
    description: 'The audit could not be queued (its cause is named), or the auditor is unreachable',
    schema: openApi(ProblemDetails),
  })
  async reaudit(
    @CallerTenant() tenant: string,
    @Param('runId', new ZodValidationPipe(Id, 'path parameter runId')) runId: string,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return send(
      res,
      await this.upstream.forward('auditor', { method: 'POST', path: `/v1/runs/${encodeURIComponent(runId)}/audit`, tenant }),
    );
  }

  @Get('audits/:auditRunId')
  @Requires('studio:read')
  @ApiOperation({
    summary: 'An audit report',
    description:
      '`?format=md` gives the Markdown report. The JSON report carries `stale`: null, or `{ since, reason, staleExamples, revisions }` when a later version of a document changed clauses that the audited dataset version’s examples cite (the Markdown report then opens with a "Stale audit" line).',
  })
  @ApiParam({ name: 'auditRunId' })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'md'] })
  @ApiOkResponse({ description: 'The report (audit/report.v1 JSON, or Markdown)' })
  @ApiNotFoundResponse({ description: 'No such audit for this tenant' })
  async getAudit(
    @CallerTenant() tenant: string,
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

  @Get('contexts/:contextId/drift')
  @Requires('studio:read')
  @ApiOperation({
    summary: "Drift of the context's deployed models after deployment, newest window first",
    description: `The gateway samples chat conversations (CHAT_SAMPLE_RATE) as \`${CHAT_CONVERSATION_SAMPLED_V1}\`; the auditor scores each deployment's samples per window (DRIFT_WINDOW_MS) on the metrics a chat allows without a reference answer — answered (not refused), faithfulness and consistency (no contradiction) to the cited clauses, the reward model's score when the release audit has one — and compares each with the release audit of the deployed run. A window whose metric fell below its release figure by more than its margin (DRIFT_MARGINS) names it in \`drifted\` and was published as \`${AUDIT_DRIFT_DETECTED_V1}\`. Windows with fewer than DRIFT_MIN_SAMPLES samples are \`too-few-samples\`.`,
  })
  @ApiParam({ name: 'contextId' })
  @ApiQuery({ name: 'limit', required: false, description: '1 to 500 (default 50)' })
  @ApiOkResponse({ description: '{ contextId, windows }: the scored windows ([] for a context without any)' })
  async drift(
    @CallerTenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Query('limit') limit: string | undefined,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return send(
      res,
      await this.upstream.forward('auditor', {
        method: 'GET',
        path: `/v1/contexts/${encodeURIComponent(contextId)}/drift`,
        tenant,
        ...(limit === undefined ? {} : { query: { limit } }),
      }),
    );
  }
}
