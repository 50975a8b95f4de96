import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBody, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ContextId, Id } from '@studio/contracts';
import { ZodValidationPipe } from '@studio/nest';
import { CompareRequest } from '@studio/pipeline';
import { z } from 'zod';
import { CallerTenant, Requires } from '../auth/principal';
import { RateLimit } from '../auth/rate-limit';
import { ProblemDetails } from '../http/problem-details';
import { openApi } from '../upstream/api-schemas';
import { ServiceClient, type HttpResponse } from '../upstream/service-client';
import { send } from './runs.controller';

/** `offset` and `limit` of GET /v1/contexts/{contextId}/datasets/{datasetVersionId}/held-out (the auditor checks their range). */
const WholeNumber = z.string().regex(/^\d+$/, 'must be a whole number').optional();

/** A model server answers three times per compare (base, aligned, aligned+RAG), after loading the adapter. */
const COMPARE_TIMEOUT_MS = 300_000;

/** The compare view: base, aligned and aligned+RAG answers side by side; the held-out items to pick from. */
@ApiTags('compare')
@Controller('v1')
export class CompareController {
  constructor(@Inject(ServiceClient) private readonly upstream: ServiceClient) {}

  @Post('contexts/:contextId/compare')
  @HttpCode(200)
  @Requires('models:query')
  // Three generations per request: counted with chat.
  @RateLimit('chat')
  @ApiOperation({
    summary: 'Compare base, aligned and aligned+RAG answers',
    description:
      "Asks the base model, the run's adapter (aligned) and the adapter with the clauses retrieved for the question (aligned+RAG) the same question, exactly as the audit does (same system prompt, retrieval, greedy decoding and answer bound). Give `prompt` (a typed question) or `heldOutItemId` (an item of the run's dataset's held-out split: its answers are then scored as the audit scores them, against its reference answer and cited clauses, with its outcome bucket). " +
      'Answer: `{ contextId, runId, question, heldOutItem: null | { id, kind, question, reference, clauseIds }, models: { base, adapter }, retrieved: [{ clauseId, numbering, citation, text, score }], answers: { base, aligned, aligned_rag }, scores: null | { variants: { base|aligned|aligned_rag: { answer, correctness, tokenF1, rougeL, keyTermCoverage, missingKeyTerms, faithfulness, contradiction, contradictedClauseIds, refused, refusalMatch, judge, judgeReason, judgeError, right } }, bucket, itemPass } }`. ' +
      '404 when the run has not completed in this context (or is another tenant’s), or the held-out item is unknown.',
  })
  @ApiParam({ name: 'contextId' })
  @ApiBody({ schema: openApi(CompareRequest) })
  @ApiOkResponse({ description: 'The three answers, the retrieved clauses, and the scores for a held-out item' })
  @ApiNotFoundResponse({ description: 'No completed run of this context, or no such held-out item', schema: openApi(ProblemDetails) })
  async compare(
    @CallerTenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Body(new ZodValidationPipe(CompareRequest)) body: CompareRequest,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return send(
      res,
      await this.upstream.forward('auditor', {
        method: 'POST',
        path: `/v1/contexts/${encodeURIComponent(contextId)}/compare`,
        tenant,
        body,
        timeoutMs: COMPARE_TIMEOUT_MS,
      }),
    );
  }

  @Get('contexts/:contextId/datasets/:datasetVersionId/held-out')
  @Requires('studio:read')
  @ApiOperation({
    summary: "A dataset version's held-out items",
    description:
      'The items of the held-out split (what the audit samples, and what compare can ask): `{ datasetVersionId, total, offset, items: [{ id, kind, question, reference, clauseIds }] }`, in file order; `limit` 1–1000 (default 200).',
  })
  @ApiParam({ name: 'contextId' })
  @ApiParam({ name: 'datasetVersionId' })
  @ApiQuery({ name: 'offset', required: false })
  @ApiQuery({ name: 'limit', required: false })
  @ApiOkResponse({ description: 'The held-out items' })
  @ApiNotFoundResponse({ description: 'No such dataset version in this context', schema: openApi(ProblemDetails) })
  async heldOut(
    @CallerTenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Param('datasetVersionId', new ZodValidationPipe(Id, 'path parameter datasetVersionId')) datasetVersionId: string,
    @Query('offset', new ZodValidationPipe(WholeNumber, 'query parameter offset')) offset: string | undefined,
    @Query('limit', new ZodValidationPipe(WholeNumber, 'query parameter limit')) limit: string | undefined,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return send(
      res,
      await this.upstream.forward('auditor', {
        method: 'GET',
        path: `/v1/contexts/${encodeURIComponent(contextId)}/datasets/${encodeURIComponent(datasetVersionId)}/held-out`,
        tenant,
        query: { ...(offset === undefined ? {} : { offset }), ...(limit === undefined ? {} : { limit }) },
      }),
    );
  }
}
