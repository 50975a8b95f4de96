import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ContextId } from '@studio/contracts';
import { Tenant, ZodValidationPipe } from '@studio/nest';
import { tenantId, type Repository } from '@studio/ports';
import { z } from 'zod';
import { DRIFT_WINDOWS_REPOSITORY, type DriftWindowRecord } from './drift-records';

const Limit = z
  .string()
  .regex(/^\d+$/, 'must be a whole number')
  .transform(Number)
  .pipe(z.number().int().min(1, 'must be at least 1').max(500, 'must be at most 500'))
  .default(50);

/** The scored drift windows of a context's deployments, newest first (empty for a context with none, or another tenant's). */
@Controller('v1/contexts/:contextId/drift')
export class DriftController {
  constructor(@Inject(DRIFT_WINDOWS_REPOSITORY) private readonly windows: Repository<DriftWindowRecord>) {}

  @Get()
  async list(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Query('limit', new ZodValidationPipe(Limit, 'query parameter limit')) limit: number,
  ): Promise<{ contextId: string; windows: DriftWindowRecord[] }> {
    const windows = await this.windows.find(tenantId(tenant), { contextId }, { sort: { scoredAt: -1 }, limit });
    return { contextId, windows };
  }
}
