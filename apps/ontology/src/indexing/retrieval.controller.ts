import { Body, Controller, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import { ContextId } from '@studio/contracts';
import { Tenant, ZodValidationPipe } from '@studio/nest';
import { retrieveClausesTimed, type RetrievalPorts, type RetrievedClause } from '@studio/pipeline';
import { tenantId } from '@studio/ports';
import { z } from 'zod';
import { RETRIEVAL_PORTS } from '../ontology.ports';

export const RetrieveBody = z.object({ question: z.string().min(1).max(4_000), k: z.number().int().min(1).max(50).default(3) }).strict();
export type RetrieveBody = z.infer<typeof RetrieveBody>;

/** What the retrieval sets on its (Express) response. */
interface TimedResponse {
  setHeader(name: string, value: string): unknown;
}

@Controller('v1/contexts/:contextId')
export class RetrievalController {
  constructor(@Inject(RETRIEVAL_PORTS) private readonly retrieval: RetrievalPorts) {}

  /**
   * The top-k clauses of the context for a question, by hybrid (dense + sparse, RRF) search. The
   * `Server-Timing` header says how long the question's embedding and the vector search took.
   */
  @Post('retrieve')
  @HttpCode(200)
  async retrieve(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Body(new ZodValidationPipe(RetrieveBody)) body: RetrieveBody,
    @Res({ passthrough: true }) res: TimedResponse,
  ): Promise<{ clauses: RetrievedClause[] }> {
    const { clauses, embedMs, searchMs } = await retrieveClausesTimed(
      this.retrieval,
      { tenant: tenantId(tenant), contextId },
      body.question,
      body.k,
    );
    res.setHeader('Server-Timing', `embed;dur=${embedMs.toFixed(2)}, search;dur=${searchMs.toFixed(2)}`);
    return { clauses };
  }
}
