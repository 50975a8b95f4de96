import './kafkajs-fixes';
import { Kafka, Partitioners, type Admin, type Consumer, type EachBatchPayload, type Message, type Producer } from 'kafkajs';
import { z } from 'zod';
import {
  DEAD_LETTER_V1,
  parseEvent,
  parseWith,
  TOPIC_NAMES,
  type CloudEvent,
  type DeadLetterRecordV1,
  type EventData,
  type Topic,
} from '@studio/contracts';
import {
  DEFAULT_RETRY_POLICY,
  type EventBus,
  type EventBusLogger,
  type EventHandler,
  type ProcessedEventStore,
  type RetryPolicy,
} from '@studio/ports';
import { BatchProcessor, type Subscription } from './batch-processor';
import { consoleEventBusLogger, KAFKA_LOG_LEVELS, kafkajsLogCreator, type KafkaLogLevel } from './logging';

/** The CloudEvents Kafka binding's content type for structured mode. */
export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json';

const KafkaEventBusSettings = z.object({
  clientId: z.string().min(1),
  brokers: z.array(z.string().regex(/^[^\s:]+:\d+$/, 'must be host:port')).min(1),
  groupId: z.string().min(1),
  topicPrefix: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/, 'may contain only letters, digits, ".", "_" and "-"')
    .default(''),
  partitions: z.number().int().positive().default(3),
  replicationFactor: z.number().int().positive().or(z.literal(-1)).default(-1),
  fromBeginning: z.boolean().default(true),
  partitionsConsumedConcurrently: z.number().int().positive().optional(),
  sessionTimeoutMs: z.number().int().positive().default(30_000),
  heartbeatIntervalMs: z.number().int().positive().default(3_000),
  autoCommitIntervalMs: z.number().int().positive().default(5_000),
  kafkaLogLevel: z.enum(['nothing', 'error', 'warn', 'info', 'debug']).default('warn'),
  recentIdsCapacity: z.number().int().nonnegative().default(10_000),
});

export interface KafkaEventBusConfig {
  clientId: string;
  /** `host:port` of one or more brokers. */
  brokers: string[];
  /** One consumer group per bus instance: every service (or role) has its own. */
  groupId: string;
  /** Where handled event ids are remembered for this group (deduplication across restarts). */
  processedEvents: ProcessedEventStore;
  retry?: RetryPolicy;
  logger?: EventBusLogger;
  /**
   * Prepended to every Kafka topic name, the dead-letter topic included (e.g. an environment
   * name, or a test run's unique name); the contract topic and event type are unchanged. Default ''.
   */
  topicPrefix?: string;
  /** Partitions of the topics this bus creates when missing; default 3. */
  partitions?: number;
  /** Replication factor of created topics; default -1 (the broker's default). */
  replicationFactor?: number;
  /** Where a new consumer group starts: true (default) so no event published before it first joined is missed. */
  fromBeginning?: boolean;
  /** Partitions handled in parallel (order is kept within each); default `partitions`. */
  partitionsConsumedConcurrently?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Resolved offsets are committed at least this often during a long batch (and after every batch); default 5000. */
  autoCommitIntervalMs?: number;
  /** kafkajs's own log lines at this level and above go to `logger`; default 'warn'. */
  kafkaLogLevel?: KafkaLogLevel;
  /** Handled ids kept in memory to skip store lookups for close duplicates; default 10,000. */
  recentIdsCapacity?: number;
}

type State = 'created' | 'starting' | 'started' | 'stopping' | 'stopped';

/**
 * EventBus on Apache Kafka (kafkajs). Events travel as structured CloudEvents JSON
 * (`content-type: application/cloudevents+json`), keyed by their partition key (context id),
 * from an idempotent producer. Each bus instance is one consumer group; consumption is at
 * least once with offsets committed only after a message is handled, skipped as a duplicate
 * or dead-lettered (see BatchProcessor). kafkajs stays inside this library.
 */
export class KafkaEventBus implements EventBus {
  readonly groupId: string;
  private readonly settings: z.infer<typeof KafkaEventBusSettings>;
  private readonly logger: EventBusLogger;
  private readonly retry: RetryPolicy;
  private readonly kafka: Kafka;
  private readonly subscriptions = new Map<string, Subscription>();
  private producer: Producer | undefined;
  private consumer: Consumer | undefined;
  private admin: Admin | undefined;
  private prepared: Promise<void> | undefined;
  private state: State = 'created';

  constructor(private readonly config: KafkaEventBusConfig) {
    const { processedEvents: _store, retry, logger, ...settings } = config;
    this.settings = parseWith(KafkaEventBusSettings, settings, 'KafkaEventBus configuration');
    this.retry = retry ?? DEFAULT_RETRY_POLICY;
    if (this.retry.maxAttempts < 1) throw new Error(`retry.maxAttempts must be >= 1, got ${this.retry.maxAttempts}`);
    this.groupId = this.settings.groupId;
    this.logger = logger ?? consoleEventBusLogger();
    this.kafka = new Kafka({
      clientId: this.settings.clientId,
      brokers: this.settings.brokers,
      logLevel: KAFKA_LOG_LEVELS[this.settings.kafkaLogLevel],
      logCreator: kafkajsLogCreator(this.logger),
    });
  }

  /** The Kafka topic that carries a contract topic (or the dead-letter topic) on this bus. */
  kafkaTopic(topic: Topic | typeof DEAD_LETTER_V1): string {
    return `${this.settings.topicPrefix}${topic}`;
  }

  get deadLetterTopic(): string {
    return this.kafkaTopic(DEAD_LETTER_V1);
  }

  subscribe<T extends Topic>(topic: T, handler: EventHandler<T>): void {
    if (this.state !== 'created') throw new Error(`subscribe("${topic}") must be called before start()`);
    const name = this.kafkaTopic(topic);
    if (this.subscriptions.has(name)) throw new Error(`topic "${topic}" already has a handler on this bus`);
    this.subscriptions.set(name, { topic, handler: handler as unknown as EventHandler<Topic> });
  }

  async publish<T extends Topic>(topic: T, event: CloudEvent<EventData<T>>): Promise<void> {
    await this.publishMany(topic, [event]);
  }

  /** Validates every event (nothing is sent if one is invalid), then sends them in one request. */
  async publishMany<T extends Topic>(topic: T, events: readonly CloudEvent<EventData<T>>[]): Promise<void> {
    const messages: Message[] = events.map((e) => {
      const valid = parseEvent(topic, e);
      return { key: valid.partitionkey, value: JSON.stringify(valid), headers: { 'content-type': CLOUDEVENTS_CONTENT_TYPE } };
    });
    if (messages.length === 0) return;
    await this.send(this.kafkaTopic(topic), messages);
  }

  /**
   * Sends a value as-is, without validation: for replaying dead letters and for tests that must
   * reproduce a malformed message. Consumers validate it like any other.
   */
  async publishRaw(topic: Topic, key: string | null, value: string | Buffer): Promise<void> {
    await this.send(this.kafkaTopic(topic), [{ key, value, headers: { 'content-type': CLOUDEVENTS_CONTENT_TYPE } }]);
  }

  /** Creates missing topics, connects the producer, and starts consuming if anything is subscribed. */
  async start(): Promise<void> {
    if (this.state !== 'created') throw new Error(`cannot start an event bus that is ${this.state}`);
    this.state = 'starting';
    await this.prepare();
    if (this.subscriptions.size > 0) await this.startConsumer();
    this.state = 'started';
    this.logger.info('kafka event bus started', { groupId: this.groupId, topics: [...this.subscriptions.keys()] });
  }

  /**
   * Graceful: stops fetching, lets the handler in hand finish (a retry not yet begun is left for
   * redelivery), commits what was done, then disconnects consumer, producer and admin.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'stopping';
    const errors: unknown[] = [];
    const attempt = async (what: string, fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
        this.logger.error(`kafka event bus: ${what} failed while stopping`, { error: String(err) });
      }
    };
    // kafkajs's disconnect stops fetching, waits for the running eachBatch, commits and leaves the group.
    if (this.consumer) await attempt('consumer disconnect', () => (this.consumer as Consumer).disconnect());
    if (this.producer) await attempt('producer disconnect', () => (this.producer as Producer).disconnect());
    if (this.admin) await attempt('admin disconnect', () => (this.admin as Admin).disconnect());
    this.state = 'stopped';
    this.logger.info('kafka event bus stopped', { groupId: this.groupId });
    if (errors.length > 0) throw new AggregateError(errors, `kafka event bus ${this.groupId} did not stop cleanly`);
  }

  private async send(topic: string, messages: Message[]): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped')
      throw new Error(`cannot publish to "${topic}": the event bus is ${this.state}`);
    await this.prepare();
    await this.produce(topic, messages);
  }

  private async produce(topic: string, messages: Message[]): Promise<void> {
    if (!this.producer) throw new Error(`cannot send to "${topic}": the producer is not connected`);
    await this.producer.send({ topic, messages, acks: -1 });
  }

  /** Once: topics exist and the producer is connected (publish may come before start). */
  private prepare(): Promise<void> {
    this.prepared ??= (async () => {
      await this.ensureTopics();
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      this.producer = producer;
    })().catch((err: unknown) => {
      this.prepared = undefined;
      throw err;
    });
    return this.prepared;
  }

  private async ensureTopics(): Promise<void> {
    const admin = this.kafka.admin();
    this.admin = admin;
    await admin.connect();
    try {
      const wanted = [...TOPIC_NAMES.map((t) => this.kafkaTopic(t)), this.deadLetterTopic];
      const existing = new Set(await admin.listTopics());
      const missing = wanted.filter((t) => !existing.has(t));
      if (missing.length > 0) {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((topic) => ({
            topic,
            numPartitions: this.settings.partitions,
            replicationFactor: this.settings.replicationFactor,
          })),
        });
        this.logger.info('kafka topics created', { topics: missing, partitions: this.settings.partitions });
      }
    } finally {
      await admin.disconnect();
      this.admin = undefined;
    }
  }

  private async startConsumer(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: this.settings.sessionTimeoutMs,
      heartbeatInterval: this.settings.heartbeatIntervalMs,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.logger.error('kafka consumer crashed', { groupId: this.groupId, error: payload.error.message, restart: payload.restart });
    });
    const processor = new BatchProcessor({
      groupId: this.groupId,
      subscriptions: this.subscriptions,
      store: this.config.processedEvents,
      retry: this.retry,
      logger: this.logger,
      recentIdsCapacity: this.settings.recentIdsCapacity,
      heartbeatEveryMs: Math.max(100, Math.floor(this.settings.heartbeatIntervalMs / 3)),
      deadLetter: (record) => this.sendDeadLetter(record),
    });
    // A (re)join may move partitions: what this member knew about a partition is no longer complete.
    consumer.on(consumer.events.GROUP_JOIN, () => processor.resetPartitions());
    await consumer.connect();
    await consumer.subscribe({ topics: [...this.subscriptions.keys()], fromBeginning: this.settings.fromBeginning });
    await consumer.run({
      autoCommit: true,
      autoCommitInterval: this.settings.autoCommitIntervalMs,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.settings.partitionsConsumedConcurrently ?? this.settings.partitions,
      eachBatch: async (payload: EachBatchPayload) => {
        const { batch } = payload;
        await processor.processBatch(
          { topic: batch.topic, partition: batch.partition, messages: batch.messages },
          {
            resolveOffset: (offset) => payload.resolveOffset(offset),
            heartbeat: () => payload.heartbeat(),
            commitOffsetsIfNecessary: () => payload.commitOffsetsIfNecessary(),
            isRunning: () => payload.isRunning(),
            isStale: () => payload.isStale(),
          },
        );
      },
    });
  }

  /** Also while stopping: the handler in hand may end in the dead-letter topic. */
  private async sendDeadLetter(record: DeadLetterRecordV1): Promise<void> {
    await this.produce(this.deadLetterTopic, [
      { key: record.key, value: JSON.stringify(record), headers: { 'content-type': 'application/json' } },
    ]);
  }
}
