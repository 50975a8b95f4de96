import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
  Res,
  UnprocessableEntityException,
} from '@nestjs/common';
import { ConceptRole, ConflictStatus, ContextId, type GraphDiff, type OntologyGraph, type Relation } from '@studio/contracts';
import { Tenant, ZodValidationPipe } from '@studio/nest';
import { tenantId } from '@studio/ports';
import { z } from 'zod';
import { GRAPH_PORTS } from '../ontology.ports';
import {
  conceptDetail,
  conflicts,
  decideConflict,
  diffVersions,
  exportGraph,
  GraphNotFoundError,
  GraphRequestError,
  importSkos,
  neighbourhood,
  publicGraph,
  readGraph,
  searchConcepts,
  summarise,
  type ConceptDetail,
  type ConflictView,
  type GraphPorts,
  type GraphSummary,
  type Neighbourhood,
} from './graph-store';

const WholeNumber = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, `${name} must be a whole number`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `${name} must be between ${min} and ${max}`);

export const ConceptsQuery = z
  .object({
    q: z.string().max(200).optional(),
    role: ConceptRole.optional(),
    limit: WholeNumber('limit', 1, 1000).optional(),
    offset: WholeNumber('offset', 0, 1_000_000).optional(),
  })
  .strict();
export const NeighbourhoodQuery = z.object({ depth: z.enum(['1', '2']).optional() }).strict();
export const DiffQuery = z.object({ from: WholeNumber('from', 1, 1e9).optional(), to: WholeNumber('to', 1, 1e9).optional() }).strict();
export const ConflictsQuery = z.object({ status: ConflictStatus.optional() }).strict();
export const ExportQuery = z.object({ format: z.enum(['turtle', 'jsonld']).optional() }).strict();
/** A curator's decision; the gateway adds `by` (the caller's subject). */
export const ConflictDecisionBody = z
  .object({
    decision: z.enum(['confirm', 'dismiss']),
    reason: z.string().trim().min(1).max(2_000).optional(),
    by: z.string().min(1).max(300).optional(),
  })
  .strict();
export type ConflictDecisionBody = z.infer<typeof ConflictDecisionBody>;
/** The gateway forwards a text/turtle upload as `{ turtle }`. */
export const ImportBody = z.object({ turtle: z.string().min(1, 'the Turtle is empty').max(20_000_000) }).strict();
export type ImportBody = z.infer<typeof ImportBody>;

const contextPipe = () => new ZodValidationPipe(ContextId, 'path parameter contextId');
const idPipe = (name: string) => new ZodValidationPipe(z.string().min(1).max(1_000), `path parameter ${name}`);

/** What the export sets on its (Express) response. */
interface TypedResponse {
  type(contentType: string): unknown;
}

/** The graph's errors as HTTP answers: 404 for what does not exist, 422 for what the graph cannot take. */
async function answer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof GraphNotFoundError) throw new NotFoundException(error.message);
    if (error instanceof GraphRequestError) throw new UnprocessableEntityException(error.message);
    throw error;
  }
}

/**
 * A context's ontology: the latest graph's summary, its concepts (search, one with its clauses and
 * neighbours, a neighbourhood to draw), any version and the diff of two, the conflict candidates
 * and the curators' decisions on them, SKOS export and import. Every route is confined to the
 * caller's tenant (the gateway's `x-tenant-id`).
 */
@Controller('v1/contexts/:contextId/ontology')
export class OntologyController {
  constructor(@Inject(GRAPH_PORTS) private readonly ports: GraphPorts) {}

  @Get()
  summary(@Tenant() tenant: string, @Param('contextId', contextPipe()) contextId: string): Promise<GraphSummary> {
    return answer(async () => summarise(await readGraph(this.ports, tenantId(tenant), contextId)));
  }

  @Get('concepts')
  concepts(
    @Tenant() tenant: string,
    @Param('contextId', contextPipe()) contextId: string,
    @Query(new ZodValidationPipe(ConceptsQuery, 'query')) query: z.infer<typeof ConceptsQuery>,
  ): Promise<ReturnType<typeof searchConcepts>> {
    return answer(async () =>
      searchConcepts(await readGraph(this.ports, tenantId(tenant), contextId), {
        q: query.q,
        role: query.role,
        limit: query.limit ?? 50,
        offset: query.offset ?? 0,
      }),
    );
  }

  @Get('concepts/:conceptId')
  concept(
    @Tenant() tenant: string,
    @Param('contextId', contextPipe()) contextId: string,
    @Param('conceptId', idPipe('conceptId')) conceptId: string,
  ): Promise<ConceptDetail> {
    return answer(async () => conceptDetail(await readGraph(this.ports, tenantId(tenant), contextId), conceptId));
  }

  @Get('concepts/:conceptId/neighbourhood')
  neighbourhood(
    @Tenant() tenant: string,
    @Param('contextId', contextPipe()) contextId: string,
    @Param('conceptId', idPipe('conceptId')) conceptId: string,
    @Query(new ZodValidationPipe(NeighbourhoodQuery, 'query')) query: z.infer<typeof NeighbourhoodQuery>,
  ): Promise<Neighbourhood> {
    return answer(async () =>
      neighbourhood(await readGraph(this.ports, tenantId(tenant), contextId), conceptId, query.depth === '2' ? 2 : 1),
    );
  }

  @Get('versions/:version')
  version(
    @Tenant() tenant: string,
    @Param('contextId', contextPipe()) contextId: string,
    @Param('version', new ZodValidationPipe(WholeNumber('version', 1, 1e9), 'path parameter version')) version: number,
  ): Promise<OntologyGraph> {
    return answer(async () => publicGraph(await readGraph(this.ports, tenantId(tenant), contextId, version)));
  }

  /** The diff of two versions; `to` defaults to the latest, `from` to the one before `to`. */
  @Get('diff')
  diff(
    @Tenant() tenant: string,
    @Param('contextId', contextPipe()) contextId: string,
    @Query(new ZodValidationPipe(DiffQuery, 'query')) query: z.infer<typeof DiffQuery>,
  ): Promise<GraphDiff> {
    return answer(async () => {
      const t = tenantId(tenant);
      const to = query.to ?? (await readGraph(this.ports, t, contextId)).version;
      const from = query.from ?? to - 1;
      if (from < 1) throw new GraphRequestError(`version ${to} is the first: give "from" to compare it with`);
      return diffVersions(this.ports, t, contextId, from, to);
    });
  }

  @Get('conflicts')
  conflicts(
    @Tenant() tenant: string,
    @Param('contextId', contextPipe()) contextId: string,
    @Query(new ZodValidationPipe(ConflictsQuery, 'query')) query: z.infer<typeof ConflictsQuery>,
  ): Promise<{ conflicts: ConflictView[] }> {
    return answer(async () => ({ conflicts: conflicts(await readGraph(this.ports, tenantId(tenant), contextId), query.status) }));
  }

  @Post('conflicts/:relationId')
  @HttpCode(200)
  decide(
    @Tenant() tenant: string,
    @Param('contextId', contextPipe()) contextId: string,
    @Param('relationId', idPipe('relationId')) relationId: string,
    @Body(new ZodValidationPipe(ConflictDecisionBody)) body: ConflictDecisionBody,
  ): Promise<Relation> {
    return answer(() =>
      decideConflict(this.ports, tenantId(tenant), {
        contextId,
        relationId,
        decision: body.decision,
        reason: body.reason ?? null,
        by: body.by ?? 'unknown',
      }),
    );
  }

  @Get('export')
  async export(
    @Tenant() tenant: string,
    @Param('contextId', contextPipe()) contextId: string,
    @Query(new ZodValidationPipe(ExportQuery, 'query')) query: z.infer<typeof ExportQuery>,
    @Res({ passthrough: true }) res: TypedResponse,
  ): Promise<string | Record<string, unknown>> {
    const exported = await answer(() => exportGraph(this.ports, tenantId(tenant), contextId, query.format ?? 'turtle'));
    res.type(exported.contentType);
    return exported.body;
  }

  @Post('import')
  @HttpCode(200)
  import(
    @Tenant() tenant: string,
    @Param('contextId', contextPipe()) contextId: string,
    @Body(new ZodValidationPipe(ImportBody)) body: ImportBody,
  ): Promise<{ version: number; diff: GraphDiff }> {
    return answer(async () => {
      const { version, diff } = await importSkos(this.ports, tenantId(tenant), { contextId, turtle: body.turtle });
      return { version, diff };
    });
  }
}
