import type { CloudEvent, EventData, Topic } from '@studio/contracts';

export interface DeliveryInfo {
  topic: Topic;
  /** Null on transports without partitions (the in-process bus). */
  partition: number | null;
  offset: string | null;
  /**
   * 1 on the first attempt at this event by this consumer group; grows with retries, also across
   * redeliveries (after a rebalance or a restart) where the bus counts attempts durably.
   */
  attempt: number;
  /**
   * Aborted when the bus stops waiting for this attempt because it ran past the bus's handler
   * timeout (the attempt counts as failed): a well-behaved handler passes it on (fetch, database
   * calls) and stops. Absent on buses that never abandon an attempt.
   */
  signal?: AbortSignal;
}

export type EventHandler<T extends Topic> = (event: CloudEvent<EventData<T>>, delivery: DeliveryInfo) => Promise<void>;

export interface RetryPolicy {
  /** Total handler attempts before the message is dead-lettered (>= 1). */
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

/**
 * The bus could not take an event now (the broker is unreachable, or did not acknowledge in
 * time): nothing was published, or at worst the event will still arrive, once (consumers skip
 * event ids they have handled). Retry later with the same event id. `statusCode` is 503, so an
 * HTTP framework that knows the http-errors convention (NestJS does) answers 503 with its message.
 */
export class EventBusUnavailableError extends Error {
  override readonly name = 'EventBusUnavailableError';
  readonly statusCode = 503;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Whether a bus instance is able to do its work now (for readiness checks). */
export interface EventBusHealth {
  /** True when the bus is started and, if it consumes, a member of its consumer group. */
  ready: boolean;
  /** Why, in a few words: e.g. "consumer group framer: member since 2026-…" or "consumer crashed, rejoining in 2000 ms". */
  detail: string;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, initialBackoffMs: 100, maxBackoffMs: 5_000 };

/** Exponential backoff with full jitter, capped. `attempt` counts from 1. */
export function backoffDelayMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Publish/subscribe of validated CloudEvents.
 * - publish validates the event against its topic's contract and keys it by context id;
 * - delivery is at least once; handlers see each event id once per consumer group
 *   (deduplicated through a durable ProcessedEventStore);
 * - a handler that keeps failing is retried with backoff, then its message goes to the
 *   dead-letter topic with the error, and consumption moves on.
 */
export interface EventBus {
  publish<T extends Topic>(topic: T, event: CloudEvent<EventData<T>>): Promise<void>;
  /**
   * Optional batch form of publish: validates every event first (nothing is sent if one is
   * invalid), then sends them in one round trip where the transport allows. Use `publishAll`
   * to call it on any bus.
   */
  publishMany?<T extends Topic>(topic: T, events: readonly CloudEvent<EventData<T>>[]): Promise<void>;
  /** Register before start(). One handler per topic per bus instance. */
  subscribe<T extends Topic>(topic: T, handler: EventHandler<T>): void;
  start(): Promise<void>;
  /** Graceful: stop taking new messages, finish in-flight handlers, commit, disconnect. */
  stop(): Promise<void>;
  /** Optional: whether this instance can do its work now, from what it knows (no round trip). */
  health?(): EventBusHealth;
}

/** Durable record of event ids a consumer group has fully processed. */
export interface ProcessedEventStore {
  has(consumerGroup: string, eventId: string): Promise<boolean>;
  remember(consumerGroup: string, eventId: string, topic: string): Promise<void>;
  /** Optional batch form of `has`: the subset of `eventIds` already processed, in one round trip. */
  seenAmong?(consumerGroup: string, eventIds: readonly string[]): Promise<Set<string>>;
  /** Optional batch form of `remember` (idempotent, like `remember`). */
  rememberMany?(consumerGroup: string, events: readonly ProcessedEventRef[]): Promise<void>;
  /**
   * Optional: the ids remembered for one topic partition since `since`, or null when there are
   * more than `limit`. A consumer that owns the partition can then answer `has` from memory.
   */
  processedInPartition?(consumerGroup: string, topic: string, partition: number, since: Date, limit: number): Promise<string[] | null>;
  /**
   * Counts one more handler attempt at an event and returns the count so far (1 for the first).
   * The count is durable, per group and event id: a message delivered again after its consumer
   * lost its session, crashed or was restarted continues it, so a message that never completes
   * still reaches the dead-letter topic after `maxAttempts`. Counts may expire after a while
   * (a day or more); `clearAttempts`, and remembering the event with `attempted: true`, forget them.
   */
  countAttempt(consumerGroup: string, eventId: string): Promise<number>;
  /** Forgets an event's attempts (after it is dead-lettered, so that a replay starts again at 1). */
  clearAttempts(consumerGroup: string, eventId: string): Promise<void>;
}

export interface ProcessedEventRef {
  eventId: string;
  topic: string;
  /** The partition the event was consumed from, where the transport has partitions. */
  partition?: number;
  /** True when an attempt count was kept for the event (countAttempt): remembering it forgets the count. */
  attempted?: boolean;
}

/** Publishes a batch through `publishMany` where the bus has it, else one event after another. */
export async function publishAll<T extends Topic>(bus: EventBus, topic: T, events: readonly CloudEvent<EventData<T>>[]): Promise<void> {
  if (bus.publishMany) return bus.publishMany(topic, events);
  for (const event of events) await bus.publish(topic, event);
}

/** The ids among `eventIds` that `store` has seen, in one round trip where the store allows. */
export async function seenAmong(store: ProcessedEventStore, consumerGroup: string, eventIds: readonly string[]): Promise<Set<string>> {
  if (eventIds.length === 0) return new Set();
  if (store.seenAmong) return store.seenAmong(consumerGroup, eventIds);
  const seen = await Promise.all(eventIds.map((id) => store.has(consumerGroup, id)));
  return new Set(eventIds.filter((_, i) => seen[i]));
}

/** Remembers a batch of processed events, in one round trip where the store allows. */
export async function rememberAll(store: ProcessedEventStore, consumerGroup: string, events: readonly ProcessedEventRef[]): Promise<void> {
  if (events.length === 0) return;
  if (store.rememberMany) return store.rememberMany(consumerGroup, events);
  await Promise.all(events.map((e) => store.remember(consumerGroup, e.eventId, e.topic)));
}

/** Where the event bus adapters log (console, a NestJS Logger adapter, pino...). */
export interface EventBusLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}
