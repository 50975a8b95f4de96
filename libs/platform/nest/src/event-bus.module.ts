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
import type { EventBus, EventBusHealth } from '@studio/ports';
import { eventBusCheck, HealthRegistry } from './health/readiness';

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
  /**
   * Readiness of the bus (e.g. brokers reachable, consumer a member of its group); registered as
   * the `events` check. Default: the bus's own `health()`, where it has one.
   */
  readiness?: (bus: EventBus) => ReadinessProbe;
}

/** A readiness check that holds resources of its own (a connection), released at shutdown. */
export interface ReadinessProbe {
  check(): Promise<string | void>;
  close?(): Promise<void>;
}

const READINESS_PROBE = Symbol('READINESS_PROBE');

@Injectable()
class EventBusLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('EventBus');
  private started = false;

  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    @Inject(EVENT_BUS_OPTIONS) private readonly options: EventBusModuleOptions,
    @Inject(READINESS_PROBE) private readonly probe: ReadinessProbe | null,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.lifecycle !== 'module') return;
    await this.bus.start();
    this.started = true;
    this.logger.log('started');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.probe?.close?.();
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
          inject: [...(options.inject ?? [])],
          useFactory: (...deps: never[]) => options.useFactory(...deps),
        },
        {
          provide: READINESS_PROBE,
          inject: [EVENT_BUS, HealthRegistry],
          useFactory: (bus: EventBus, health: HealthRegistry): ReadinessProbe | null => {
            const probe = options.readiness?.(bus) ?? null;
            if (probe) health.register({ name: 'events', check: () => probe.check() });
            else if (bus.health) health.register(eventBusCheck('events', { health: () => (bus.health as () => EventBusHealth)() }));
            return probe;
          },
        },
        EventBusLifecycle,
      ],
      exports: [EVENT_BUS],
    };
  }
}
