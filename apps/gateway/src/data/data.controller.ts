import { Controller, Get, Inject, Param, Query, Res } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ContextId, Id } from '@studio/contracts';
import { ZodValidationPipe } from '@studio/nest';
import { CallerTenant, Requires } from '../auth/principal';
import { send } from '../runs/runs.controller';
import { ServiceClient, type HttpResponse } from '../upstream/service-client';
import { ClausesQuery, type ClausesQueryParams } from './data-api-schemas';

/** Query values as the forwarded request's query string (undefined ones left out). */
export function queryOf(query: Record<string, string | number | boolean | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(query).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]])));
}

const path = (...parts: string[]) => `/v1/contexts/${parts.map(encodeURIComponent).join('/')}`;

/** What the studio reads of contexts, their documents and clauses; the framer owns them. */
@ApiTags('contexts')
@Controller('v1/contexts')
export class ContextDataController {
  constructor(@Inject(ServiceClient) private readonly upstream: ServiceClient) {}

  @Get()
  @Requires('studio:read')
  @ApiOperation({
    summary: "The tenant's contexts",
    description: 'Most recently changed first: `{ contexts: [{ id, name, values, thresholds, hasSeeds, createdAt, updatedAt }] }`.',
  })
  @ApiOkResponse({ description: 'The contexts' })
  async list(@CallerTenant() tenant: string, @Res({ passthrough: true }) res: HttpResponse): Promise<unknown> {
    return send(res, await this.upstream.forward('framer', { method: 'GET', path: '/v1/contexts', tenant }));
  }

  @Get(':contextId')
  @Requires('studio:read')
  @ApiOperation({ summary: 'A context', description: 'Its settings: name, values, thresholds, seeds, createdAt, updatedAt.' })
  @ApiParam({ name: 'contextId' })
  @ApiOkResponse({ description: 'The context' })
  @ApiNotFoundResponse({ description: 'No such context for this tenant' })
  async get(
    @CallerTenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return send(res, await this.upstream.forward('framer', { method: 'GET', path: path(contextId), tenant }));
  }

  @Get(':contextId/documents')
  @Requires('studio:read')
  @ApiOperation({
    summary: "The context's documents",
    description:
      'Newest upload first: `{ documents: [{ id, contextId, filename, mediaType, sha256, sizeBytes, status (received, framed, rejected), title, clauseCount, statementCount, clausesUri, error, receivedAt, uploadEventId, version }] }`.',
  })
  @ApiParam({ name: 'contextId' })
  @ApiOkResponse({ description: 'The documents' })
  @ApiNotFoundResponse({ description: 'No such context for this tenant' })
  async documents(
    @CallerTenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return send(res, await this.upstream.forward('framer', { method: 'GET', path: path(contextId, 'documents'), tenant }));
  }

  @Get(':contextId/documents/:documentId')
  @Requires('studio:read')
  @ApiOperation({ summary: 'A document', description: 'Its current version: status, title, clause and statement counts, version.' })
  @ApiParam({ name: 'contextId' })
  @ApiParam({ name: 'documentId' })
  @ApiOkResponse({ description: 'The document' })
  @ApiNotFoundResponse({ description: 'No such document in this context for this tenant' })
  async document(
    @CallerTenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Param('documentId', new ZodValidationPipe(Id, 'path parameter documentId')) documentId: string,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return send(res, await this.upstream.forward('framer', { method: 'GET', path: path(contextId, 'documents', documentId), tenant }));
  }

  @Get(':contextId/clauses')
  @Requires('studio:read')
  @ApiOperation({
    summary: "The context's clauses, for the clause browser",
    description:
      "The current clauses of the context's documents (or of one, `documentId`), in document order: `{ total, clauses: [{ id, documentId, position, numbering, citation, title (section), heading (run-in), kind (paragraph, list-item, qa, example, note), parentId (the numbering tree), headingPath, text, statements: [{ id, kind (obligation, prohibition, permission, exception, definition), actor, party, action, condition, exception, modality, sentence }] }] }`. `q` keeps the clauses containing every term of it (word prefixes) in their numbering, citation, titles, text or statement kinds; `total` counts them all.",
  })
  @ApiParam({ name: 'contextId' })
  @ApiQuery({ name: 'q', required: false })
  @ApiQuery({ name: 'documentId', required: false })
  @ApiOkResponse({ description: 'The clauses' })
  @ApiNotFoundResponse({ description: 'No such context for this tenant' })
  async clauses(
    @CallerTenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Query(new ZodValidationPipe(ClausesQuery, 'query')) query: ClausesQueryParams,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    return send(
      res,
      await this.upstream.forward('framer', {
        method: 'GET',
        path: path(contextId, 'clauses'),
        tenant,
        query: queryOf({ ...query, annotate: true }),
      }),
    );
  }
}
