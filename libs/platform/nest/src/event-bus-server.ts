import { Catch, Inject, Injectable, type Provider, type RpcExceptionFilter } from '@nestjs/common';
import { BaseRpcContext, Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { buildCloudEvent, isTopic, TOPIC_NAMES, type CloudEvent, type EventData, type Topic } from '@studio/contracts';
import { publishAll, type DeliveryInfo, type EventBus } from '@studio/ports';
import { isObservable, lastValueFrom, throwError, type Observable } from 'rxjs';
import { EVENT_BUS } from './event-bus.module';

/** The `@Ctx()` of an event handler: where the event came from and which attempt this is. */
export class EventBusContext extends BaseRpcContext<[DeliveryInfo]> {
  getDelivery(): DeliveryInfo {
    return this.args[0];
  }
  getTopic(): Topic {
    return this.args[0].topic;
  }
  getAttempt(): number {
    return this.args[0].attempt;
  }
  /** Aborted when this attempt ran past the bus's handler timeout: pass it to fetch and database calls. */
  getSignal(): AbortSignal | undefined {
    return this.args[0].signal;
  }
}

/** The transport id of EventBusServer (for `@EventPattern(topic, EVENT_BUS_TRANSPORT)` in hybrid apps). */
export const EVENT_BUS_TRANSPORT = Symbol('EVENT_BUS_TRANSPORT');

/**
 * NestJS microservice transport over any EventBus (Kafka or in-process): every
 * `@EventPattern('<topic>')` handler is subscribed to that contract topic and receives the
 * validated CloudEvent as its payload (`@Payload()`) and an EventBusContext (`@Ctx()`).
 * A handler that throws (or returns an erroring Observable) is retried and dead-lettered by the
 * bus. `@MessagePattern` (request/response) is refused: events are one-way.
 * `listen` starts the bus after subscribing; `close` stops it gracefully.
 */
export class EventBusServer extends Server implements CustomTransportStrategy {
  private started = false;

  constructor(private readonly bus: EventBus) {
    super();
    this.transportId = EVENT_BUS_TRANSPORT;
  }

  listen(callback: (err?: unknown, ...optionalParams: unknown[]) => void): void {
    try {
      for (const [pattern, handler] of this.messageHandlers) this.subscribe(pattern, handler);
    } catch (err) {
      callback(err);
      return;
    }
    this.bus.start().then(
      () => {
        this.started = true;
        callback();
      },
      (err: unknown) => callback(err),
    );
  }

  async close(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.bus.stop();
  }

  /** Status events of the bus are not exposed; registering a listener is an error. */
  on(event: string): never {
    throw new Error(`EventBusServer has no "${String(event)}" event: observe the bus's logger instead`);
  }

  unwrap<T>(): T {
    return this.bus as unknown as T;
  }

  private subscribe(pattern: string, handler: MessageHandler): void {
    if (!handler.isEventHandler) {
      throw new Error(`@MessagePattern('${pattern}') is not supported by the event bus (events are one-way): use @EventPattern`);
    }
    if (!isTopic(pattern)) {
      throw new Error(`@EventPattern('${pattern}') is not a contract topic; known topics: ${TOPIC_NAMES.join(', ')}`);
    }
    this.bus.subscribe(pattern, (event, delivery) => this.dispatch(handler, event, delivery));
  }

  private dispatch(handler: MessageHandler, event: unknown, delivery: DeliveryInfo): Promise<void> {
    const context = new EventBusContext([delivery]);
    return new Promise<void>((resolve, reject) => {
      this.onProcessingStartHook(EVENT_BUS_TRANSPORT, context, async () => {
        try {
          const result: unknown = await handler(event, context);
          if (isObservable(result)) await lastValueFrom(result as Observable<unknown>, { defaultValue: undefined });
          resolve();
        } catch (err) {
          reject(err);
        } finally {
          this.onProcessingEndHook?.(EVENT_BUS_TRANSPORT, context);
        }
      });
    });
  }
}

/**
 * Passes a handler's exception through unchanged, so that the bus retries it and the
 * dead-letter record carries its real message (Nest's default RPC filter replaces unknown errors
 * with "Internal server error"). Apply it to the event-consuming microservice:
 * `app.useGlobalFilters(new EventBusExceptionFilter())` or `@UseFilters(...)` on a controller.
 */
@Catch()
export class EventBusExceptionFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}

/** The CloudEvents `source` of the events a service publishes, e.g. `/studio/framer`. */
export const EVENT_SOURCE = Symbol('EVENT_SOURCE');

export interface PublishInput<T extends Topic> {
  tenantId: string;
  contextId: string;
  data: EventData<T>;
  subject?: string;
  /** A deterministic id makes a re-publication a duplicate that consumers skip. */
  id?: string;
  time?: Date;
}

/** Builds CloudEvents with the service's source and publishes them (validated by the bus). */
@Injectable()
export class EventPublisher {
  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    @Inject(EVENT_SOURCE) private readonly source: string,
  ) {}

  async publish<T extends Topic>(topic: T, input: PublishInput<T>): Promise<CloudEvent<EventData<T>>> {
    const event = this.build(topic, input);
    await this.bus.publish(topic, event);
    return event;
  }

  async publishMany<T extends Topic>(topic: T, inputs: readonly PublishInput<T>[]): Promise<CloudEvent<EventData<T>>[]> {
    const events = inputs.map((input) => this.build(topic, input));
    await publishAll(this.bus, topic, events);
    return events;
  }

  private build<T extends Topic>(topic: T, input: PublishInput<T>): CloudEvent<EventData<T>> {
    return buildCloudEvent<EventData<T>>({ topic, source: this.source, ...input });
  }
}

/** Providers for EventPublisher; the EVENT_BUS itself comes from EventBusModule.forRoot. */
export function provideEventPublisher(source: string): Provider[] {
  return [{ provide: EVENT_SOURCE, useValue: source }, EventPublisher];
}
