import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceClient } from '../upstream/service-client';
import { FEEDBACK_SETTINGS, FeedbackController, type FeedbackSettings } from './feedback.controller';
import { PreferencesController } from './preferences.controller';

/**
 * Human feedback and what it becomes: judgements of two answers published as preferences
 * (`feedback.preference.submitted.v1` on the gateway's event bus), and the preferences,
 * preference dataset versions and resolutions of the reward-model service. Records submissions
 * and published versions in the audit log (AuditLog, from the global keys module).
 */
@Module({})
export class FeedbackModule {
  static forRoot(settings: FeedbackSettings, upstream: ServiceClient): DynamicModule {
    return {
      module: FeedbackModule,
      controllers: [FeedbackController, PreferencesController],
      providers: [
        { provide: ServiceClient, useValue: upstream },
        { provide: FEEDBACK_SETTINGS, useValue: settings },
      ],
    };
  }
}
