import type { DynamicModule } from '@nestjs/common';
import { ConfigError, kafkaSecurityOf, type KafkaSaslMechanism } from '@studio/config';
import { EventBusModule } from './event-bus.module';
import { kafkaEventBusOptions } from './kafka-event-bus';
import { MongoModule } from './mongo.module';

/** The validated variables of eventServiceEnv (@studio/config). */
export interface EventServiceConfig {
  KAFKA_BROKERS: string[];
  KAFKA_GROUP_ID: string;
  KAFKA_TOPIC_PREFIX: string;
  MONGO_URL: string;
  MONGO_DB: string;
  /** Remember handled event ids in Redis instead of the service's Mongo database. */
  DEDUP_REDIS_URL?: string | undefined;
  KAFKA_SESSION_TIMEOUT_MS: number;
  KAFKA_HANDLER_TIMEOUT_MS: number;
  KAFKA_SASL_MECHANISM?: KafkaSaslMechanism | undefined;
  KAFKA_SASL_USERNAME?: string | undefined;
  KAFKA_SASL_PASSWORD?: string | undefined;
  KAFKA_SSL?: boolean | undefined;
}

/**
 * The infrastructure of a service that consumes events: its own Mongo database (which also
 * remembers handled event ids unless DEDUP_REDIS_URL names a Redis for that) and the Kafka bus,
 * started and stopped by the transport.
 */
export function eventServiceModules(service: string, config: EventServiceConfig): DynamicModule[] {
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
    MongoModule.forRoot({ url: config.MONGO_URL, dbName: config.MONGO_DB }),
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
