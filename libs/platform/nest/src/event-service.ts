import type { DynamicModule } from '@nestjs/common';
import { ConfigError, kafkaSecurityOf, type KafkaSaslMechanism } from '@studio/config';
import { InProcessEventBus } from '@studio/inproc';
import { EventBusModule } from './event-bus.module';
import { kafkaEventBusOptions } from './kafka-event-bus';
import { MongoModule } from './mongo.module';
import { EmbeddedPlatform, EmbeddedStoreModule, type ProfileConfig } from './platform';
import { portLogger } from './port-logger';

/** The validated variables of kafkaEnv (@studio/config) and the profile (profileEnv). */
export interface KafkaConfig extends ProfileConfig {
  KAFKA_BROKERS: string[];
  KAFKA_GROUP_ID: string;
  KAFKA_TOPIC_PREFIX: string;
  /** SASL and TLS to the brokers (kafkaSecurityEnv): see kafkaSecurityOf. */
  KAFKA_SASL_MECHANISM?: KafkaSaslMechanism | undefined;
  KAFKA_SASL_USERNAME?: string | undefined;
  KAFKA_SASL_PASSWORD?: string | undefined;
  KAFKA_SSL?: boolean | undefined;
}

/** The validated variables of eventServiceEnv (@studio/config) and the profile (profileEnv). */
export interface EventServiceConfig extends DatabaseConfig, KafkaConfig {
  /** Remember handled event ids in Redis instead of the service's Mongo database. */
  DEDUP_REDIS_URL?: string | undefined;
  KAFKA_SESSION_TIMEOUT_MS: number;
  KAFKA_HANDLER_TIMEOUT_MS: number;
}

/** A service's own database: MONGO_URL/MONGO_DB on the distributed profile. */
export interface DatabaseConfig extends ProfileConfig {
  MONGO_URL: string;
  MONGO_DB: string;
}

/**
 * The service's own database: MongoDB (MongoModule) on the distributed profile, its SQLite file
 * under STUDIO_DATA_DIR on the embedded one; either provides REPOSITORY_SOURCE.
 */
export function databaseModule(service: string, config: DatabaseConfig): DynamicModule {
  if (config.STUDIO_PROFILE === 'embedded') return EmbeddedStoreModule.forRoot(service, EmbeddedPlatform.ofConfig(config));
  return MongoModule.forRoot({ url: config.MONGO_URL, dbName: config.MONGO_DB });
}

/**
 * The event bus of a service whose bus is started and stopped with the application (lifecycle
 * `module`: the gateway, which publishes uploads and follows training events): Kafka, or on the
 * embedded profile a bus on the platform's broker. `groupId` (default KAFKA_GROUP_ID, or the
 * service name on the embedded profile) and `fromBeginning` (Kafka: where a new group starts; an
 * in-process bus only ever receives what is published after it joined) as KafkaBusSettings.
 */
export function applicationEventBusModule(
  service: string,
  config: KafkaConfig,
  options: { groupId?: string; fromBeginning?: boolean } = {},
): DynamicModule {
  if (config.STUDIO_PROFILE === 'embedded') {
    const platform = EmbeddedPlatform.ofConfig(config);
    return EventBusModule.forRoot({
      lifecycle: 'module',
      useFactory: () =>
        new InProcessEventBus({ groupId: options.groupId ?? service, broker: platform.broker, logger: portLogger('EventBus') }),
    });
  }
  return EventBusModule.forRoot(
    kafkaEventBusOptions(
      {
        service,
        brokers: config.KAFKA_BROKERS,
        groupId: options.groupId ?? config.KAFKA_GROUP_ID,
        topicPrefix: config.KAFKA_TOPIC_PREFIX,
        ...(options.fromBeginning === undefined ? {} : { fromBeginning: options.fromBeginning }),
        security: kafkaSecurityOf(config),
      },
      'module',
    ),
  );
}

/**
 * The infrastructure of a service that consumes events: its own database (which also remembers
 * handled event ids unless DEDUP_REDIS_URL names a Redis for that) and the event bus, started and
 * stopped by the transport — Kafka and MongoDB on the distributed profile; on the embedded one its
 * SQLite database and an in-process bus on the platform's broker (consumer group: the service).
 */
export function eventServiceModules(service: string, config: EventServiceConfig): DynamicModule[] {
  if (config.STUDIO_PROFILE === 'embedded') {
    const platform = EmbeddedPlatform.ofConfig(config);
    return [
      databaseModule(service, config),
      EventBusModule.forRoot({
        lifecycle: 'transport',
        useFactory: () => new InProcessEventBus({ groupId: service, broker: platform.broker, logger: portLogger('EventBus') }),
      }),
    ];
  }
  if (config.KAFKA_HANDLER_TIMEOUT_MS >= config.KAFKA_SESSION_TIMEOUT_MS) {
    throw new ConfigError(
      [
        {
          variable: 'KAFKA_HANDLER_TIMEOUT_MS',
          problem: `KAFKA_HANDLER_TIMEOUT_MS (${config.KAFKA_HANDLER_TIMEOUT_MS}) must be below KAFKA_SESSION_TIMEOUT_MS (${config.KAFKA_SESSION_TIMEOUT_MS}): a handler still running when the session ends loses its consumer's partitions`,
        },
      ],
      service,
    );
  }
  return [
    databaseModule(service, config),
    EventBusModule.forRoot(
      kafkaEventBusOptions(
        {
          service,
          brokers: config.KAFKA_BROKERS,
          groupId: config.KAFKA_GROUP_ID,
          topicPrefix: config.KAFKA_TOPIC_PREFIX,
          sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
          handlerTimeoutMs: config.KAFKA_HANDLER_TIMEOUT_MS,
          security: kafkaSecurityOf(config),
        },
        'transport',
        config.DEDUP_REDIS_URL ? { redisUrl: config.DEDUP_REDIS_URL } : undefined,
      ),
    ),
  ];
}
