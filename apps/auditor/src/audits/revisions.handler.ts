import { Controller, Inject, Logger, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DOCUMENT_REVISED_V1, type CloudEvent, type DocumentRevisedV1 } from '@studio/contracts';
import { EventBusExceptionFilter } from '@studio/nest';
import { markStaleAudits, type AuditRunRecord } from '@studio/pipeline';
import { tenantId, type Repository } from '@studio/ports';
import { AUDITS_REPOSITORY } from './run-audit';

/**
 * Marks the audits a document revision made stale: those of the dataset versions whose examples
 * cite clauses the new version changed, removed or renumbered. Idempotent (a redelivered
 * revision is recorded once per audit).
 */
@Controller()
@UseFilters(EventBusExceptionFilter)
export class RevisionsHandler {
  private readonly logger = new Logger(RevisionsHandler.name);

  constructor(@Inject(AUDITS_REPOSITORY) private readonly audits: Repository<AuditRunRecord>) {}

  @EventPattern(DOCUMENT_REVISED_V1)
  async onDocumentRevised(@Payload() event: CloudEvent<DocumentRevisedV1>): Promise<void> {
    const marked = await markStaleAudits(this.audits, tenantId(event.tenantid), event.data, new Date(event.time));
    if (marked.length > 0)
      this.logger.log({
        msg: 'audits marked stale',
        tenantId: event.tenantid,
        contextId: event.data.contextId,
        documentId: event.data.documentId,
        toVersion: event.data.toVersion,
        audits: marked.map((a) => a.id),
      });
  }
}
