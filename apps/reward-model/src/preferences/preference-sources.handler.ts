import { Controller, Inject, Logger, UseFilters } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  AUDIT_RUN_COMPLETED_V1,
  DATASET_VERSION_PUBLISHED_V1,
  FEEDBACK_PREFERENCE_SUBMITTED_V1,
  type AuditRunCompletedV1,
  type CloudEvent,
  type DatasetVersionPublishedV1,
  type FeedbackPreferenceSubmittedV1,
} from '@studio/contracts';
import { EventBusContext, EventBusExceptionFilter } from '@studio/nest';
import { tenantId } from '@studio/ports';
import { PreferenceBook } from './preference-book';

/**
 * Where preferences come from: a person's judgement (`feedback.preference.submitted`, stored as
 * submitted), a published dataset version (synthetic pairs from its examples) and a completed audit
 * (model-produced pairs from its answers). The bus has validated each event against its contract;
 * every write is an upsert by the preference's deterministic id, so a redelivered event stores nothing twice.
 */
@Controller()
@UseFilters(EventBusExceptionFilter)
export class PreferenceSourcesHandler {
  private readonly logger = new Logger(PreferenceSourcesHandler.name);

  constructor(@Inject(PreferenceBook) private readonly book: PreferenceBook) {}

  @EventPattern(FEEDBACK_PREFERENCE_SUBMITTED_V1)
  async onFeedback(@Payload() event: CloudEvent<FeedbackPreferenceSubmittedV1>): Promise<void> {
    const { id, createdAt, ...input } = event.data.preference;
    const { stored, created } = await this.book.record(tenantId(event.tenantid), [input], new Date(createdAt));
    const preferenceId = stored[0]?.id ?? id;
    if (preferenceId !== id)
      this.logger.warn({
        msg: 'submitted preference id differs from its content hash; stored under the hash',
        submittedId: id,
        preferenceId,
      });
    this.logger.log({
      msg: created > 0 ? 'preference stored' : 'preference already stored',
      tenantId: event.tenantid,
      contextId: event.data.contextId,
      preferenceId,
      annotator: input.annotator,
    });
  }

  @EventPattern(DATASET_VERSION_PUBLISHED_V1)
  async onDatasetVersion(@Payload() event: CloudEvent<DatasetVersionPublishedV1>, @Ctx() ctx: EventBusContext): Promise<void> {
    const stored = await this.book.fromDatasetVersion(tenantId(event.tenantid), event.data, ctx.getSignal());
    this.logger.log({
      msg: 'synthetic preferences stored',
      tenantId: event.tenantid,
      contextId: event.data.contextId,
      datasetVersionId: event.data.datasetVersionId,
      ...stored,
    });
  }

  @EventPattern(AUDIT_RUN_COMPLETED_V1)
  async onAudit(@Payload() event: CloudEvent<AuditRunCompletedV1>, @Ctx() ctx: EventBusContext): Promise<void> {
    const stored = await this.book.fromAudit(tenantId(event.tenantid), event.data, ctx.getSignal());
    this.logger.log({
      msg: 'model-produced preferences stored',
      tenantId: event.tenantid,
      contextId: event.data.contextId,
      auditRunId: event.data.auditRunId,
      ...stored,
    });
  }
}
