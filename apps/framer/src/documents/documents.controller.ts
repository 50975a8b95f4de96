import { Controller, Get, Inject, NotFoundException, Param } from '@nestjs/common';
import { ContextId, Id } from '@studio/contracts';
import { Tenant, ZodValidationPipe } from '@studio/nest';
import type { DocumentRecord } from '@studio/pipeline';
import { tenantId } from '@studio/ports';
import { DOCUMENTS_REPOSITORY, type DocumentsRepository } from '../framer.ports';

/** What the HTTP API shows of a document: everything but the (possibly large) storage URI. */
export type DocumentView = Omit<DocumentRecord, 'storageUri'>;
export function documentView({ storageUri: _storageUri, ...view }: DocumentRecord): DocumentView {
  return view;
}

@Controller('v1/contexts/:contextId/documents')
export class DocumentsController {
  constructor(@Inject(DOCUMENTS_REPOSITORY) private readonly documents: DocumentsRepository) {}

  @Get()
  async list(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
  ): Promise<{ documents: DocumentView[] }> {
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
}
