import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceClient } from '../upstream/service-client';
import { CompareController } from './compare.controller';
import { RunEventHub } from './run-event-hub';
import { RUN_EVENTS_SETTINGS, RunsLiveController, type RunEventsSettings } from './runs-live.controller';

/**
 * The studio's runs API: a context's runs, cancelling a run, a run's live progress (server-sent
 * events fed by the training events on the gateway's event bus), compare, and held-out items.
 * Forwards through the gateway's ServiceClient (the one GatewayModule makes).
 */
@Module({})
export class RunsApiModule {
  static forRoot(settings: RunEventsSettings, upstream: ServiceClient): DynamicModule {
    return {
      module: RunsApiModule,
      controllers: [RunsLiveController, CompareController],
      providers: [RunEventHub, { provide: RUN_EVENTS_SETTINGS, useValue: settings }, { provide: ServiceClient, useValue: upstream }],
    };
  }
}
