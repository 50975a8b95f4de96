import { Body, Controller, Get, Inject, NotFoundException, Param, Put, Res } from '@nestjs/common';
import { ContextId } from '@studio/contracts';
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

@Controller('v1/contexts')
export class ContextsController {
  constructor(@Inject(CONTEXTS_REPOSITORY) private readonly contexts: Repository<ContextSettings>) {}

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
}
