import { Controller, Get, Inject, NotFoundException, Param, Query } from '@nestjs/common';
import { ContextId, Id, type DocumentDiffV1, type DocumentVersionsV1 } from '@studio/contracts';
import { Tenant, ZodValidationPipe } from '@studio/nest';
import { DiffQuery, diffDocumentVersions, listDocumentVersions, PipelineNotFoundError, type DocumentRecord } from '@studio/pipeline';
import { tenantId, type Repository } from '@studio/ports';
import { CONTEXTS_REPOSITORY, type ContextSettings } from '../contexts/context-settings';
import { assertKnownContext } from '../contexts/known-context';
import type { z } from 'zod';
import {
  ARTIFACTS,
  DOCUMENT_VERSIONS_REPOSITORY,
  DOCUMENTS_REPOSITORY,
  type Artifacts,
  type DocumentsRepository,
  type DocumentVersionsRepository,
} from '../framer.ports';

/** What the HTTP API shows of a document: everything but the (possibly large) storage URI. */
export type DocumentView = Omit<DocumentRecord, 'storageUri'>;
export function documentView({ storageUri: _storageUri, ...view }: DocumentRecord): DocumentView {
  return view;
}

@Controller('v1/contexts/:contextId/documents')
export class DocumentsController {
  constructor(
    @Inject(DOCUMENTS_REPOSITORY) private readonly documents: DocumentsRepository,
    @Inject(DOCUMENT_VERSIONS_REPOSITORY) private readonly documentVersions: DocumentVersionsRepository,
    @Inject(ARTIFACTS) private readonly artifacts: Artifacts,
    @Inject(CONTEXTS_REPOSITORY) private readonly contexts: Repository<ContextSettings>,
  ) {}

  @Get()
  async list(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
  ): Promise<{ documents: DocumentView[] }> {
    await assertKnownContext({ contexts: this.contexts, documents: this.documents }, tenant, contextId);
    const found = await this.documents.find(tenantId(tenant), { contextId }, { sort: { receivedAt: -1 }, limit: 500 });
    return { documents: found.map(documentView) };
  }

  @Get(':documentId')
  async get(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Param('documentId', new ZodValidationPipe(Id, 'path parameter documentId')) documentId: string,
  ): Promise<DocumentView> {
    const document = await this.documents.get(tenantId(tenant), documentId);
    if (!document || document.contextId !== contextId)
      throw new NotFoundException(`document "${documentId}" not found in context "${contextId}"`);
    return documentView(document);
  }

  /** The document's versions, newest first, each with its clause changes against the one it revised. */
  @Get(':documentId/versions')
  async versions(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Param('documentId', new ZodValidationPipe(Id, 'path parameter documentId')) documentId: string,
  ): Promise<DocumentVersionsV1> {
    return this.found(() => listDocumentVersions(this.ports(), tenantId(tenant), contextId, documentId));
  }

  /** The clause-level diff of two framed versions (`?from=&to=`; by default the current one against the one it revised). */
  @Get(':documentId/diff')
  async diff(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Param('documentId', new ZodValidationPipe(Id, 'path parameter documentId')) documentId: string,
    @Query(new ZodValidationPipe(DiffQuery, 'query')) query: z.infer<typeof DiffQuery>,
  ): Promise<DocumentDiffV1> {
    return this.found(() => diffDocumentVersions(this.ports(), tenantId(tenant), contextId, documentId, query));
  }

  private ports() {
    return { repos: { documents: this.documents, documentVersions: this.documentVersions }, artifacts: this.artifacts };
  }

  private async found<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (error instanceof PipelineNotFoundError) throw new NotFoundException(error.message);
      throw error;
    }
  }
}
