import { KafkaEventBus, kafkaClientSecurity, type KafkaClientSecurity } from '@studio/kafka';
import { InMemoryProcessedEventStore } from '@studio/inproc';
import { MongoProcessedEventStore, type MongoDatabase } from '@studio/mongo';
import { RedisProcessedEventStore } from '@studio/redis';
import type { CloudEvent, EventData, Topic } from '@studio/contracts';
import { publishAll, type EventBus, type EventBusHealth, type EventHandler, type ProcessedEventStore } from '@studio/ports';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { portLogger } from './port-logger';
import type { EventBusModuleOptions, ReadinessProbe } from './event-bus.module';
import { MONGO_DATABASE } from './mongo.module';
import { openRedisConnection } from './redis.module';

export interface KafkaBusSettings {
  /** Kafka client id. */
  service: string;
  brokers: string[];
  /** One consumer group per service: each service sees every event once. */
  groupId: string;
  topicPrefix: string;
  /** Consumer session; default 30 s (see KafkaEventBusConfig). */
  sessionTimeoutMs?: number;
  /** Longest one handler attempt; default two thirds of the session. */
  handlerTimeoutMs?: number;
  /** Longest a publish waits for the broker before EventBusUnavailableError (503); default 5 s. */
  publishTimeoutMs?: number;
  /** SASL and TLS to the brokers (from KAFKA_SASL_* and KAFKA_SSL: kafkaSecurityOf in @studio/config); default neither. */
  security?: KafkaClientSecurity;
  /** Where a new consumer group starts: true (default) at the oldest event kept, false at the next one published. */
  fromBeginning?: boolean;
}

/**
 * Readiness of the Kafka side of a service:
 * - the cluster answers a separate admin client (a broker outage shows at once, for publishers too);
 * - for a consumer, this instance (not merely some instance of the service) is a member of its
 *   consumer group, as the bus's `health()` reports from kafkajs's instrumentation events: it
 *   joined, has not crashed, stopped or disconnected since, and its heartbeats are accepted.
 *   After an outage the bus rejoins by itself, and the check turns up again.
 */
export class KafkaReadinessProbe implements ReadinessProbe {
  private readonly admin: Admin;
  private connected: Promise<void> | undefined;

  constructor(
    private readonly settings: KafkaBusSettings,
    /** The consuming bus whose membership is checked; null for a publish-only service. */
    private readonly consumer: Pick<EventBus, 'health'> | null,
  ) {
    this.admin = new Kafka({
      clientId: `${settings.service}-readiness`,
      brokers: settings.brokers,
      ...kafkaClientSecurity(settings.security),
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1_500,
      requestTimeout: 1_500,
      retry: { retries: 0 },
    }).admin();
  }

  async check(): Promise<string> {
    const membership = this.consumer?.health?.();
    if (membership && !membership.ready) throw new Error(membership.detail);
    this.connected ??= this.admin.connect().catch((err: unknown) => {
      this.connected = undefined;
      throw err;
    });
    await this.connected;
    const cluster = await this.admin.describeCluster();
    const brokers = `${cluster.brokers.length} broker(s)`;
    return membership ? `${brokers}; ${membership.detail}` : brokers;
  }

  async close(): Promise<void> {
    if (this.connected) await this.admin.disconnect();
  }
}

/** Event ids a module-lifecycle bus remembers for deduplication (the most recent ones). */
export const MODULE_BUS_DEDUP_IDS = 100_000;

/**
 * EventBusModule options for the Kafka bus of the distributed profile.
 * - consumers (`lifecycle: 'transport'`) remember handled event ids durably, so deduplication
 *   survives restarts: in their own Mongo database (MONGO_DATABASE), or — when `dedup.redisUrl`
 *   is given — in Redis (one round trip per batch; much faster than MongoDB-compatible servers
 *   without an `_id` index, such as FerretDB on SQLite). The Redis connection is the bus's own
 *   and is closed after the bus stops;
 * - a service whose bus the module starts (`lifecycle: 'module'`) publishes, and may subscribe to
 *   a live feed (the gateway) that needs no durable deduplication: it remembers the latest
 *   MODULE_BUS_DEDUP_IDS event ids in memory.
 */
export function kafkaEventBusOptions(
  settings: KafkaBusSettings,
  lifecycle: 'transport' | 'module',
  dedup?: { redisUrl: string },
): EventBusModuleOptions {
  const build = (processedEvents: ProcessedEventStore) =>
    new KafkaEventBus({
      clientId: settings.service,
      brokers: settings.brokers,
      groupId: settings.groupId,
      topicPrefix: settings.topicPrefix,
      ...(settings.sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs: settings.sessionTimeoutMs }),
      ...(settings.handlerTimeoutMs === undefined ? {} : { handlerTimeoutMs: settings.handlerTimeoutMs }),
      ...(settings.publishTimeoutMs === undefined ? {} : { publishTimeoutMs: settings.publishTimeoutMs }),
      ...(settings.security === undefined ? {} : { security: settings.security }),
      ...(settings.fromBeginning === undefined ? {} : { fromBeginning: settings.fromBeginning }),
      processedEvents,
      logger: portLogger('EventBus'),
    });
  const probe = (bus: EventBus) => new KafkaReadinessProbe(settings, lifecycle === 'transport' ? bus : null);
  // A 'module' bus that subscribes (the gateway's live feed) dedups in memory, keeping the latest ids only.
  if (lifecycle === 'module')
    return { lifecycle, readiness: probe, useFactory: () => build(new InMemoryProcessedEventStore({ maxIds: MODULE_BUS_DEDUP_IDS })) };
  if (dedup) {
    return {
      lifecycle,
      readiness: probe,
      useFactory: async () => {
        const redis = await openRedisConnection({ url: dedup.redisUrl });
        return new StoppingAlso(build(new RedisProcessedEventStore(redis)), async () => {
          if (redis.status !== 'end') await redis.quit();
        });
      },
    };
  }
  return {
    lifecycle,
    readiness: probe,
    inject: [MONGO_DATABASE],
    useFactory: ((database: MongoDatabase) =>
      build(new MongoProcessedEventStore(database.connection))) as EventBusModuleOptions['useFactory'],
  };
}

/** A bus that releases a resource of its own (the dedup store's connection) after it stops. */
class StoppingAlso implements EventBus {
  constructor(
    private readonly inner: EventBus,
    private readonly release: () => Promise<void>,
  ) {}

  publish<T extends Topic>(topic: T, event: CloudEvent<EventData<T>>): Promise<void> {
    return this.inner.publish(topic, event);
  }

  publishMany<T extends Topic>(topic: T, events: readonly CloudEvent<EventData<T>>[]): Promise<void> {
    return publishAll(this.inner, topic, events);
  }

  subscribe<T extends Topic>(topic: T, handler: EventHandler<T>): void {
    this.inner.subscribe(topic, handler);
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  health(): EventBusHealth {
    return this.inner.health ? this.inner.health() : { ready: true, detail: 'the bus reports no health' };
  }

  async stop(): Promise<void> {
    try {
      await this.inner.stop();
    } finally {
      await this.release();
    }
  }
}
