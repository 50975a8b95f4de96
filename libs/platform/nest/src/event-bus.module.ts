import {
  Inject,
  Injectable,
  Logger,
  Module,
  type DynamicModule,
  type InjectionToken,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { EventBus } from '@studio/ports';
import { HealthRegistry } from './health/readiness';

/** The service's EventBus (Kafka in the distributed profile, in-process in the embedded one). */
export const EVENT_BUS = Symbol('EVENT_BUS');
const EVENT_BUS_OPTIONS = Symbol('EVENT_BUS_OPTIONS');

export interface EventBusModuleOptions {
  useFactory: (...deps: never[]) => EventBus | Promise<EventBus>;
  inject?: InjectionToken[];
  /**
   * Who starts and stops the bus:
   * - 'transport': the microservice transport (EventBusServer) does, after the
   *   `@EventPattern` handlers are subscribed — for services that consume;
   * - 'module': this module starts it when the application has bootstrapped and stops it
   *   at shutdown — for services that only publish (the gateway).
   */
  lifecycle: 'transport' | 'module';
  /** Readiness of the bus (e.g. producer connected, consumer running); registered as `events`. */
  readiness?: (bus: EventBus) => Promise<string | void>;
}

@Injectable()
class EventBusLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('EventBus');
  private started = false;

  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    @Inject(EVENT_BUS_OPTIONS) private readonly options: EventBusModuleOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.lifecycle !== 'module') return;
    await this.bus.start();
    this.started = true;
    this.logger.log('started');
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.bus.stop();
    this.logger.log('stopped');
  }
}

@Module({})
export class EventBusModule {
  static forRoot(options: EventBusModuleOptions): DynamicModule {
    return {
      module: EventBusModule,
      global: true,
      providers: [
        { provide: EVENT_BUS_OPTIONS, useValue: options },
        {
          provide: EVENT_BUS,
          inject: [HealthRegistry, ...(options.inject ?? [])],
          useFactory: async (health: HealthRegistry, ...deps: never[]) => {
            const bus = await options.useFactory(...deps);
            const readiness = options.readiness;
            if (readiness) health.register({ name: 'events', check: () => readiness(bus) });
            return bus;
          },
        },
        EventBusLifecycle,
      ],
      exports: [EVENT_BUS],
    };
  }
}
