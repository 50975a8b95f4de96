import { KafkaEventBus } from '@studio/kafka';
import { InMemoryProcessedEventStore } from '@studio/inproc';
import { MongoProcessedEventStore, type MongoDatabase } from '@studio/mongo';
import type { ProcessedEventStore } from '@studio/ports';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { portLogger } from './port-logger';
import type { EventBusModuleOptions, ReadinessProbe } from './event-bus.module';
import { MONGO_DATABASE } from './mongo.module';

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
      throw new Error(`consumer group ${this.settings.groupId} has no running ${this.settings.service} consumer (state ${group?.state ?? 'unknown'})`);
    }
    return `${brokers}; consumer group ${this.settings.groupId} ${group.state}, ${members} member(s)`;
  }

  async close(): Promise<void> {
    if (this.connected) await this.admin.disconnect();
  }
}

/**
 * EventBusModule options for the Kafka bus of the distributed profile.
 * - consumers (`lifecycle: 'transport'`) remember handled event ids in their own Mongo
 *   database (MONGO_DATABASE), so deduplication survives restarts;
 * - a publish-only service (`lifecycle: 'module'`) subscribes nothing, so its store is never read.
 */
export function kafkaEventBusOptions(settings: KafkaBusSettings, lifecycle: 'transport' | 'module'): EventBusModuleOptions {
  const build = (processedEvents: ProcessedEventStore) =>
    new KafkaEventBus({
      clientId: settings.service,
      brokers: settings.brokers,
      groupId: settings.groupId,
      topicPrefix: settings.topicPrefix,
      processedEvents,
      logger: portLogger('EventBus'),
    });
  const readiness = () => new KafkaReadinessProbe(settings, lifecycle === 'transport');
  if (lifecycle === 'module') return { lifecycle, readiness, useFactory: () => build(new InMemoryProcessedEventStore()) };
  return {
    lifecycle,
    readiness,
    inject: [MONGO_DATABASE],
    useFactory: ((database: MongoDatabase) => build(new MongoProcessedEventStore(database.connection))) as EventBusModuleOptions['useFactory'],
  };
}
