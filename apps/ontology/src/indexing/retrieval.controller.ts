import { Body, Controller, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import { ContextId } from '@studio/contracts';
import { Tenant, ZodValidationPipe } from '@studio/nest';
import type { ExtractedGraph } from '@studio/ontology';
import { retrieveClausesTimed, type OntologyUse, type RetrievalPorts, type RetrievedClause } from '@studio/pipeline';
import { tenantId, type TenantId } from '@studio/ports';
import { z } from 'zod';
import { LATEST_GRAPHS, RETRIEVAL_PORTS } from '../ontology.ports';

export const RetrieveBody = z
  .object({
    question: z.string().min(1).max(4_000),
    k: z.number().int().min(1).max(50).default(3),
    /** Use the context's latest ontology graph (query expansion and boosting); false: plain hybrid search. */
    ontology: z.boolean().default(true),
  })
  .strict();
export type RetrieveBody = z.infer<typeof RetrieveBody>;

/** The latest graph of a context (its concepts and relations), or null when none has been built yet. */
export interface LatestGraphs {
  latest(tenant: TenantId, contextId: string): Promise<ExtractedGraph | null>;
}

/** What the retrieval sets on its (Express) response. */
interface TimedResponse {
  setHeader(name: string, value: string): unknown;
}

@Controller('v1/contexts/:contextId')
export class RetrievalController {
  constructor(
    @Inject(RETRIEVAL_PORTS) private readonly retrieval: RetrievalPorts,
    @Inject(LATEST_GRAPHS) private readonly graphs: LatestGraphs,
  ) {}

  /**
   * The top-k clauses of the context for a question, by hybrid (dense + sparse, RRF) search; with
   * `ontology` (the default) and a graph for the context, the concepts the question names expand
   * the sparse query and the clauses that define or govern them are boosted (`ontology` in the
   * answer says how). The `Server-Timing` header says how long the graph lookup, the question's
   * embedding and the vector search took.
   */
  @Post('retrieve')
  @HttpCode(200)
  async retrieve(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Body(new ZodValidationPipe(RetrieveBody)) body: RetrieveBody,
    @Res({ passthrough: true }) res: TimedResponse,
  ): Promise<{ clauses: RetrievedClause[]; ontology: OntologyUse | null }> {
    const scope = { tenant: tenantId(tenant), contextId };
    const began = performance.now();
    const graph = body.ontology ? await this.graphs.latest(scope.tenant, contextId) : null;
    const graphMs = performance.now() - began;
    const { clauses, embedMs, searchMs, ontology } = await retrieveClausesTimed(this.retrieval, scope, body.question, body.k, {
      ontology: graph,
    });
    res.setHeader('Server-Timing', `graph;dur=${graphMs.toFixed(2)}, embed;dur=${embedMs.toFixed(2)}, search;dur=${searchMs.toFixed(2)}`);
    return { clauses, ontology };
  }
}
