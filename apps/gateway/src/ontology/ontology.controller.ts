import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Param,
  PayloadTooLargeException,
  Post,
  Query,
  Req,
  Res,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiQuery,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { ConceptRole, ConflictStatus, ContextId, GRAPH_UPDATED_V1, GraphDiff, OntologyGraph } from '@studio/contracts';
import { ZodValidationPipe } from '@studio/nest';
import { z } from 'zod';
import { AuditLog } from '../auth/audit-log';
import { Caller, Requires, type Principal } from '../auth/principal';
import { DocumentTooLargeError, readRawBody } from '../documents/upload-document';
import { ProblemDetails, TURTLE_BODY_TYPES } from '../http/problem-details';
import { send } from '../runs/runs.controller';
import { openApi } from '../upstream/api-schemas';
import { ServiceClient, type HttpResponse } from '../upstream/service-client';

/** Audit-log actions of the ontology's curator changes. */
export const ONTOLOGY_CONFLICT_DECIDED = 'ontology.conflict.decided';
export const ONTOLOGY_SKOS_IMPORTED = 'ontology.skos.imported';

/** The most a SKOS import may hold. */
export const MAX_IMPORT_BYTES = 5 * 1024 * 1024;

const WholeNumber = z
  .string()
  .regex(/^\d{1,9}$/, 'must be a whole number')
  .optional();
export const OntologyConceptsQuery = z
  .object({ q: z.string().max(200).optional(), role: ConceptRole.optional(), limit: WholeNumber, offset: WholeNumber })
  .strict();
export const ConflictDecisionRequest = z
  .object({
    decision: z.enum(['confirm', 'dismiss']).describe('confirm: the two clauses do conflict; dismiss: they do not'),
    reason: z.string().trim().min(1).max(2_000).optional().describe('Why, for the next curator'),
  })
  .strict();
export type ConflictDecisionRequest = z.infer<typeof ConflictDecisionRequest>;

const contextIdPipe = () => new ZodValidationPipe(ContextId, 'path parameter contextId');
const segmentPipe = (name: string) => new ZodValidationPipe(z.string().min(1).max(1_000), `path parameter ${name}`);
const base = (contextId: string) => `/v1/contexts/${encodeURIComponent(contextId)}/ontology`;
const defined = (query: Record<string, string | undefined>): Record<string, string> =>
  Object.fromEntries(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));

/** A request body the import reads as it came (Node's IncomingMessage). */
type BodyStream = Parameters<typeof readRawBody>[0];

/**
 * A context's ontology, kept by the ontology service: built from the framed documents' concepts
 * and relations, versioned, exported and imported as SKOS. Reading needs `studio:read`; deciding
 * a conflict candidate `datasets:curate`; importing SKOS `contexts:write`. Every call is confined
 * to the caller's tenant.
 */
@ApiTags('ontology')
@ApiBearerAuth()
@Controller('v1/contexts/:contextId/ontology')
export class OntologyController {
  constructor(
    @Inject(ServiceClient) private readonly upstream: ServiceClient,
    @Inject(AuditLog) private readonly auditLog: AuditLog,
  ) {}

  /** A read forwarded to the ontology service for the caller's tenant, its answer passed on as it came. */
  private async read(res: HttpResponse, caller: Principal, path: string, query: Record<string, string | undefined> = {}): Promise<unknown> {
    return send(res, await this.upstream.forward('ontology', { method: 'GET', path, tenant: caller.tenant, query: defined(query) }));
  }

  @Get()
  @Requires('studio:read')
  @ApiOperation({
    summary: "The context's ontology at its latest version",
    description: `\`{ version, createdAt, documents, conceptCount, relationCount, conceptsByRole, relationsByType }\`. A new version is built when a document of the context is framed or revised, or a SKOS import is accepted (identical content makes none), announced by \`${GRAPH_UPDATED_V1}\`. 404 naming the context when it has no ontology yet.`,
  })
  @ApiParam({ name: 'contextId' })
  @ApiOkResponse({ description: 'The latest version’s summary' })
  @ApiNotFoundResponse({ description: 'The context has no ontology yet (for this tenant)', schema: openApi(ProblemDetails) })
  async summary(
    @Caller() caller: Principal,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return this.read(res, caller, base(contextId));
  }

  @Get('concepts')
  @Requires('studio:read')
  @ApiOperation({
    summary: 'Search the concepts',
    description:
      '`{ total, concepts }`: `q` matches preferred and alternative labels and the definition (case-insensitive), `role` is term, actor, action or object; `limit` 1–1000 (default 50), `offset`.',
  })
  @ApiParam({ name: 'contextId' })
  @ApiQuery({ name: 'q', required: false })
  @ApiQuery({ name: 'role', required: false, enum: ConceptRole.options })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'offset', required: false })
  @ApiOkResponse({ description: 'A page of concepts' })
  @ApiNotFoundResponse({ description: 'The context has no ontology yet', schema: openApi(ProblemDetails) })
  async concepts(
    @Caller() caller: Principal,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Query(new ZodValidationPipe(OntologyConceptsQuery, 'query')) query: z.infer<typeof OntologyConceptsQuery>,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return this.read(res, caller, `${base(contextId)}/concepts`, query);
  }

  @Get('concepts/:conceptId')
  @Requires('studio:read')
  @ApiOperation({
    summary: 'One concept with its clauses and neighbours',
    description:
      '`{ concept, definedBy: [{ clauseId, numbering, text }], governedBy: [{ clauseId, numbering, citation?, statementKind }], broader, narrower, related }` (narrower is the inverse of the stored broader).',
  })
  @ApiParam({ name: 'contextId' })
  @ApiParam({ name: 'conceptId' })
  @ApiOkResponse({ description: 'The concept' })
  @ApiNotFoundResponse({ description: 'No such concept, or no ontology yet', schema: openApi(ProblemDetails) })
  async concept(
    @Caller() caller: Principal,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Param('conceptId', segmentPipe('conceptId')) conceptId: string,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    const path = `${base(contextId)}/concepts/${encodeURIComponent(conceptId)}`;
    return this.read(res, caller, path);
  }

  @Get('concepts/:conceptId/neighbourhood')
  @Requires('studio:read')
  @ApiOperation({
    summary: "A concept's neighbourhood, to draw",
    description:
      'The concepts and clauses within `depth` (1 or 2, default 1) relations of the concept: `{ nodes: [{ id, kind: concept|clause, label }], edges: [{ id, type, from, to, statementKind }] }`.',
  })
  @ApiParam({ name: 'contextId' })
  @ApiParam({ name: 'conceptId' })
  @ApiQuery({ name: 'depth', required: false, enum: ['1', '2'] })
  @ApiOkResponse({ description: 'Nodes and edges' })
  @ApiNotFoundResponse({ description: 'No such concept, or no ontology yet', schema: openApi(ProblemDetails) })
  async neighbourhood(
    @Caller() caller: Principal,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Param('conceptId', segmentPipe('conceptId')) conceptId: string,
    @Query('depth', new ZodValidationPipe(z.enum(['1', '2']).optional(), 'query parameter depth')) depth: '1' | '2' | undefined,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    const path = `${base(contextId)}/concepts/${encodeURIComponent(conceptId)}/neighbourhood`;
    return this.read(res, caller, path, { depth });
  }

  @Get('versions/:version')
  @Requires('studio:read')
  @ApiOperation({ summary: 'One version of the graph', description: 'The whole graph: documents, concepts, relations, createdAt.' })
  @ApiParam({ name: 'contextId' })
  @ApiParam({ name: 'version' })
  @ApiOkResponse({ description: 'The version', schema: openApi(OntologyGraph) })
  @ApiNotFoundResponse({ description: 'No such version', schema: openApi(ProblemDetails) })
  async version(
    @Caller() caller: Principal,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Param('version', new ZodValidationPipe(z.string().regex(/^[1-9]\d{0,8}$/, 'must be a version number'), 'path parameter version'))
    version: string,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return this.read(res, caller, `${base(contextId)}/versions/${version}`);
  }

  @Get('diff')
  @Requires('studio:read')
  @ApiOperation({
    summary: 'What changed between two versions',
    description: 'Concepts and relations added and removed from `from` to `to` (default: the latest and the one before it).',
  })
  @ApiParam({ name: 'contextId' })
  @ApiQuery({ name: 'from', required: false })
  @ApiQuery({ name: 'to', required: false })
  @ApiOkResponse({ description: 'The diff', schema: openApi(GraphDiff) })
  @ApiNotFoundResponse({ description: 'No such version', schema: openApi(ProblemDetails) })
  async diff(
    @Caller() caller: Principal,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Query('from', new ZodValidationPipe(WholeNumber, 'query parameter from')) from: string | undefined,
    @Query('to', new ZodValidationPipe(WholeNumber, 'query parameter to')) to: string | undefined,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return this.read(res, caller, `${base(contextId)}/diff`, { from, to });
  }

  @Get('conflicts')
  @Requires('studio:read')
  @ApiOperation({
    summary: 'Conflict candidates',
    description:
      'conflictsWith relations of the latest version (same actor and action, opposite modality, overlapping conditions) with both clauses: `{ conflicts: [relation & { left, right }] }`; `status` candidate, confirmed or dismissed.',
  })
  @ApiParam({ name: 'contextId' })
  @ApiQuery({ name: 'status', required: false, enum: ConflictStatus.options })
  @ApiOkResponse({ description: 'The conflicts' })
  @ApiNotFoundResponse({ description: 'The context has no ontology yet', schema: openApi(ProblemDetails) })
  async conflicts(
    @Caller() caller: Principal,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Query('status', new ZodValidationPipe(ConflictStatus.optional(), 'query parameter status')) status: string | undefined,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return this.read(res, caller, `${base(contextId)}/conflicts`, { status });
  }

  @Post('conflicts/:relationId')
  @HttpCode(200)
  @Requires('datasets:curate')
  @ApiOperation({
    summary: 'Confirm or dismiss a conflict candidate',
    description: `The decision (with the caller and the reason) is kept per relation and applies to every later version of the graph, and recorded in the audit log (\`${ONTOLOGY_CONFLICT_DECIDED}\`). Answers the relation with its status. 404 when the latest version has no such relation, 422 when it is not a conflictsWith relation.`,
  })
  @ApiParam({ name: 'contextId' })
  @ApiParam({ name: 'relationId' })
  @ApiBody({ schema: openApi(ConflictDecisionRequest) })
  @ApiOkResponse({ description: 'The relation with its status' })
  @ApiForbiddenResponse({ description: 'The caller may not curate (datasets:curate)' })
  @ApiNotFoundResponse({ description: 'No such relation', schema: openApi(ProblemDetails) })
  @ApiUnprocessableEntityResponse({ description: 'The relation is not a conflict candidate', schema: openApi(ProblemDetails) })
  async decide(
    @Caller() caller: Principal,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Param('relationId', segmentPipe('relationId')) relationId: string,
    @Body(new ZodValidationPipe(ConflictDecisionRequest)) body: ConflictDecisionRequest,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    const path = `${base(contextId)}/conflicts/${encodeURIComponent(relationId)}`;
    const answer = await this.upstream.forward('ontology', {
      method: 'POST',
      path,
      tenant: caller.tenant,
      body: { ...body, by: caller.subject },
    });
    const relation = answer.body as { status?: unknown };
    await this.auditLog.record({
      actor: caller,
      action: ONTOLOGY_CONFLICT_DECIDED,
      target: `relation:${relationId}`,
      before: null,
      after: { contextId, status: relation.status ?? null, reason: body.reason ?? null },
    });
    return send(res, answer);
  }

  @Get('export')
  @Requires('studio:read')
  @ApiOperation({
    summary: 'Export as SKOS',
    description:
      'The latest version as SKOS Turtle (`format=turtle`, default) or JSON-LD (`format=jsonld`): concepts with skos:prefLabel, altLabel, definition, broader/narrower/related, and clause links (defines, governs, exceptionOf, refersTo, conflictsWith) in the project vocabulary.',
  })
  @ApiParam({ name: 'contextId' })
  @ApiQuery({ name: 'format', required: false, enum: ['turtle', 'jsonld'] })
  @ApiProduces('text/turtle', 'application/ld+json')
  @ApiOkResponse({ description: 'The SKOS document' })
  @ApiNotFoundResponse({ description: 'The context has no ontology yet', schema: openApi(ProblemDetails) })
  async export(
    @Caller() caller: Principal,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Query('format', new ZodValidationPipe(z.enum(['turtle', 'jsonld']).optional(), 'query parameter format')) format: string | undefined,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    const answer = await this.upstream.forward('ontology', {
      method: 'GET',
      path: `${base(contextId)}/export`,
      tenant: caller.tenant,
      query: defined({ format }),
    });
    res.status(answer.status);
    res.type(answer.contentType);
    return answer.body;
  }

  @Post('import')
  @HttpCode(200)
  @Requires('contexts:write')
  @ApiOperation({
    summary: 'Import SKOS Turtle',
    description: `The body is SKOS Turtle (text/turtle): its concepts replace the labels and definition of the same concepts (origin imported) and new ones are added, with their relations, over what the documents give, in this and every later version until the next import. \`{ version, diff }\`, recorded in the audit log (\`${ONTOLOGY_SKOS_IMPORTED}\`); the same import again makes no new version. 422 naming the line or term when the Turtle cannot be read. At most ${MAX_IMPORT_BYTES} bytes.`,
  })
  @ApiParam({ name: 'contextId' })
  @ApiBody({ description: 'SKOS Turtle', schema: { type: 'string' } })
  @ApiOkResponse({ description: '`{ version, diff }`' })
  @ApiForbiddenResponse({ description: 'The caller may not change contexts (contexts:write)' })
  @ApiUnprocessableEntityResponse({
    description: 'The Turtle cannot be imported; the message names the problem',
    schema: openApi(ProblemDetails),
  })
  async import(
    @Caller() caller: Principal,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Req() req: BodyStream,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    const header = req.headers['content-type'];
    const contentType = ((Array.isArray(header) ? header[0] : header) ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (!TURTLE_BODY_TYPES.includes(contentType))
      throw new UnsupportedMediaTypeException({
        message: `a SKOS import is sent as text/turtle, not ${contentType || 'a body without a content type'}`,
        accepted: TURTLE_BODY_TYPES,
      });
    let bytes: Uint8Array;
    try {
      bytes = await readRawBody(req, MAX_IMPORT_BYTES);
    } catch (error) {
      if (error instanceof DocumentTooLargeError)
        throw new PayloadTooLargeException(`the Turtle is ${error.sizeBytes} bytes; the limit is ${error.maxBytes} bytes`);
      throw error;
    }
    let turtle: string;
    try {
      turtle = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new BadRequestException('the Turtle is not valid UTF-8');
    }
    if (turtle.trim() === '') throw new BadRequestException('the Turtle is empty: send the SKOS document as the body');
    const answer = await this.upstream.forward('ontology', {
      method: 'POST',
      path: `${base(contextId)}/import`,
      tenant: caller.tenant,
      body: { turtle },
      timeoutMs: 120_000,
    });
    const imported = answer.body as { version?: unknown; diff?: { conceptsAdded?: unknown[]; relationsAdded?: unknown[] } };
    await this.auditLog.record({
      actor: caller,
      action: ONTOLOGY_SKOS_IMPORTED,
      target: `context:${contextId}`,
      before: null,
      after: {
        version: imported.version ?? null,
        bytes: bytes.length,
        conceptsAdded: imported.diff?.conceptsAdded?.length ?? 0,
        relationsAdded: imported.diff?.relationsAdded?.length ?? 0,
      },
    });
    return send(res, answer);
  }
}
