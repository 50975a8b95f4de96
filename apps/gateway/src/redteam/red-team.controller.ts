import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
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
import {
  ContextId,
  FEEDBACK_PREFERENCE_SUBMITTED_V1,
  Id,
  RedTeamBucket,
  RedTeamConversionRequest,
  RedTeamFindingRequest,
  RedTeamTrialBody,
  RedTeamTrialRequest,
} from '@studio/contracts';
import { ZodValidationPipe } from '@studio/nest';
import { z } from 'zod';
import { AuditLog } from '../auth/audit-log';
import { Caller, Requires, type Principal } from '../auth/principal';
import { RateLimit } from '../auth/rate-limit';
import { PREFERENCE_SUBMITTED } from '../feedback/feedback.controller';
import { ProblemDetails } from '../http/problem-details';
import { send } from '../runs/runs.controller';
import { openApi } from '../upstream/api-schemas';
import { ServiceClient, type HttpResponse } from '../upstream/service-client';

/** The base and the aligned model answer every turn of a trial, after the adapter is loaded. */
const TRIAL_TIMEOUT_MS = 600_000;
const WholeNumber = z.string().regex(/^\d+$/, 'must be a whole number').optional();

/** Audit-log actions of the workspace's records. */
export const RED_TEAM_FINDING_RECORDED = 'redteam.finding.recorded';
export const RED_TEAM_SEED_ADDED = 'redteam.seed.added';

const contextIdPipe = () => new ZodValidationPipe(ContextId, 'path parameter contextId');
const findingIdPipe = () => new ZodValidationPipe(Id, 'path parameter findingId');
const base = (contextId: string) => `/v1/contexts/${encodeURIComponent(contextId)}/red-team`;

/**
 * The red-team workspace (stored by the auditor): attacks generated from the context's rules,
 * trials against the base and the aligned model side by side, findings in four buckets, and a
 * finding made into a preference pair or a seed in one action. Writing needs `redteam:write`;
 * reading, `studio:read`. The caller (from the credential) is who made a trial, finding or conversion.
 */
@ApiTags('red team')
@ApiBearerAuth()
@Controller('v1/contexts/:contextId/red-team')
export class RedTeamController {
  constructor(
    @Inject(ServiceClient) private readonly upstream: ServiceClient,
    @Inject(AuditLog) private readonly auditLog: AuditLog,
  ) {}

  @Get('attacks')
  @Requires('studio:read')
  @ApiOperation({
    summary: "Attacks generated from the context's rules",
    description:
      'For each prohibition (and each obligation that can be dodged) of the current clauses, the request a user would make to break it, delivered through strategies (direct, role-play, hypothetical, authority, split, encodings, another language, prompt injection, injection in retrieved text, multi-turn), layered where they compose. Deterministic: the same clauses give the same attacks and ids. `{ total, offset, attacks: [{ id, goalId, clauseIds, goal, strategies, turns, injection, canary, values }] }`; `limit` 1–1000 (default 100).',
  })
  @ApiParam({ name: 'contextId' })
  @ApiQuery({ name: 'offset', required: false })
  @ApiQuery({ name: 'limit', required: false })
  @ApiOkResponse({ description: 'The generated attacks' })
  @ApiNotFoundResponse({ description: 'No such context for this tenant', schema: openApi(ProblemDetails) })
  async attacks(
    @Caller() caller: Principal,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Query('offset', new ZodValidationPipe(WholeNumber, 'query parameter offset')) offset: string | undefined,
    @Query('limit', new ZodValidationPipe(WholeNumber, 'query parameter limit')) limit: string | undefined,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    const query = { ...(offset === undefined ? {} : { offset }), ...(limit === undefined ? {} : { limit }) };
    return send(
      res,
      await this.upstream.forward('auditor', { method: 'GET', path: `${base(contextId)}/attacks`, tenant: caller.tenant, query }),
    );
  }

  @Post('trials')
  @Requires('redteam:write')
  // Two models answer every turn: counted with chat.
  @RateLimit('chat')
  @ApiOperation({
    summary: 'Put an attack to the base and the aligned model side by side',
    description:
      "Give `prompt` (an attack written by hand) or `attackId` (a generated one, its turns sent one at a time: each model sees its own earlier replies). The aligned model is the adapter of `runId` or of the context's newest completed run; an attack that hides an instruction in retrieved clause text is answered by the adapter with the retrieved clauses. Same system prompt, greedy decoding and answer bound as the audit. Answer 201: `{ id, contextId, runId, adapterId, baseModel, datasetVersionId, systemPrompt, turns, attack, clauses: [{ id, numbering }], retrieved, alignedVariant, replies: { base: [..], aligned: [..] }, author, createdAt }`.",
  })
  @ApiParam({ name: 'contextId' })
  @ApiBody({ schema: openApi(RedTeamTrialBody) })
  @ApiCreatedResponse({ description: 'The trial, with both sides’ replies to every turn' })
  @ApiForbiddenResponse({ description: 'The caller may not red-team (redteam:write)' })
  @ApiNotFoundResponse({ description: 'No completed run in the context, or no such attack', schema: openApi(ProblemDetails) })
  async trial(
    @Caller() caller: Principal,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Body(new ZodValidationPipe(RedTeamTrialRequest)) body: RedTeamTrialRequest,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return send(
      res,
      await this.upstream.forward('auditor', {
        method: 'POST',
        path: `${base(contextId)}/trials`,
        tenant: caller.tenant,
        body: { ...body, author: caller.subject },
        timeoutMs: TRIAL_TIMEOUT_MS,
      }),
    );
  }

  @Get('trials/:trialId')
  @Requires('studio:read')
  @ApiOperation({ summary: 'A trial', description: 'The trial as POST …/trials answered it.' })
  @ApiParam({ name: 'contextId' })
  @ApiParam({ name: 'trialId' })
  @ApiOkResponse({ description: 'The trial' })
  @ApiNotFoundResponse({ description: 'No such trial in the context', schema: openApi(ProblemDetails) })
  async getTrial(
    @Caller() caller: Principal,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Param('trialId', new ZodValidationPipe(Id, 'path parameter trialId')) trialId: string,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    const path = `${base(contextId)}/trials/${encodeURIComponent(trialId)}`;
    return send(res, await this.upstream.forward('auditor', { method: 'GET', path, tenant: caller.tenant }));
  }

  @Post('findings')
  @Requires('redteam:write')
  @ApiOperation({
    summary: 'Mark the outcome of a trial in one of four buckets',
    description: `\`both_fine\` (straightforward), \`only_base_right\` (conflicting values or poor data), \`only_aligned_right\` (great examples), \`both_fail\` (the hardest: more or better data needed). Stored with the trial's prompt, final answers, clause ids, attack, who (the caller) and when: 201, or 200 when it replaces the trial's earlier verdict (one finding per trial, id \`finding-<trialId>\`). Recorded in the audit log (\`${RED_TEAM_FINDING_RECORDED}\`).`,
  })
  @ApiParam({ name: 'contextId' })
  @ApiBody({ schema: openApi(RedTeamFindingRequest) })
  @ApiCreatedResponse({ description: 'The finding' })
  @ApiForbiddenResponse({ description: 'The caller may not red-team (redteam:write)' })
  @ApiNotFoundResponse({ description: 'No such trial in the context', schema: openApi(ProblemDetails) })
  async record(
    @Caller() caller: Principal,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Body(new ZodValidationPipe(RedTeamFindingRequest)) body: RedTeamFindingRequest,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    const answer = await this.upstream.forward('auditor', {
      method: 'POST',
      path: `${base(contextId)}/findings`,
      tenant: caller.tenant,
      body: { ...body, author: caller.subject },
    });
    const finding = answer.body as { id?: string };
    await this.auditLog.record({
      actor: caller,
      action: RED_TEAM_FINDING_RECORDED,
      target: `finding:${String(finding.id)}`,
      before: null,
      after: { contextId, trialId: body.trialId, bucket: body.bucket },
    });
    return send(res, answer);
  }

  @Get('findings')
  @Requires('studio:read')
  @ApiOperation({
    summary: "The context's red-team findings",
    description: '`{ total, findings }`, most recently marked first; `bucket` keeps one bucket; `limit` 1–1000 (default 100).',
  })
  @ApiParam({ name: 'contextId' })
  @ApiQuery({ name: 'bucket', required: false, enum: RedTeamBucket.options })
  @ApiQuery({ name: 'offset', required: false })
  @ApiQuery({ name: 'limit', required: false })
  @ApiOkResponse({ description: 'The findings' })
  async findings(
    @Caller() caller: Principal,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Query('bucket', new ZodValidationPipe(RedTeamBucket.optional(), 'query parameter bucket')) bucket: string | undefined,
    @Query('offset', new ZodValidationPipe(WholeNumber, 'query parameter offset')) offset: string | undefined,
    @Query('limit', new ZodValidationPipe(WholeNumber, 'query parameter limit')) limit: string | undefined,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    const query = {
      ...(bucket === undefined ? {} : { bucket }),
      ...(offset === undefined ? {} : { offset }),
      ...(limit === undefined ? {} : { limit }),
    };
    return send(
      res,
      await this.upstream.forward('auditor', { method: 'GET', path: `${base(contextId)}/findings`, tenant: caller.tenant, query }),
    );
  }

  @Get('findings/:findingId')
  @Requires('studio:read')
  @ApiOperation({ summary: 'A red-team finding', description: 'With the preference and seed made from it, if any (`preference`, `seed`).' })
  @ApiParam({ name: 'contextId' })
  @ApiParam({ name: 'findingId' })
  @ApiOkResponse({ description: 'The finding' })
  @ApiNotFoundResponse({ description: 'No such finding in the context', schema: openApi(ProblemDetails) })
  async finding(
    @Caller() caller: Principal,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Param('findingId', findingIdPipe()) findingId: string,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    const path = `${base(contextId)}/findings/${encodeURIComponent(findingId)}`;
    return send(res, await this.upstream.forward('auditor', { method: 'GET', path, tenant: caller.tenant }));
  }

  @Post('findings/:findingId/preference')
  @Requires('redteam:write')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Make a finding a preference pair',
    description: `A preference with source \`red-team\`: chosen = the answer that was right (or \`editedAnswer\`), rejected = the wrong one (the aligned answer when both fail); the annotator is the finding's author, its note the explanation. Published as \`${FEEDBACK_PREFERENCE_SUBMITTED_V1}\`; the reward-model service stores it (GET …/preferences/{preferenceId}). Deterministic id: converting the same finding again is the same preference. \`{ preferenceId, finding }\`. Recorded in the audit log (\`${PREFERENCE_SUBMITTED}\`).`,
  })
  @ApiParam({ name: 'contextId' })
  @ApiParam({ name: 'findingId' })
  @ApiBody({ schema: openApi(RedTeamConversionRequest) })
  @ApiOkResponse({ description: 'The preference id and the finding with it' })
  @ApiForbiddenResponse({ description: 'The caller may not red-team (redteam:write)' })
  @ApiNotFoundResponse({ description: 'No such finding in the context', schema: openApi(ProblemDetails) })
  @ApiConflictResponse({
    description:
      'The bucket has no pair to make: both_fine (no wrong answer), both_fail without editedAnswer (no right one), an empty or identical answer',
    schema: openApi(ProblemDetails),
  })
  async toPreference(
    @Caller() caller: Principal,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Param('findingId', findingIdPipe()) findingId: string,
    @Body(new ZodValidationPipe(RedTeamConversionRequest)) body: RedTeamConversionRequest,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    const answer = await this.upstream.forward('auditor', {
      method: 'POST',
      path: `${base(contextId)}/findings/${encodeURIComponent(findingId)}/preference`,
      tenant: caller.tenant,
      body: { ...body, by: caller.subject },
    });
    const { preferenceId } = answer.body as { preferenceId?: string };
    await this.auditLog.record({
      actor: caller,
      action: PREFERENCE_SUBMITTED,
      target: `preference:${String(preferenceId)}`,
      before: null,
      after: { contextId, preferenceId, source: 'red-team', findingId, edited: body.editedAnswer !== undefined },
    });
    return send(res, answer);
  }

  @Post('findings/:findingId/seed')
  @Requires('redteam:write')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Make a finding a seed for the next round',
    description: `Adds a Q&A seed to the context's seeds (id \`red-team-<findingId>\`): the prompt with the right answer (or \`editedAnswer\`), citing the finding's clauses by numbering; the next dataset version imports it. \`{ seedId, added, finding }\` (\`added\` false when the same seed was there already). Recorded in the audit log (\`${RED_TEAM_SEED_ADDED}\`).`,
  })
  @ApiParam({ name: 'contextId' })
  @ApiParam({ name: 'findingId' })
  @ApiBody({ schema: openApi(RedTeamConversionRequest) })
  @ApiOkResponse({ description: 'The seed id and the finding with it' })
  @ApiForbiddenResponse({ description: 'The caller may not red-team (redteam:write)' })
  @ApiNotFoundResponse({ description: 'No such finding in the context', schema: openApi(ProblemDetails) })
  @ApiConflictResponse({
    description:
      'No right answer to teach (both_fail without editedAnswer), no clause to cite, another seed under the id, or seeds kept as an InstructLab qna.yaml',
    schema: openApi(ProblemDetails),
  })
  async toSeed(
    @Caller() caller: Principal,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Param('findingId', findingIdPipe()) findingId: string,
    @Body(new ZodValidationPipe(RedTeamConversionRequest)) body: RedTeamConversionRequest,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    const answer = await this.upstream.forward('auditor', {
      method: 'POST',
      path: `${base(contextId)}/findings/${encodeURIComponent(findingId)}/seed`,
      tenant: caller.tenant,
      body: { ...body, by: caller.subject },
    });
    const { seedId, added } = answer.body as { seedId?: string; added?: boolean };
    if (added)
      await this.auditLog.record({
        actor: caller,
        action: RED_TEAM_SEED_ADDED,
        target: `seed:${String(seedId)}`,
        before: null,
        after: { contextId, seedId, findingId },
      });
    return send(res, answer);
  }
}
