import { Controller, Inject, Logger, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DOCUMENT_UPLOADED_V1, type CloudEvent, type DocumentUploadedV1 } from '@studio/contracts';
import { EventBusExceptionFilter, PUBLISHING, type Publishing } from '@studio/nest';
import { frameUploadedDocument } from '@studio/pipeline';
import {
  ARTIFACTS,
  CLAUSES_REPOSITORY,
  DOCUMENTS_REPOSITORY,
  type Artifacts,
  type ClausesRepository,
  type DocumentsRepository,
} from '../framer.ports';

/** Frames each uploaded document with the pipeline's use case. The bus has validated each event against its contract. */
@Controller()
@UseFilters(EventBusExceptionFilter)
export class DocumentEventsHandler {
  private readonly logger = new Logger(DocumentEventsHandler.name);

  constructor(
    @Inject(PUBLISHING) private readonly publishing: Publishing,
    @Inject(DOCUMENTS_REPOSITORY) private readonly documents: DocumentsRepository,
    @Inject(CLAUSES_REPOSITORY) private readonly clauses: ClausesRepository,
    @Inject(ARTIFACTS) private readonly artifacts: Artifacts,
  ) {}

  @EventPattern(DOCUMENT_UPLOADED_V1)
  async onDocumentUploaded(@Payload() event: CloudEvent<DocumentUploadedV1>): Promise<void> {
    const { document } = await frameUploadedDocument(
      { ...this.publishing, repos: { documents: this.documents, clauses: this.clauses }, artifacts: this.artifacts },
      event,
    );
    const fields = { tenantId: event.tenantid, contextId: document.contextId, documentId: document.id };
    if (document.status === 'rejected') this.logger.warn({ msg: 'document rejected', ...fields, error: document.error });
    else this.logger.log({ msg: 'document framed', ...fields, clauses: document.clauseCount, statements: document.statementCount });
  }
}
