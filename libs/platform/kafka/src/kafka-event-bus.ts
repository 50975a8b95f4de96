import './kafkajs-fixes';
import {
  Kafka,
  Partitioners,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type ISocketFactory,
  type KafkaConfig,
  type SASLOptions,
  type Message,
  type Producer,
} from 'kafkajs';
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
  EventBusUnavailableError,
  type EventBus,
  type EventBusHealth,
  type EventBusLogger,
  type EventHandler,
  type ProcessedEventStore,
  type RetryPolicy,
} from '@studio/ports';
import { BatchProcessor, describeError, type Subscription } from './batch-processor';
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
  sessionTimeoutMs: z.number().int().min(6_000, 'must be at least 6000 (the broker refuses shorter sessions by default)').default(30_000),
  heartbeatIntervalMs: z.number().int().positive().default(3_000),
  handlerTimeoutMs: z.number().int().positive().optional(),
  publishTimeoutMs: z.number().int().positive().default(5_000),
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
  /**
   * How long the broker keeps this consumer in its group without a heartbeat; default 30,000
   * (at least 6,000, the broker's minimum). Heartbeats go out while handlers run.
   */
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /**
   * Longest one handler attempt may take; past it the attempt counts as failed (its
   * `delivery.signal` is aborted) and is retried or dead-lettered. Must be below
   * `sessionTimeoutMs`; default two thirds of it (20,000 ms). Longer work belongs on a job queue.
   */
  handlerTimeoutMs?: number;
  /**
   * Longest a publish may wait for the broker before it fails with EventBusUnavailableError
   * (connecting, metadata, retries and acknowledgement included); default 5,000 ms.
   */
  publishTimeoutMs?: number;
  /** Resolved offsets are committed at least this often during a long batch (and after every batch); default 5000. */
  autoCommitIntervalMs?: number;
  /** kafkajs's own log lines at this level and above go to `logger`; default 'warn'. */
  kafkaLogLevel?: KafkaLogLevel;
  /** Handled ids kept in memory to skip store lookups for close duplicates; default 10,000. */
  recentIdsCapacity?: number;
  /** How kafkajs opens its sockets (a proxy, or a test that cuts this client off the network); default plain TCP. */
  socketFactory?: ISocketFactory;
  /** SASL authentication (PLAIN or SCRAM) and TLS to the brokers: see `kafkaClientSecurity`. Default neither. */
  security?: KafkaClientSecurity;
}

/** How a Kafka client authenticates and whether it speaks TLS (the shape of @studio/config's KafkaSecurity). */
export interface KafkaClientSecurity {
  sasl: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string } | null;
  ssl: boolean;
}

/** The kafkajs client options for `security`: `sasl` only when a mechanism is configured, `ssl` only when on. */
export function kafkaClientSecurity(security: KafkaClientSecurity | undefined): Pick<KafkaConfig, 'sasl' | 'ssl'> {
  if (!security) return {};
  const { sasl, ssl } = security;
  return {
    ...(sasl ? { sasl: { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } as SASLOptions } : {}),
    ...(ssl ? { ssl: true } : {}),
  };
}

type State = 'created' | 'starting' | 'started' | 'stopping' | 'stopped';

const TOPIC_CREATION_ATTEMPTS = 6;

/** Errors a broker gives while it is still electing the leaders of new partitions. */
export function isTransientTopicError(error: unknown): boolean {
  const text = `${String(error)} ${(error as { type?: unknown } | null)?.type ?? ''}`;
  return /does not host this topic-partition|UNKNOWN_TOPIC_OR_PARTITION|LEADER_NOT_AVAILABLE|NOT_LEADER_FOR_PARTITION|leader.*not available/i.test(
    text,
  );
}

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
  private readonly handlerTimeoutMs: number;
  private processor: BatchProcessor | undefined;
  /** What the consumer's instrumentation events say about its membership of the group. */
  private membership: Membership = { joined: false, since: Date.now(), why: 'the consumer has not joined its group yet' };
  private restartTimer: NodeJS.Timeout | undefined;
  private restarting: Promise<void> | undefined;
  private consecutiveRestarts = 0;

  constructor(private readonly config: KafkaEventBusConfig) {
    const { processedEvents: _store, retry, logger, socketFactory, security, ...settings } = config;
    this.settings = parseWith(KafkaEventBusSettings, settings, 'KafkaEventBus configuration');
    const { sessionTimeoutMs, heartbeatIntervalMs } = this.settings;
    if (heartbeatIntervalMs >= sessionTimeoutMs)
      throw new Error(
        `KafkaEventBus configuration: heartbeatIntervalMs (${heartbeatIntervalMs}) must be below sessionTimeoutMs (${sessionTimeoutMs}), typically a third of it`,
      );
    this.handlerTimeoutMs = this.settings.handlerTimeoutMs ?? Math.floor((sessionTimeoutMs * 2) / 3);
    if (this.handlerTimeoutMs >= sessionTimeoutMs)
      throw new Error(
        `KafkaEventBus configuration: handlerTimeoutMs (${this.handlerTimeoutMs}) must be below sessionTimeoutMs (${sessionTimeoutMs}): ` +
          'a handler that outlives the session costs the consumer its partitions; move longer work to a job queue',
      );
    this.retry = retry ?? DEFAULT_RETRY_POLICY;
    if (this.retry.maxAttempts < 1) throw new Error(`retry.maxAttempts must be >= 1, got ${this.retry.maxAttempts}`);
    this.groupId = this.settings.groupId;
    this.logger = logger ?? consoleEventBusLogger();
    this.kafka = new Kafka({
      clientId: this.settings.clientId,
      brokers: this.settings.brokers,
      logLevel: KAFKA_LOG_LEVELS[this.settings.kafkaLogLevel],
      logCreator: kafkajsLogCreator(this.logger),
      ...kafkaClientSecurity(security),
      ...(socketFactory ? { socketFactory } : {}),
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

  /**
   * Ready when started and, if it consumes, a member of its consumer group: it joined (kafkajs
   * GROUP_JOIN), has not crashed, stopped or disconnected since, and the broker accepted a
   * heartbeat within the session timeout (during a broker outage none is, so this turns false
   * within one session timeout, before kafkajs gives up and crashes).
   */
  health(): EventBusHealth {
    if (this.state !== 'started') return { ready: false, detail: `the event bus is ${this.state}` };
    if (this.subscriptions.size === 0) return { ready: true, detail: 'publishing only (no consumer)' };
    const m = this.membership;
    if (!m.joined) return { ready: false, detail: `consumer group ${this.groupId}: not a member: ${m.why}` };
    const silentMs = Date.now() - m.lastHeartbeatAt;
    if (silentMs > this.settings.sessionTimeoutMs)
      return {
        ready: false,
        detail: `consumer group ${this.groupId}: no heartbeat accepted for ${silentMs} ms (session timeout ${this.settings.sessionTimeoutMs} ms): the broker is unreachable or the group is rebalancing`,
      };
    return {
      ready: true,
      detail: `consumer group ${this.groupId}: member since ${new Date(m.since).toISOString()}, ${m.partitions} partition(s) assigned`,
    };
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
    try {
      await this.prepare();
      if (this.subscriptions.size > 0) await this.startConsumer();
    } catch (error) {
      // A failed start can be tried again (the topics that were created stay).
      this.state = 'created';
      throw error;
    }
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
    // Each step is bounded: against an unreachable or hung broker a disconnect can otherwise wait
    // for kafkajs's request timeout (30 s) and its retries.
    const attempt = async (what: string, withinMs: number, fn: () => Promise<void>) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          fn(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`${what} did not finish within ${withinMs} ms`)), withinMs);
          }),
        ]);
      } catch (err) {
        errors.push(err);
        this.logger.error(`kafka event bus: ${what} failed while stopping`, { error: String(err) });
      } finally {
        clearTimeout(timer);
      }
    };
    clearTimeout(this.restartTimer);
    if (this.restarting) await attempt('consumer restart', this.settings.sessionTimeoutMs, () => this.restarting as Promise<void>);
    // kafkajs's disconnect stops fetching, waits for the running eachBatch (one handler attempt at
    // most: a retry not yet begun is left for redelivery), commits and leaves the group.
    const consumer = this.consumer;
    if (consumer) await attempt('consumer disconnect', this.handlerTimeoutMs + this.settings.sessionTimeoutMs, () => consumer.disconnect());
    const producer = this.producer;
    if (producer) await attempt('producer disconnect', 5_000, () => producer.disconnect());
    const admin = this.admin;
    if (admin) await attempt('admin disconnect', 5_000, () => admin.disconnect());
    this.state = 'stopped';
    this.logger.info('kafka event bus stopped', { groupId: this.groupId });
    if (errors.length > 0) throw new AggregateError(errors, `kafka event bus ${this.groupId} did not stop cleanly`);
  }

  /**
   * Publishes within `publishTimeoutMs` or fails with EventBusUnavailableError: the producer's
   * own retries are bounded by the same time, so a send reported failed does not linger and
   * arrive much later (at worst one in flight at the deadline still does: consumers skip the
   * duplicate id if the caller publishes it again).
   */
  private async send(topic: string, messages: Message[]): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped')
      throw new Error(`cannot publish to "${topic}": the event bus is ${this.state}`);
    const ms = this.settings.publishTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new EventBusUnavailableError(`the event bus could not publish to "${topic}" within ${ms} ms: the Kafka broker did not answer`),
          ),
        ms,
      );
    });
    const sending = (async () => {
      await this.prepare();
      await this.produce(topic, messages);
    })();
    try {
      await Promise.race([sending, deadline]);
    } catch (err) {
      if (err instanceof EventBusUnavailableError) {
        sending.catch(() => undefined); // its failure, if any, comes later and is already reported
        throw err;
      }
      if (isBrokerUnavailable(err))
        throw new EventBusUnavailableError(`the event bus could not publish to "${topic}": ${describeError(err)}`, { cause: err });
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private async produce(topic: string, messages: Message[]): Promise<void> {
    if (!this.producer) throw new Error(`cannot send to "${topic}": the producer is not connected`);
    await this.producer.send({ topic, messages, acks: -1 });
  }

  /** Once: topics exist and the producer is connected (publish may come before start). */
  private prepare(): Promise<void> {
    this.prepared ??= (async () => {
      await this.ensureTopics();
      // Not idempotent: kafkajs then retries without end, so a publish during a broker outage would
      // never report failure. Retries are bounded by publishTimeoutMs instead; one in flight keeps
      // the order, and a rare duplicate after a lost acknowledgement is skipped by consumers (event ids).
      const producer = this.kafka.producer({
        idempotent: false,
        retry: { retries: 5, initialRetryTime: 100, maxRetryTime: Math.max(200, Math.floor(this.settings.publishTimeoutMs / 2)) },
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
        const topics = missing.map((topic) => ({
          topic,
          numPartitions: this.settings.partitions,
          replicationFactor: this.settings.replicationFactor,
        }));
        // While a busy broker assigns the new partitions, waiting for their leaders can fail with
        // "This server does not host this topic-partition", which kafkajs does not retry.
        for (let attempt = 1; ; attempt += 1) {
          try {
            await admin.createTopics({ waitForLeaders: true, topics });
            break;
          } catch (error) {
            if (attempt >= TOPIC_CREATION_ATTEMPTS || !isTransientTopicError(error)) throw error;
            this.logger.warn('kafka topics not ready yet, trying again', { attempt, error: String(error) });
            await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
          }
        }
        this.logger.info('kafka topics created', { topics: missing, partitions: this.settings.partitions });
      }
    } finally {
      await admin.disconnect();
      this.admin = undefined;
    }
  }

  private batchProcessor(): BatchProcessor {
    this.processor ??= new BatchProcessor({
      groupId: this.groupId,
      subscriptions: this.subscriptions,
      store: this.config.processedEvents,
      retry: this.retry,
      logger: this.logger,
      recentIdsCapacity: this.settings.recentIdsCapacity,
      heartbeatEveryMs: Math.max(100, Math.floor(this.settings.heartbeatIntervalMs / 3)),
      handlerTimeoutMs: this.handlerTimeoutMs,
      deadLetter: (record) => this.sendDeadLetter(record),
    });
    return this.processor;
  }

  private async startConsumer(): Promise<void> {
    const { sessionTimeoutMs, heartbeatIntervalMs } = this.settings;
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: sessionTimeoutMs,
      heartbeatInterval: heartbeatIntervalMs,
      // An idle consumer heartbeats after each fetch: wait at most a third of the session for data.
      maxWaitTimeInMs: Math.min(5_000, Math.floor(sessionTimeoutMs / 3)),
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    const processor = this.batchProcessor();
    const mine = () => this.consumer === consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      if (!mine()) return;
      // A (re)join may move partitions: what this member knew about a partition is no longer complete.
      processor.resetPartitions();
      const partitions = Object.values(payload.memberAssignment).reduce((n, ps) => n + ps.length, 0);
      this.membership = { joined: true, since: Date.now(), lastHeartbeatAt: Date.now(), partitions };
      this.consecutiveRestarts = 0;
    });
    consumer.on(consumer.events.HEARTBEAT, () => {
      if (mine() && this.membership.joined) this.membership.lastHeartbeatAt = Date.now();
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!mine()) return;
      this.logger.error('kafka consumer crashed', { groupId: this.groupId, error: payload.error.message, restart: payload.restart });
      this.left(`the consumer crashed (${payload.error.message}); ${payload.restart ? 'kafkajs restarts it' : 'restarting it'}`);
      // kafkajs restarts a consumer only after a retriable error; after any other it stays out of
      // its group for good (the group stays empty after a broker outage): restart it here.
      if (!payload.restart) this.scheduleRestart();
    });
    consumer.on(consumer.events.DISCONNECT, () => {
      if (mine()) this.left('the consumer disconnected');
    });
    consumer.on(consumer.events.STOP, () => {
      if (mine()) this.left('the consumer stopped');
    });
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

  private left(why: string): void {
    if (this.membership.joined || this.membership.why !== why) this.membership = { joined: false, since: Date.now(), why };
  }

  /** Replaces a crashed consumer that kafkajs will not restart, with growing back-off (1 s .. 30 s). */
  private scheduleRestart(): void {
    if (this.state !== 'started' && this.state !== 'starting') return;
    clearTimeout(this.restartTimer);
    const delay = Math.min(30_000, 1_000 * 2 ** this.consecutiveRestarts);
    this.consecutiveRestarts += 1;
    this.logger.warn('kafka consumer: restarting', { groupId: this.groupId, inMs: delay, restart: this.consecutiveRestarts });
    this.restartTimer = setTimeout(() => {
      if (this.state !== 'started') return;
      this.restarting = (async () => {
        const crashed = this.consumer;
        await crashed?.disconnect().catch(() => undefined);
        try {
          await this.startConsumer();
        } catch (err) {
          this.logger.error('kafka consumer: restart failed', { groupId: this.groupId, error: describeError(err) });
          this.left(`restarting the consumer failed (${describeError(err)})`);
          this.scheduleRestart();
        }
      })().finally(() => {
        this.restarting = undefined;
      });
    }, delay);
  }

  /** Also while stopping: the handler in hand may end in the dead-letter topic. */
  private async sendDeadLetter(record: DeadLetterRecordV1): Promise<void> {
    await this.produce(this.deadLetterTopic, [
      { key: record.key, value: JSON.stringify(record), headers: { 'content-type': 'application/json' } },
    ]);
  }
}

type Membership =
  { joined: true; since: number; lastHeartbeatAt: number; partitions: number } | { joined: false; since: number; why: string };

/** kafkajs errors that mean the broker could not be reached or did not answer in time. */
const UNAVAILABLE = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSLockTimeout',
  'KafkaJSTimeout',
]);

function isBrokerUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (UNAVAILABLE.has((e as { name?: string }).name ?? '')) return true;
  }
  return false;
}
