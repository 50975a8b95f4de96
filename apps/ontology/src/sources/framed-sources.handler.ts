import { Controller, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DOCUMENT_FRAMED_V1, type CloudEvent, type DocumentFramedV1 } from '@studio/contracts';
import { EventBusExceptionFilter } from '@studio/nest';
import { IndexFramedDocument } from '../indexing/index-framed-document';

/** Indexes each framed document's clauses for retrieval. */
@Controller()
@UseFilters(EventBusExceptionFilter)
export class FramedSourcesHandler {
  constructor(private readonly indexFramedDocument: IndexFramedDocument) {}

  @EventPattern(DOCUMENT_FRAMED_V1)
  async onDocumentFramed(@Payload() event: CloudEvent<DocumentFramedV1>): Promise<void> {
    await this.indexFramedDocument.execute(event);
  }
}
