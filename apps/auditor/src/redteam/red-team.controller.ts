import { randomUUID } from 'node:crypto';
import {
  Body,
  ConflictException,
  Controller,
  Get,
  HttpException,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
  Res,
  ServiceUnavailableException,
} from '@nestjs/common';
import { ContextId, describeError, FEEDBACK_PREFERENCE_SUBMITTED_V1, Id } from '@studio/contracts';
import { EVENT_BUS, Tenant, ZodValidationPipe } from '@studio/nest';
import { valuesForClause } from '@studio/framing';
import { publishEvent, replayConversation, type ConversationVariant } from '@studio/pipeline';
import { tenantId, type EventBus, type Repository } from '@studio/ports';
import { z } from 'zod';
import { AUDIT_SETTINGS, type AuditSettings } from '../audits/audit-settings';
import { FRAMER_CLIENT, FramerAnswerError, type FramerClient } from '../audits/framer-client';
import { AUDIT_PORTS, type AuditServicePorts } from '../audits/run-audit';
import { AUDIT_CANDIDATES_REPOSITORY, type AuditCandidate } from '../candidates/audit-candidate';
import {
  ATTACK_SOURCE,
  ConversionRequest,
  FindingBucket,
  FindingConversionError,
  findingOf,
  FindingRequest,
  preferenceOfFinding,
  rightAnswer,
  RED_TEAM_FINDINGS_REPOSITORY,
  RED_TEAM_TRIALS_REPOSITORY,
  RedTeamTrial,
  seedOfFinding,
  TrialRequest,
  type AttackSource,
  type RedTeamFinding,
  type ReplayableAttack,
  type TrialClause,
} from './red-team';

const Offset = z.coerce.number().int().min(0, 'must be at least 0').default(0);
const Limit = z.coerce.number().int().min(1, 'must be at least 1').max(1_000, 'must be at most 1000').default(100);
const contextIdPipe = () => new ZodValidationPipe(ContextId, 'path parameter contextId');

/** Where the auditor publishes from (CloudEvents `source`). */
export const AUDITOR_EVENT_SOURCE = '/studio/auditor';

/** A framer refusal as this service's answer (404 stays 404, 409 and 422 keep theirs); anything else is rethrown. */
function framerRefusal(error: unknown): never {
  if (error instanceof FramerAnswerError && error.status >= 400 && error.status < 500)
    throw new HttpException({ statusCode: error.status, message: error.message }, error.status);
  throw error;
}

/**
 * The red-team workspace: the generated attacks of a context's rules, trials (a written prompt or
 * a generated attack put to the base and the aligned model side by side, turn by turn), findings
 * (a person's verdict on a trial in one of four buckets), and a finding made into a `red-team`
 * preference (published for the reward-model service) or a seed for the next dataset version
 * (the framer's seed path). The gateway forwards here with the caller as `author` / `by`.
 */
@Controller('v1/contexts/:contextId/red-team')
export class RedTeamController {
  constructor(
    @Inject(RED_TEAM_TRIALS_REPOSITORY) private readonly trials: Repository<RedTeamTrial>,
    @Inject(RED_TEAM_FINDINGS_REPOSITORY) private readonly findings: Repository<RedTeamFinding>,
    @Inject(AUDIT_CANDIDATES_REPOSITORY) private readonly candidates: Repository<AuditCandidate>,
    @Inject(ATTACK_SOURCE) private readonly attacks: AttackSource,
    @Inject(FRAMER_CLIENT) private readonly framer: FramerClient,
    @Inject(AUDIT_PORTS) private readonly ports: AuditServicePorts,
    @Inject(AUDIT_SETTINGS) private readonly settings: AuditSettings,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
  ) {}

  /** The generated attacks of the context's current clauses: `{ total, offset, attacks }`, in generation order. */
  @Get('attacks')
  async listAttacks(
    @Tenant() tenant: string,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Query('offset', new ZodValidationPipe(Offset, 'query parameter offset')) offset: number,
    @Query('limit', new ZodValidationPipe(Limit, 'query parameter limit')) limit: number,
  ): Promise<{ total: number; offset: number; attacks: ReplayableAttack[] }> {
    const attacks = await this.attacksOf(tenant, contextId);
    return { total: attacks.length, offset, attacks: attacks.slice(offset, offset + limit) };
  }

  /** Puts a prompt or a generated attack to the base and the aligned model: 201 with the trial. */
  @Post('trials')
  async trial(
    @Tenant() tenant: string,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Body(new ZodValidationPipe(TrialRequest)) body: TrialRequest,
  ): Promise<RedTeamTrial> {
    const candidate = await this.candidateOf(tenant, contextId, body.runId);
    const run = candidate.run;
    let attack: ReplayableAttack | null = null;
    if (body.attackId !== undefined) {
      attack = (await this.attacksOf(tenant, contextId)).find((a) => a.id === body.attackId) ?? null;
      if (!attack)
        throw new NotFoundException(
          `attack "${body.attackId}" is not among the attacks generated from context "${contextId}"'s current clauses (GET …/red-team/attacks lists them)`,
        );
    }
    const [dataset, clauses, values] = await Promise.all([
      this.framer.dataset(tenant, contextId, run.datasetVersionId).catch(framerRefusal),
      this.framer.clauses(tenant, contextId).catch(framerRefusal),
      this.framer.values(tenant, contextId).catch(framerRefusal),
    ]);
    const numbering = new Map(clauses.map((c) => [c.id, c.numbering]));
    const injection = attack?.injection
      ? { ...attack.injection, numbering: numbering.get(attack.injection.clauseId) ?? attack.injection.clauseId }
      : null;
    const alignedVariant: ConversationVariant = injection ? 'aligned_rag' : 'aligned';
    const turns = attack ? attack.turns : [body.prompt as string];
    const played = await replayConversation(this.ports, {
      tenant: tenantId(tenant),
      contextId,
      dataset,
      adapter: { id: run.adapterId, artifactDir: run.artifactUri },
      baseModel: run.baseModel,
      turns,
      variants: ['base', alignedVariant],
      injection,
      settings: { ragTopK: this.settings.ragTopK, maxTokens: this.settings.maxTokens },
    });
    const about: TrialClause[] = attack
      ? attack.clauseIds.map((id) => ({ id, numbering: numbering.get(id) ?? '' })).filter((c) => c.numbering !== '')
      : played.retrieved.filter((c) => c.numbering !== '').map((c) => ({ id: c.clauseId, numbering: c.numbering }));
    const concerned = new Set(about.flatMap((c) => valuesForClause(c.numbering, values)));
    const trial = RedTeamTrial.parse({
      id: `trl-${randomUUID()}`,
      contextId,
      runId: run.runId,
      adapterId: run.adapterId,
      baseModel: run.baseModel,
      datasetVersionId: run.datasetVersionId,
      systemPrompt: dataset.systemPrompt,
      turns,
      attack: attack
        ? {
            id: attack.id,
            goalId: attack.goalId,
            goal: attack.goal,
            strategies: [...attack.strategies],
            canary: attack.canary,
            values: attack.values,
            injection: attack.injection,
          }
        : null,
      clauses: about,
      values: attack
        ? attack.values
        : (values?.values ?? [])
            .filter((v) => concerned.has(v.name))
            .sort((a, b) => a.priority - b.priority)
            .map((v) => v.name),
      retrieved: played.retrieved.map(({ clauseId, numbering: n, citation, score }) => ({ clauseId, numbering: n, citation, score })),
      alignedVariant,
      replies: { base: played.replies.base ?? [], aligned: played.replies[alignedVariant] ?? [] },
      author: body.author,
      createdAt: new Date().toISOString(),
    });
    await this.trials.upsert(tenantId(tenant), trial);
    return trial;
  }

  @Get('trials/:trialId')
  async getTrial(
    @Tenant() tenant: string,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Param('trialId', new ZodValidationPipe(Id, 'path parameter trialId')) trialId: string,
  ): Promise<RedTeamTrial> {
    return this.trialOf(tenant, contextId, trialId);
  }

  /** Records a person's verdict on a trial: 201 with the finding, or 200 when it replaces the trial's earlier verdict. */
  @Post('findings')
  async record(
    @Tenant() tenant: string,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Body(new ZodValidationPipe(FindingRequest)) body: FindingRequest,
    @Res({ passthrough: true }) res: { status(code: number): unknown },
  ): Promise<RedTeamFinding> {
    const trial = await this.trialOf(tenant, contextId, body.trialId);
    const existing = await this.findings.get(tenantId(tenant), `finding-${trial.id}`);
    const finding = findingOf(trial, body, existing, new Date());
    await this.findings.upsert(tenantId(tenant), finding);
    res.status(existing ? 200 : 201);
    return finding;
  }

  /** The context's findings, most recently marked first; `?bucket=` keeps one bucket. */
  @Get('findings')
  async list(
    @Tenant() tenant: string,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Query('bucket', new ZodValidationPipe(FindingBucket.optional(), 'query parameter bucket')) bucket: FindingBucket | undefined,
    @Query('offset', new ZodValidationPipe(Offset, 'query parameter offset')) offset: number,
    @Query('limit', new ZodValidationPipe(Limit, 'query parameter limit')) limit: number,
  ): Promise<{ total: number; findings: RedTeamFinding[] }> {
    const filter = bucket ? { contextId, bucket } : { contextId };
    const [total, findings] = await Promise.all([
      this.findings.count(tenantId(tenant), filter),
      this.findings.find(tenantId(tenant), filter, { sort: { updatedAt: -1 }, skip: offset, limit }),
    ]);
    return { total, findings };
  }

  @Get('findings/:findingId')
  async getFinding(
    @Tenant() tenant: string,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Param('findingId', new ZodValidationPipe(Id, 'path parameter findingId')) findingId: string,
  ): Promise<RedTeamFinding> {
    return this.findingOf(tenant, contextId, findingId);
  }

  /**
   * Makes the finding a `red-team` preference (chosen = the right answer or the edit, rejected =
   * the wrong one), published as `feedback.preference.submitted.v1` for the reward-model service
   * to store: 200 `{ preferenceId, finding }`. 409 when the bucket allows no pair.
   */
  @Post('findings/:findingId/preference')
  async toPreference(
    @Tenant() tenant: string,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Param('findingId', new ZodValidationPipe(Id, 'path parameter findingId')) findingId: string,
    @Body(new ZodValidationPipe(ConversionRequest)) body: ConversionRequest,
    @Res({ passthrough: true }) res: { status(code: number): unknown },
  ): Promise<{ preferenceId: string; finding: RedTeamFinding }> {
    const finding = await this.findingOf(tenant, contextId, findingId);
    const now = new Date();
    let preference;
    try {
      preference = preferenceOfFinding(finding, body.editedAnswer, now);
    } catch (error) {
      if (error instanceof FindingConversionError) throw new ConflictException(error.message);
      throw error;
    }
    try {
      await publishEvent(this.bus, FEEDBACK_PREFERENCE_SUBMITTED_V1, {
        tenant: tenantId(tenant),
        contextId,
        data: { version: 'v1', contextId, preference },
        subject: preference.id,
        source: AUDITOR_EVENT_SOURCE,
      });
    } catch (error) {
      throw new ServiceUnavailableException(
        `could not publish ${FEEDBACK_PREFERENCE_SUBMITTED_V1}: ${describeError(error)}; the preference is not confirmed: convert the finding again (it keeps its id)`,
      );
    }
    const updated: RedTeamFinding = {
      ...finding,
      preference: { preferenceId: preference.id, by: body.by, at: now.toISOString(), edited: preference.edited },
    };
    await this.findings.upsert(tenantId(tenant), updated);
    res.status(200);
    return { preferenceId: preference.id, finding: updated };
  }

  /**
   * Makes the finding a seed example of the context (the framer's seed path), for the next
   * dataset version: 200 `{ seedId, added, finding }`. 409 when there is no right answer to teach
   * and no edit; the framer's 409 (another seed under the id) and 422 (an unknown clause) pass through.
   */
  @Post('findings/:findingId/seed')
  async toSeed(
    @Tenant() tenant: string,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Param('findingId', new ZodValidationPipe(Id, 'path parameter findingId')) findingId: string,
    @Body(new ZodValidationPipe(ConversionRequest)) body: ConversionRequest,
    @Res({ passthrough: true }) res: { status(code: number): unknown },
  ): Promise<{ seedId: string; added: boolean; finding: RedTeamFinding }> {
    const finding = await this.findingOf(tenant, contextId, findingId);
    let seed;
    try {
      seed = seedOfFinding(finding, body.editedAnswer);
    } catch (error) {
      if (error instanceof FindingConversionError) throw new ConflictException(error.message);
      throw error;
    }
    const { seedId, added } = await this.framer.addSeed(tenant, contextId, seed).catch(framerRefusal);
    const edited = body.editedAnswer !== undefined && seed.answer !== (rightAnswer(finding)?.text.trim() ?? '');
    const updated: RedTeamFinding = { ...finding, seed: { seedId, by: body.by, at: new Date().toISOString(), edited } };
    await this.findings.upsert(tenantId(tenant), updated);
    res.status(200);
    return { seedId, added, finding: updated };
  }

  private async attacksOf(tenant: string, contextId: string): Promise<ReplayableAttack[]> {
    try {
      return await this.attacks.attacksOf(tenant, contextId);
    } catch (error) {
      return framerRefusal(error);
    }
  }

  /** The run named, or the context's most recently completed one; 404 naming what is missing. */
  private async candidateOf(tenant: string, contextId: string, runId: string | undefined): Promise<AuditCandidate> {
    if (runId !== undefined) {
      const candidate = await this.candidates.get(tenantId(tenant), runId);
      if (!candidate || candidate.contextId !== contextId)
        throw new NotFoundException(
          `training run "${runId}" has not completed in context "${contextId}" (no such run, another context's, or training has not finished)`,
        );
      return candidate;
    }
    const [newest] = await this.candidates.find(tenantId(tenant), { contextId }, { sort: { completedAt: -1 }, limit: 1 });
    if (!newest) throw new NotFoundException(`context "${contextId}" has no completed training run: train a model before red-teaming it`);
    return newest;
  }

  private async trialOf(tenant: string, contextId: string, trialId: string): Promise<RedTeamTrial> {
    const trial = await this.trials.get(tenantId(tenant), trialId);
    if (!trial || trial.contextId !== contextId) throw new NotFoundException(`trial "${trialId}" not found in context "${contextId}"`);
    return trial;
  }

  private async findingOf(tenant: string, contextId: string, findingId: string): Promise<RedTeamFinding> {
    const finding = await this.findings.get(tenantId(tenant), findingId);
    if (!finding || finding.contextId !== contextId)
      throw new NotFoundException(`finding "${findingId}" not found in context "${contextId}"`);
    return finding;
  }
}
