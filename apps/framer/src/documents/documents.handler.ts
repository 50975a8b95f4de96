import { Controller, UseFilters } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DOCUMENT_UPLOADED_V1, type CloudEvent, type DocumentUploadedV1 } from '@studio/contracts';
import { EventBusContext, EventBusExceptionFilter } from '@studio/nest';
import { FrameUploadedDocument } from './frame-uploaded-document';

/** Events the framer consumes about documents. The bus has validated each one against its contract. */
@Controller()
@UseFilters(EventBusExceptionFilter)
export class DocumentEventsHandler {
  constructor(private readonly frameUploadedDocument: FrameUploadedDocument) {}

  @EventPattern(DOCUMENT_UPLOADED_V1)
  async onDocumentUploaded(@Payload() event: CloudEvent<DocumentUploadedV1>, @Ctx() _context: EventBusContext): Promise<void> {
    await this.frameUploadedDocument.execute(event);
  }
}
