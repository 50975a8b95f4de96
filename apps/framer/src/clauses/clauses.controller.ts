import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ContextId, Id } from '@studio/contracts';
import { Tenant, ZodValidationPipe } from '@studio/nest';
import type { ClauseRecord } from '@studio/pipeline';
import { tenantId } from '@studio/ports';
import { CLAUSES_REPOSITORY, type ClausesRepository } from '../framer.ports';

@Controller('v1/contexts/:contextId/clauses')
export class ClausesController {
  constructor(@Inject(CLAUSES_REPOSITORY) private readonly clauses: ClausesRepository) {}

  /** The context's clauses, or one document's (`?documentId=`), in document order. */
  @Get()
  async list(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Query('documentId', new ZodValidationPipe(Id.optional(), 'query parameter documentId')) documentId: string | undefined,
  ): Promise<{ clauses: ClauseRecord[] }> {
    const found = await this.clauses.find(tenantId(tenant), documentId ? { contextId, documentId } : { contextId }, {
      sort: { documentId: 1, position: 1 },
      limit: 20_000,
    });
    return { clauses: found };
  }
}
