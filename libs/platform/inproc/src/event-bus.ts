import { decodeEvent, parseEvent, type CloudEvent, type DeadLetterRecordV1, type EventData, type Topic } from '@studio/contracts';
import {
  backoffDelayMs,
  DEFAULT_RETRY_POLICY,
  type EventBus,
  type EventBusLogger,
  type EventHandler,
  type ProcessedEventRef,
  type ProcessedEventStore,
  type RetryPolicy,
} from '@studio/ports';

/**
 * Processed event ids kept in memory: for the embedded profile, tests, and consumers whose
 * deduplication need not outlive the process (the gateway's live feed). With `maxIds` it keeps
 * only the most recent ids (the oldest are forgotten first), so a long-lived consumer's memory
 * stays bounded.
 */
export class InMemoryProcessedEventStore implements ProcessedEventStore {
  private readonly seen = new Map<string, string>();
  private readonly attempts = new Map<string, number>();
  private readonly maxIds: number;

  constructor(options: { maxIds?: number } = {}) {
    const maxIds = options.maxIds ?? Number.POSITIVE_INFINITY;
    if (!(maxIds >= 1)) throw new Error(`maxIds must be at least 1, got ${maxIds}`);
    this.maxIds = maxIds;
  }

  async has(consumerGroup: string, eventId: string): Promise<boolean> {
    return this.seen.has(`${consumerGroup}:${eventId}`);
  }

  async remember(consumerGroup: string, eventId: string, topic: string): Promise<void> {
    const key = `${consumerGroup}:${eventId}`;
    if (!this.seen.has(key)) {
      this.seen.set(key, topic);
      // Maps iterate in insertion order: the first key is the oldest.
      if (this.seen.size > this.maxIds) this.seen.delete(this.seen.keys().next().value as string);
    }
    this.attempts.delete(key);
  }

  async seenAmong(consumerGroup: string, eventIds: readonly string[]): Promise<Set<string>> {
    return new Set(eventIds.filter((id) => this.seen.has(`${consumerGroup}:${id}`)));
  }

  async rememberMany(consumerGroup: string, events: readonly ProcessedEventRef[]): Promise<void> {
    for (const e of events) await this.remember(consumerGroup, e.eventId, e.topic);
  }

  async countAttempt(consumerGroup: string, eventId: string): Promise<number> {
    const key = `${consumerGroup}:${eventId}`;
    const count = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, count);
    return count;
  }

  async clearAttempts(consumerGroup: string, eventId: string): Promise<void> {
    this.attempts.delete(`${consumerGroup}:${eventId}`);
  }

  /** Number of remembered (group, event id) pairs. */
  get size(): number {
    return this.seen.size;
  }
}

export interface InProcessEventBusOptions {
  /** Plays the role of the Kafka consumer group for deduplication; default `inproc`. */
  groupId?: string;
  retry?: RetryPolicy;
  /** Default: a fresh InMemoryProcessedEventStore. */
  processedEvents?: ProcessedEventStore;
  logger?: EventBusLogger;
  /** Called (and awaited) for every dead-lettered message; the records are also kept in `deadLetters`. */
  onDeadLetter?: (record: DeadLetterRecordV1) => void | Promise<void>;
  /** Injected for tests; default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  /** Injected for tests; default Math.random (backoff jitter). */
  random?: () => number;
  /**
   * Connects this bus to the other buses of one process (the services of the embedded profile),
   * as consumer groups of one Kafka cluster: what any of them publishes reaches every member that
   * subscribed to the topic, each deduplicating under its own groupId. Default: none (this bus
   * delivers only to its own handlers).
   */
  broker?: InProcessBroker;
}

/**
 * The Kafka cluster of one process: buses created with `broker` share their topics. A member
 * that has not started holds the messages until it does (as a consumer group's log would); one
 * that has stopped no longer receives.
 */
export class InProcessBroker {
  private readonly members = new Set<InProcessEventBus>();

  /** @internal */
  join(bus: InProcessEventBus): void {
    this.members.add(bus);
  }

  /** @internal */
  deliver(envelopes: readonly InProcessEnvelope[]): void {
    for (const member of this.members) member.receive(envelopes);
  }

  /** The groupIds of the connected buses. */
  get groups(): string[] {
    return [...this.members].map((m) => m.groupId);
  }
}

type State = 'created' | 'started' | 'stopping' | 'stopped';

/** A message as it travels between the buses of a broker: JSON, with its partition key. */
export interface InProcessEnvelope {
  topic: Topic;
  key: string | null;
  value: string;
}

const silent: EventBusLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The EventBus of the embedded profile, with Kafka's semantics in one process:
 * events are validated on publish and again on delivery (they travel as JSON, so a handler
 * never shares an object with the publisher); events with the same partition key (context id)
 * are handled in publish order, different keys concurrently; an event id is handled once per
 * group (ProcessedEventStore); a failing handler is retried with backoff, then dead-lettered;
 * `stop()` refuses new events and drains everything already accepted.
 * Events published before `start()` are held and delivered on start, as a Kafka log would.
 */
export class InProcessEventBus implements EventBus {
  readonly groupId: string;
  private readonly retry: RetryPolicy;
  private readonly store: ProcessedEventStore;
  private readonly logger: EventBusLogger;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly handlers = new Map<Topic, EventHandler<Topic>>();
  private readonly tails = new Map<string, Promise<void>>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly held: InProcessEnvelope[] = [];
  private readonly deadLettered: DeadLetterRecordV1[] = [];
  private state: State = 'created';

  constructor(private readonly options: InProcessEventBusOptions = {}) {
    this.groupId = options.groupId ?? 'inproc';
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
    if (this.retry.maxAttempts < 1) throw new Error(`retry.maxAttempts must be >= 1, got ${this.retry.maxAttempts}`);
    this.store = options.processedEvents ?? new InMemoryProcessedEventStore();
    this.logger = options.logger ?? silent;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    options.broker?.join(this);
  }

  /** Every message dead-lettered so far, oldest first. */
  get deadLetters(): readonly DeadLetterRecordV1[] {
    return this.deadLettered;
  }

  subscribe<T extends Topic>(topic: T, handler: EventHandler<T>): void {
    if (this.state !== 'created') throw new Error(`subscribe("${topic}") must be called before start()`);
    if (this.handlers.has(topic)) throw new Error(`topic "${topic}" already has a handler on this bus`);
    this.handlers.set(topic, handler as unknown as EventHandler<Topic>);
  }

  async publish<T extends Topic>(topic: T, event: CloudEvent<EventData<T>>): Promise<void> {
    await this.publishMany(topic, [event]);
  }

  async publishMany<T extends Topic>(topic: T, events: readonly CloudEvent<EventData<T>>[]): Promise<void> {
    this.assertAccepting(topic);
    const envelopes = events.map((e) => {
      const valid = parseEvent(topic, e);
      return { topic, key: valid.partitionkey, value: JSON.stringify(valid) };
    });
    this.send(envelopes);
  }

  /**
   * Delivers a message exactly as given, without validation on the way in: it is validated on
   * delivery like any other, so this reproduces a malformed message (replays, tests).
   */
  publishRaw(topic: Topic, key: string | null, value: string): void {
    this.assertAccepting(topic);
    this.send([{ topic, key, value }]);
  }

  /** @internal Messages published on the broker by any member (this one included). */
  receive(envelopes: readonly InProcessEnvelope[]): void {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    for (const envelope of envelopes) this.accept(envelope);
  }

  private send(envelopes: readonly InProcessEnvelope[]): void {
    if (this.options.broker) this.options.broker.deliver(envelopes);
    else for (const envelope of envelopes) this.accept(envelope);
  }

  async start(): Promise<void> {
    if (this.state !== 'created') throw new Error(`cannot start an event bus that is ${this.state}`);
    this.state = 'started';
    this.logger.info('in-process event bus started', { groupId: this.groupId, topics: [...this.handlers.keys()] });
    for (const envelope of this.held.splice(0)) this.dispatch(envelope);
  }

  /** Resolves when every accepted message has been handled or dead-lettered. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return this.idle();
    const wasStarted = this.state === 'started';
    this.state = 'stopping';
    await this.idle();
    if (this.held.length > 0) this.logger.warn('event bus stopped before start: held events dropped', { count: this.held.length });
    this.state = 'stopped';
    if (wasStarted) this.logger.info('in-process event bus stopped', { groupId: this.groupId });
  }

  private assertAccepting(topic: string): void {
    if (this.state === 'stopping' || this.state === 'stopped') {
      throw new Error(`cannot publish to "${topic}": the event bus is ${this.state}`);
    }
  }

  private accept(envelope: InProcessEnvelope): void {
    if (this.state === 'created') this.held.push(envelope);
    else this.dispatch(envelope);
  }

  /** Chains the message behind earlier messages with the same topic and key. */
  private dispatch(envelope: InProcessEnvelope): void {
    if (!this.handlers.has(envelope.topic)) return;
    const lane = `${envelope.topic}\u0000${envelope.key ?? ''}`;
    const previous = this.tails.get(lane) ?? Promise.resolve();
    const next = previous.then(() => this.deliver(envelope));
    this.tails.set(lane, next);
    this.inFlight.add(next);
    void next.finally(() => {
      this.inFlight.delete(next);
      if (this.tails.get(lane) === next) this.tails.delete(lane);
    });
  }

  private async deliver(envelope: InProcessEnvelope): Promise<void> {
    try {
      await this.handle(envelope);
    } catch (err) {
      // Only the store or the dead-letter callback can get here: nothing is lost silently.
      this.logger.error('event delivery failed outside the handler', { topic: envelope.topic, error: describeError(err) });
    }
  }

  private async handle({ topic, key, value }: InProcessEnvelope): Promise<void> {
    const handler = this.handlers.get(topic);
    if (!handler) return;
    let event: CloudEvent<EventData<Topic>>;
    try {
      event = decodeEvent(topic, value);
    } catch (err) {
      await this.deadLetter({ topic, key, value, eventId: null, reason: 'invalid-message', error: describeError(err), attempts: 0 });
      return;
    }
    if (await this.store.has(this.groupId, event.id)) {
      this.logger.debug('duplicate event skipped', { topic, eventId: event.id });
      return;
    }
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.retry.maxAttempts; attempt++) {
      try {
        await handler(event, { topic, partition: null, offset: null, attempt });
        await this.store.remember(this.groupId, event.id, topic);
        return;
      } catch (err) {
        lastError = err;
        this.logger.warn('event handler failed', { topic, eventId: event.id, attempt, error: describeError(err) });
        if (attempt < this.retry.maxAttempts) await this.sleep(backoffDelayMs(this.retry, attempt, this.random));
      }
    }
    await this.deadLetter({
      topic,
      key,
      value,
      eventId: event.id,
      reason: 'handler-failed',
      error: describeError(lastError),
      attempts: this.retry.maxAttempts,
    });
  }

  private async deadLetter(input: {
    topic: Topic;
    key: string | null;
    value: string;
    eventId: string | null;
    reason: DeadLetterRecordV1['reason'];
    error: string;
    attempts: number;
  }): Promise<void> {
    const record: DeadLetterRecordV1 = {
      version: 'v1',
      originalTopic: input.topic,
      partition: null,
      offset: null,
      key: input.key,
      consumerGroup: this.groupId,
      eventId: input.eventId,
      reason: input.reason,
      error: input.error,
      attempts: input.attempts,
      failedAt: new Date().toISOString(),
      payload: input.value,
    };
    this.deadLettered.push(record);
    this.logger.error('message dead-lettered', { topic: input.topic, eventId: input.eventId, reason: input.reason, error: input.error });
    await this.options.onDeadLetter?.(record);
  }
}

function describeError(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'string' && err.length > 0) return err;
  try {
    const json = JSON.stringify(err);
    if (json && json !== '{}') return json;
  } catch {
    // fall through
  }
  return String(err) || 'unknown error';
}
