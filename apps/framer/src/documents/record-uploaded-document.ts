import { Inject, Injectable, Logger } from '@nestjs/common';
import type { CloudEvent, DocumentUploadedV1 } from '@studio/contracts';
import { tenantId, type Repository } from '@studio/ports';
import { documentFromUpload, type PolicyDocument } from './policy-document';

export const DOCUMENTS = Symbol('DOCUMENTS');

/** "Record the document that was uploaded to this context", in the tenant's own scope. */
@Injectable()
export class RecordUploadedDocument {
  private readonly logger = new Logger(RecordUploadedDocument.name);

  constructor(@Inject(DOCUMENTS) private readonly documents: Repository<PolicyDocument>) {}

  async execute(event: CloudEvent<DocumentUploadedV1>): Promise<PolicyDocument> {
    const document = documentFromUpload(event);
    await this.documents.upsert(tenantId(event.tenantid), document);
    this.logger.log({ msg: 'document recorded', tenantId: event.tenantid, contextId: document.contextId, documentId: document.id });
    return document;
  }
}
