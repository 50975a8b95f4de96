import { Controller, Inject, Logger, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DOCUMENT_FRAMED_V1, type CloudEvent, type DocumentFramedV1 } from '@studio/contracts';
import { EventBusExceptionFilter } from '@studio/nest';
import { tenantId, type Repository } from '@studio/ports';
import { sourceFromFramed, type FramedSource } from './framed-source';

export const FRAMED_SOURCES_REPOSITORY = Symbol('FRAMED_SOURCES_REPOSITORY');

/** Records each framed document as a source awaiting concept linking and indexing. */
@Controller()
@UseFilters(EventBusExceptionFilter)
export class FramedSourcesHandler {
  private readonly logger = new Logger(FramedSourcesHandler.name);

  constructor(@Inject(FRAMED_SOURCES_REPOSITORY) private readonly sources: Repository<FramedSource>) {}

  @EventPattern(DOCUMENT_FRAMED_V1)
  async onDocumentFramed(@Payload() event: CloudEvent<DocumentFramedV1>): Promise<void> {
    const source = sourceFromFramed(event);
    await this.sources.upsert(tenantId(event.tenantid), source);
    this.logger.log({ msg: 'framed source recorded', tenantId: event.tenantid, contextId: source.contextId, documentId: source.id, clauses: source.clauseIds.length });
  }
}
