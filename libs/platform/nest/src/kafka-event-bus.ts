import { KafkaEventBus } from '@studio/kafka';
import { InMemoryProcessedEventStore } from '@studio/inproc';
import { MongoProcessedEventStore, type MongoDatabase } from '@studio/mongo';
import { RedisProcessedEventStore } from '@studio/redis';
import type { CloudEvent, EventData, Topic } from '@studio/contracts';
import { publishAll, type EventBus, type EventHandler, type ProcessedEventStore } from '@studio/ports';
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
}

/**
 * Readiness of the Kafka side of a service, asked of the brokers through a separate admin
 * client: the cluster answers and, for a consumer, its group has a member with this service's
 * client id (the group is neither empty nor dead).
 */
export class KafkaReadinessProbe implements ReadinessProbe {
  private readonly admin: Admin;
  private connected: Promise<void> | undefined;

  constructor(
    private readonly settings: KafkaBusSettings,
    private readonly consumes: boolean,
  ) {
    this.admin = new Kafka({
      clientId: `${settings.service}-readiness`,
      brokers: settings.brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1_500,
      retry: { retries: 0 },
    }).admin();
  }

  async check(): Promise<string> {
    this.connected ??= this.admin.connect().catch((err: unknown) => {
      this.connected = undefined;
      throw err;
    });
    await this.connected;
    const cluster = await this.admin.describeCluster();
    const brokers = `${cluster.brokers.length} broker(s)`;
    if (!this.consumes) return brokers;
    const { groups } = await this.admin.describeGroups([this.settings.groupId]);
    const group = groups.find((g) => g.groupId === this.settings.groupId);
    const members = group?.members.filter((m) => m.clientId === this.settings.service).length ?? 0;
    if (!group || group.state === 'Dead' || group.state === 'Empty' || members === 0) {
      throw new Error(
        `consumer group ${this.settings.groupId} has no running ${this.settings.service} consumer (state ${group?.state ?? 'unknown'})`,
      );
    }
    return `${brokers}; consumer group ${this.settings.groupId} ${group.state}, ${members} member(s)`;
  }

  async close(): Promise<void> {
    if (this.connected) await this.admin.disconnect();
  }
}

/**
 * EventBusModule options for the Kafka bus of the distributed profile.
 * - consumers (`lifecycle: 'transport'`) remember handled event ids durably, so deduplication
 *   survives restarts: in their own Mongo database (MONGO_DATABASE), or — when `dedup.redisUrl`
 *   is given — in Redis (one round trip per batch; much faster than MongoDB-compatible servers
 *   without an `_id` index, such as FerretDB on SQLite). The Redis connection is the bus's own
 *   and is closed after the bus stops;
 * - a publish-only service (`lifecycle: 'module'`) subscribes nothing, so its store is never read.
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
      processedEvents,
      logger: portLogger('EventBus'),
    });
  const probe = () => new KafkaReadinessProbe(settings, lifecycle === 'transport');
  if (lifecycle === 'module') return { lifecycle, readiness: probe, useFactory: () => build(new InMemoryProcessedEventStore()) };
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

  async stop(): Promise<void> {
    try {
      await this.inner.stop();
    } finally {
      await this.release();
    }
  }
}
