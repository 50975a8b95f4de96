import './kafkajs-fixes';
import { Kafka } from 'kafkajs';
import { DEAD_LETTER_V1, DeadLetterRecordV1, parseWith } from '@studio/contracts';
import type { EventBusLogger } from '@studio/ports';
import { kafkaClientSecurity, type KafkaClientSecurity } from './kafka-event-bus';
import { consoleEventBusLogger, KAFKA_LOG_LEVELS, kafkajsLogCreator, type KafkaLogLevel } from './logging';

export interface DeadLetterReaderConfig {
  clientId: string;
  brokers: string[];
  groupId: string;
  /** The same prefix as the buses whose dead letters are read; default ''. */
  topicPrefix?: string;
  /** Default true: read the topic's whole history on the group's first start. */
  fromBeginning?: boolean;
  logger?: EventBusLogger;
  kafkaLogLevel?: KafkaLogLevel;
  /** SASL and TLS, as for the buses. */
  security?: KafkaClientSecurity;
}

export interface DeadLetterMessage {
  record: DeadLetterRecordV1;
  partition: number;
  offset: string;
}

/**
 * Reads the dead-letter topic (records are not CloudEvents, so not through the EventBus):
 * for inspection, alerting and replay tools. A record that does not match DeadLetterRecordV1
 * is logged and skipped.
 */
export class KafkaDeadLetterReader {
  private readonly kafka: Kafka;
  private readonly logger: EventBusLogger;
  private readonly consumer;

  constructor(private readonly config: DeadLetterReaderConfig) {
    this.logger = config.logger ?? consoleEventBusLogger();
    this.kafka = new Kafka({
      clientId: config.clientId,
      brokers: config.brokers,
      logLevel: KAFKA_LOG_LEVELS[config.kafkaLogLevel ?? 'warn'],
      logCreator: kafkajsLogCreator(this.logger),
      ...kafkaClientSecurity(config.security),
    });
    this.consumer = this.kafka.consumer({ groupId: config.groupId, allowAutoTopicCreation: false });
  }

  get topic(): string {
    return `${this.config.topicPrefix ?? ''}${DEAD_LETTER_V1}`;
  }

  async start(onRecord: (message: DeadLetterMessage) => Promise<void>): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.topic], fromBeginning: this.config.fromBeginning ?? true });
    await this.consumer.run({
      eachMessage: async ({ partition, message }) => {
        let record: DeadLetterRecordV1;
        try {
          record = parseWith(
            DeadLetterRecordV1,
            JSON.parse(message.value?.toString('utf8') ?? ''),
            `dead-letter record at ${partition}/${message.offset}`,
          );
        } catch (err) {
          this.logger.error('unreadable dead-letter record skipped', {
            topic: this.topic,
            partition,
            offset: message.offset,
            error: String(err),
          });
          return;
        }
        await onRecord({ record, partition, offset: message.offset });
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}
