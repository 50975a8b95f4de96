import { Controller, Inject, Logger, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { FEEDBACK_SUBMITTED_V1, type CloudEvent, type FeedbackSubmittedV1 } from '@studio/contracts';
import { EventBusExceptionFilter } from '@studio/nest';
import { tenantId, type Repository } from '@studio/ports';
import { preferenceFromFeedback, type Preference } from './preference';

export const PREFERENCES_REPOSITORY = Symbol('PREFERENCES_REPOSITORY');

/** Stores each submitted preference, for aggregation by the context's value priorities. */
@Controller()
@UseFilters(EventBusExceptionFilter)
export class PreferencesHandler {
  private readonly logger = new Logger(PreferencesHandler.name);

  constructor(@Inject(PREFERENCES_REPOSITORY) private readonly preferences: Repository<Preference>) {}

  @EventPattern(FEEDBACK_SUBMITTED_V1)
  async onFeedbackSubmitted(@Payload() event: CloudEvent<FeedbackSubmittedV1>): Promise<void> {
    const preference = preferenceFromFeedback(event);
    await this.preferences.upsert(tenantId(event.tenantid), preference);
    this.logger.log({ msg: 'preference stored', tenantId: event.tenantid, contextId: preference.contextId, feedbackId: preference.id });
  }
}
