import { Controller, Get, Inject, NotFoundException, Param } from '@nestjs/common';
import { ContextId, Id } from '@studio/contracts';
import { Tenant, ZodValidationPipe } from '@studio/nest';
import { tenantId, type Repository } from '@studio/ports';
import { documentView, type PolicyDocument, type PolicyDocumentView } from './policy-document';
import { DOCUMENTS } from './record-uploaded-document';

@Controller('v1/contexts/:contextId/documents')
export class DocumentsController {
  constructor(@Inject(DOCUMENTS) private readonly documents: Repository<PolicyDocument>) {}

  @Get()
  async list(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
  ): Promise<{ documents: PolicyDocumentView[] }> {
    const found = await this.documents.find(tenantId(tenant), { contextId }, { sort: { receivedAt: -1 }, limit: 500 });
    return { documents: found.map(documentView) };
  }

  @Get(':documentId')
  async get(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Param('documentId', new ZodValidationPipe(Id, 'path parameter documentId')) documentId: string,
  ): Promise<PolicyDocumentView> {
    const document = await this.documents.get(tenantId(tenant), documentId);
    if (!document || document.contextId !== contextId)
      throw new NotFoundException(`document "${documentId}" not found in context "${contextId}"`);
    return documentView(document);
  }
}
