import type { Provider } from '@nestjs/common';
import type { EventBus } from '@studio/ports';
import { EVENT_SOURCE, provideEventPublisher } from './event-bus-server';
import { EVENT_BUS } from './event-bus.module';

/** Where the pipeline's use cases publish from a service: its event bus, under its own CloudEvents source. */
export interface Publishing {
  bus: EventBus;
  eventSource: string;
}
export const PUBLISHING = Symbol('PUBLISHING');

/** EventPublisher and PUBLISHING for a service whose events carry `source`. */
export function providePublishing(source: string): Provider[] {
  return [
    ...provideEventPublisher(source),
    {
      provide: PUBLISHING,
      inject: [EVENT_BUS, EVENT_SOURCE],
      useFactory: (bus: EventBus, eventSource: string): Publishing => ({ bus, eventSource }),
    },
  ];
}
