import {
  Body,
  ConflictException,
  Controller,
  Get,
  Inject,
  NotFoundException,
  Param,
  Post,
  Put,
  Res,
  UnprocessableEntityException,
} from '@nestjs/common';
import { ContextId } from '@studio/contracts';
import { appendSeed, normaliseClauseRef, numberingKey, SeedAppendError, SeedLine } from '@studio/framing';
import { Tenant, ZodValidationPipe } from '@studio/nest';
import { tenantId, type Repository } from '@studio/ports';
import {
  contextFrom,
  contextSummary,
  CONTEXTS_REPOSITORY,
  ContextSettingsBody,
  type ContextSettings,
  type ContextSummary,
} from './context-settings';
import { CLAUSES_REPOSITORY, type ClausesRepository } from '../framer.ports';

@Controller('v1/contexts')
export class ContextsController {
  constructor(
    @Inject(CONTEXTS_REPOSITORY) private readonly contexts: Repository<ContextSettings>,
    @Inject(CLAUSES_REPOSITORY) private readonly clauses: ClausesRepository,
  ) {}

  /** Creates (201) or replaces (200) a context's settings. */
  @Put(':contextId')
  async put(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Body(new ZodValidationPipe(ContextSettingsBody)) body: ContextSettingsBody,
    @Res({ passthrough: true }) res: { status(code: number): unknown },
  ): Promise<ContextSettings> {
    const existing = await this.contexts.get(tenantId(tenant), contextId);
    const context = contextFrom(contextId, body, existing, new Date());
    await this.contexts.upsert(tenantId(tenant), context);
    res.status(existing ? 200 : 201);
    return context;
  }

  /** The tenant's contexts, most recently changed first, without their seed text (GET one context for it). */
  @Get()
  async list(@Tenant() tenant: string): Promise<{ contexts: ContextSummary[] }> {
    const found = await this.contexts.find(tenantId(tenant), {}, { sort: { updatedAt: -1 }, limit: 1000 });
    return { contexts: found.map(contextSummary) };
  }

  @Get(':contextId')
  async get(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
  ): Promise<ContextSettings> {
    const context = await this.contexts.get(tenantId(tenant), contextId);
    if (!context) throw new NotFoundException(`context "${contextId}" not found: create it with POST /v1/contexts`);
    return context;
  }

  /**
   * Adds one seed example (a JSON line of the seeds format) to the context's seeds, for the next
   * dataset version: 201 `{ seedId, added: true }`, or 200 with `added: false` when the same seed is
   * there already. Every clause reference must name a current clause of the context (422 naming
   * those that do not); 409 when another seed has the id, or the seeds are an InstructLab qna.yaml.
   */
  @Post(':contextId/seeds')
  async addSeed(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Body(new ZodValidationPipe(SeedLine.strict())) body: SeedLine,
    @Res({ passthrough: true }) res: { status(code: number): unknown },
  ): Promise<{ seedId: string; added: boolean }> {
    const context = await this.contexts.get(tenantId(tenant), contextId);
    if (!context) throw new NotFoundException(`context "${contextId}" not found: create it with POST /v1/contexts`);
    const current = await this.clauses.find(tenantId(tenant), { contextId }, { limit: 20_000 });
    const known = new Set(current.map((c) => numberingKey(c.numbering).toLowerCase()));
    const unknown = body.clause_refs.filter((ref) => !known.has(normaliseClauseRef(ref)));
    if (unknown.length > 0)
      throw new UnprocessableEntityException(
        `clause_refs ${unknown.map((r) => `"${r}"`).join(', ')} ${unknown.length === 1 ? 'names no current clause' : 'name no current clauses'} of context "${contextId}"`,
      );
    let next;
    try {
      next = appendSeed(context.seeds, body);
    } catch (error) {
      if (error instanceof SeedAppendError) throw new ConflictException({ message: error.message, problem: error.problem });
      throw error;
    }
    if (next.added) await this.contexts.upsert(tenantId(tenant), { ...context, seeds: next.seeds, updatedAt: new Date().toISOString() });
    res.status(next.added ? 201 : 200);
    return { seedId: body.id, added: next.added };
  }
}
