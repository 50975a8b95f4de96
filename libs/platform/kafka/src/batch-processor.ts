import { decodeEvent, type CloudEvent, type DeadLetterRecordV1, type EventData, type Topic } from '@studio/contracts';
import {
  backoffDelayMs,
  EventBusUnavailableError,
  rememberAll,
  seenAmong,
  type DeliveryInfo,
  type EventBusLogger,
  type EventHandler,
  type ProcessedEventRef,
  type ProcessedEventStore,
  type RetryPolicy,
} from '@studio/ports';
import { RecentIds } from './recent-ids';

/**
 * The consuming half of the Kafka event bus, free of kafkajs types so it can be tested alone:
 * one partition's batch of raw messages goes in; every message ends handled, skipped as a
 * duplicate, or dead-lettered, and only then is its offset resolved.
 */

export interface InboundMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
}

export interface InboundBatch {
  /** The Kafka topic name (the contract topic, with the bus's prefix if any). */
  topic: string;
  partition: number;
  messages: readonly InboundMessage[];
}

/** What the consumer offers while a batch is processed (kafkajs: EachBatchPayload). */
export interface BatchControls {
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  commitOffsetsIfNecessary(): Promise<void>;
  /** False once the consumer is stopping: finish the message in hand, take no new one. */
  isRunning(): boolean;
  /** True when the partition was re-assigned or seeked: the rest of the batch is not ours. */
  isStale(): boolean;
}

export interface Subscription {
  topic: Topic;
  handler: EventHandler<Topic>;
}

export interface BatchProcessorOptions {
  groupId: string;
  /** By Kafka topic name. */
  subscriptions: ReadonlyMap<string, Subscription>;
  store: ProcessedEventStore;
  retry: RetryPolicy;
  deadLetter: (record: DeadLetterRecordV1) => Promise<void>;
  logger: EventBusLogger;
  /** Heartbeat at least this often while a handler runs and while waiting between retries; default 1000 ms. */
  heartbeatEveryMs?: number;
  /**
   * Longest one handler attempt may take; past it the attempt counts as failed, its
   * `delivery.signal` is aborted and the next attempt (or the dead-letter topic) follows.
   * Keep it below the consumer's session timeout. Default 20,000 ms.
   */
  handlerTimeoutMs?: number;
  /** Processed event ids kept in memory, so duplicates close together cost no lookup; default 10,000. */
  recentIdsCapacity?: number;
  /**
   * Where the store can list a partition's processed ids (processedInPartition), the consumer
   * loads them once per partition assignment, for this window (default 7 days), and then answers
   * "seen before?" from memory: duplicates share the partition key, so they share the partition,
   * and only this member handles it until the next rebalance. Above `partitionIdsLimit` ids
   * (default 200,000) it asks the store per batch instead.
   */
  partitionWindowMs?: number;
  partitionIdsLimit?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

type Outcome = { kind: 'handled'; attempted: boolean } | { kind: 'dead-lettered' } | { kind: 'interrupted' };

interface Done {
  offset: string;
  processed?: ProcessedEventRef;
}

/** An attempt that ran past the handler timeout (its signal was aborted with this error). */
export class HandlerTimeoutError extends Error {
  override readonly name = 'HandlerTimeoutError';

  constructor(
    readonly timeoutMs: number,
    readonly attempt: number,
    readonly maxAttempts: number,
  ) {
    super(`handler exceeded ${timeoutMs} ms (attempt ${attempt} of ${maxAttempts})`);
  }
}

export const DEFAULT_HANDLER_TIMEOUT_MS = 20_000;

export class BatchProcessor {
  private readonly recent: RecentIds;
  private readonly heartbeatEveryMs: number;
  private readonly handlerTimeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  /** Per `topic:partition`: every id processed in the window (authoritative), or 'store' to ask the store. */
  private readonly partitionIds = new Map<string, Set<string> | 'store'>();

  constructor(private readonly options: BatchProcessorOptions) {
    if (options.retry.maxAttempts < 1) throw new Error(`retry.maxAttempts must be >= 1, got ${options.retry.maxAttempts}`);
    this.recent = new RecentIds(options.recentIdsCapacity ?? 10_000);
    this.heartbeatEveryMs = options.heartbeatEveryMs ?? 1_000;
    this.handlerTimeoutMs = options.handlerTimeoutMs ?? DEFAULT_HANDLER_TIMEOUT_MS;
    if (!(this.handlerTimeoutMs > 0)) throw new Error(`handlerTimeoutMs must be > 0, got ${this.handlerTimeoutMs}`);
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  async processBatch(batch: InboundBatch, controls: BatchControls): Promise<void> {
    const subscription = this.options.subscriptions.get(batch.topic);
    if (!subscription)
      throw new Error(`no handler for Kafka topic "${batch.topic}" (subscribed: ${[...this.options.subscriptions.keys()].join(', ')})`);

    const decoded = batch.messages.map((m) => decode(subscription.topic, m));
    const known = await this.knownInPartition(batch.topic, batch.partition);
    const lookup = known ? [] : [...new Set(decoded.flatMap((d) => ('event' in d && !this.recent.has(d.event.id) ? [d.event.id] : [])))];
    const alreadyProcessed = known ?? (await seenAmong(this.options.store, this.options.groupId, lookup));

    let lastBeat = Date.now();
    let firstHandled = true;
    const remembered = new RememberPipeline(this.options.store, this.options.groupId, controls);
    try {
      for (let i = 0; i < batch.messages.length; i++) {
        if (!controls.isRunning() || controls.isStale()) break;
        const message = batch.messages[i] as InboundMessage;
        const d = decoded[i] as Decoded;
        if ('error' in d) {
          await this.deadLetter(batch, message, null, 'invalid-message', d.error, 0);
          remembered.push({ offset: message.offset });
        } else if (this.recent.has(d.event.id) || alreadyProcessed.has(d.event.id)) {
          this.options.logger.debug('duplicate event skipped', {
            topic: batch.topic,
            partition: batch.partition,
            offset: message.offset,
            eventId: d.event.id,
          });
          remembered.push({ offset: message.offset });
        } else {
          const outcome = await this.handle(subscription, batch, message, d.event, controls, firstHandled);
          firstHandled = false;
          if (outcome.kind === 'interrupted') break;
          if (outcome.kind === 'handled') {
            this.recent.add(d.event.id);
            known?.add(d.event.id);
            const processed = { eventId: d.event.id, topic: batch.topic, partition: batch.partition };
            remembered.push({ offset: message.offset, processed: outcome.attempted ? { ...processed, attempted: true } : processed });
          } else {
            remembered.push({ offset: message.offset });
          }
        }
        // Heartbeat and periodic commit between messages, at most every heartbeatEveryMs.
        if (Date.now() - lastBeat >= this.heartbeatEveryMs) {
          await controls.heartbeat();
          await controls.commitOffsetsIfNecessary();
          lastBeat = Date.now();
        }
      }
    } finally {
      await remembered.drain();
    }
    await controls.commitOffsetsIfNecessary();
  }

  /** Call whenever the group (re)joins: which partitions this member owns may have changed. */
  resetPartitions(): void {
    this.partitionIds.clear();
  }

  private async knownInPartition(topic: string, partition: number): Promise<Set<string> | null> {
    const { store, groupId } = this.options;
    if (!store.processedInPartition) return null;
    const key = `${topic}:${partition}`;
    const cached = this.partitionIds.get(key);
    if (cached === 'store') return null;
    if (cached && cached.size <= (this.options.partitionIdsLimit ?? 200_000)) return cached;
    const limit = this.options.partitionIdsLimit ?? 200_000;
    const since = new Date(Date.now() - (this.options.partitionWindowMs ?? 7 * 24 * 3_600_000));
    const ids = cached ? null : await store.processedInPartition(groupId, topic, partition, since, limit);
    if (ids === null) {
      this.partitionIds.set(key, 'store');
      return null;
    }
    const set = new Set(ids);
    this.partitionIds.set(key, set);
    return set;
  }

  /**
   * Attempts are counted in the store, per event id, so that a message delivered again after
   * this consumer lost its session (or crashed, or restarted) continues its count, and a message
   * whose handler never completes still reaches the dead-letter topic. Counting costs a round
   * trip, so it is done where an attempt can have been lost before: for the first message this
   * batch hands to a handler (a fetch resumes at the first message not yet done, so a message
   * whose attempts keep being lost is always the first one handled of its batch), for every
   * retry, and after any failed attempt. A first attempt at a later message that succeeds costs
   * nothing; one lost in a crash is not counted, but its redelivery is (it comes first).
   */
  private async handle(
    subscription: Subscription,
    batch: InboundBatch,
    message: InboundMessage,
    event: CloudEvent<EventData<Topic>>,
    controls: BatchControls,
    firstOfBatch: boolean,
  ): Promise<Outcome> {
    const { maxAttempts } = this.options.retry;
    const { store, groupId } = this.options;
    const where = { topic: batch.topic, partition: batch.partition, offset: message.offset, eventId: event.id };
    let counted = firstOfBatch;
    let attempt = counted ? await store.countAttempt(groupId, event.id) : 1;
    let unavailable = 0;
    for (;;) {
      if (attempt > maxAttempts) {
        // The attempts before this delivery ended without an outcome here: the consumer lost the
        // partition (its session expired), crashed or was restarted in the middle of each.
        const error = `no outcome after ${attempt - 1} attempts of at most ${maxAttempts}: the consumer lost the message (session expired, crash or restart) during the last`;
        return this.giveUp(batch, message, event.id, error, attempt - 1);
      }
      const failure = await this.attempt(subscription, batch, message, event, attempt, controls);
      if (failure === undefined) return { kind: 'handled', attempted: counted };
      if (isEventBusUnavailable(failure.error)) {
        // The handler could not publish its result because the broker is away: not the event's
        // fault, so no attempt is spent (else an outage would dead-letter every event in hand).
        // The same attempt runs again after a back-off; during a long outage the heartbeat fails
        // and the batch is abandoned, to be redelivered once the consumer is back in its group.
        unavailable += 1;
        this.options.logger.warn(
          'event handler could not publish: the event bus is unavailable; trying again without spending an attempt',
          {
            ...where,
            attempt,
            error: describeError(failure.error),
          },
        );
        const waited = await this.waitWithHeartbeats(backoffDelayMs(this.options.retry, unavailable, this.random), controls);
        if (!waited) {
          this.options.logger.info('consumer stopping: retry abandoned, the message will be redelivered', where);
          return { kind: 'interrupted' };
        }
        continue;
      }
      if (!counted) {
        // Record the failed attempt (normally 1; more if earlier ones were lost uncounted).
        attempt = await store.countAttempt(groupId, event.id);
        counted = true;
      }
      this.options.logger.warn('event handler failed', { ...where, attempt, maxAttempts, error: describeError(failure.error) });
      if (attempt >= maxAttempts) return this.giveUp(batch, message, event.id, describeError(failure.error), attempt);
      const waited = await this.waitWithHeartbeats(backoffDelayMs(this.options.retry, attempt, this.random), controls);
      if (!waited) {
        this.options.logger.info('consumer stopping: retry abandoned, the message will be redelivered', where);
        return { kind: 'interrupted' };
      }
      attempt = await store.countAttempt(groupId, event.id);
    }
  }

  /**
   * One attempt, bounded by the handler timeout, heartbeating meanwhile so that a long handler
   * does not cost the consumer its session. Resolves with the failure, or undefined on success.
   */
  private async attempt(
    subscription: Subscription,
    batch: InboundBatch,
    message: InboundMessage,
    event: CloudEvent<EventData<Topic>>,
    attempt: number,
    controls: BatchControls,
  ): Promise<{ error: unknown } | undefined> {
    const abort = new AbortController();
    const ms = this.handlerTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new HandlerTimeoutError(ms, attempt, this.options.retry.maxAttempts);
        abort.abort(error);
        reject(error);
      }, ms);
    });
    const beat = setInterval(() => {
      controls.heartbeat().catch((err: unknown) => {
        // A rebalance or a lost session: the next heartbeat outside the handler reports it to the consumer.
        this.options.logger.debug('heartbeat during a handler failed', {
          topic: batch.topic,
          partition: batch.partition,
          error: describeError(err),
        });
      });
    }, this.heartbeatEveryMs);
    try {
      const delivery: DeliveryInfo = {
        topic: subscription.topic,
        partition: batch.partition,
        offset: message.offset,
        attempt,
        signal: abort.signal,
      };
      await Promise.race([Promise.resolve().then(() => subscription.handler(event, delivery)), timedOut]);
      return undefined;
    } catch (error) {
      return { error };
    } finally {
      clearTimeout(timer);
      clearInterval(beat);
    }
  }

  /** Dead-letters a message whose attempts are spent, then forgets its count (a replay starts afresh). */
  private async giveUp(batch: InboundBatch, message: InboundMessage, eventId: string, error: string, attempts: number): Promise<Outcome> {
    await this.deadLetter(batch, message, eventId, 'handler-failed', error, attempts);
    try {
      await this.options.store.clearAttempts(this.options.groupId, eventId);
    } catch (err) {
      this.options.logger.warn('could not forget the attempts of a dead-lettered event (a replay would be dead-lettered at once)', {
        eventId,
        error: describeError(err),
      });
    }
    return { kind: 'dead-lettered' };
  }

  /** Sleeps `ms` in slices, heartbeating between them; false if the consumer began stopping. */
  private async waitWithHeartbeats(ms: number, controls: BatchControls): Promise<boolean> {
    let remaining = ms;
    while (remaining > 0) {
      if (!controls.isRunning()) return false;
      const slice = Math.min(remaining, this.heartbeatEveryMs);
      await this.sleep(slice);
      remaining -= slice;
      await controls.heartbeat();
    }
    return controls.isRunning() && !controls.isStale();
  }

  private async deadLetter(
    batch: InboundBatch,
    message: InboundMessage,
    eventId: string | null,
    reason: DeadLetterRecordV1['reason'],
    error: string,
    attempts: number,
  ): Promise<void> {
    const record: DeadLetterRecordV1 = {
      version: 'v1',
      originalTopic: batch.topic,
      partition: batch.partition,
      offset: message.offset,
      key: message.key ? message.key.toString('utf8') : null,
      consumerGroup: this.options.groupId,
      eventId,
      reason,
      error,
      attempts,
      failedAt: new Date().toISOString(),
      payload: message.value ? message.value.toString('utf8') : '',
    };
    await this.options.deadLetter(record);
    this.options.logger.error('message dead-lettered', {
      topic: batch.topic,
      partition: batch.partition,
      offset: message.offset,
      eventId,
      reason,
      error,
    });
  }
}

/**
 * Group commit of processed ids: the first id is written at once; ids that finish while a write
 * is in flight go together in the next one. An offset is resolved only once its id, and every
 * id before it, is stored, so a committed offset always implies a remembered id, and a slow
 * handler never delays the record of the events handled before it.
 */
class RememberPipeline {
  private queue: Done[] = [];
  private writing: Promise<void> | undefined;
  private failure: unknown;

  constructor(
    private readonly store: ProcessedEventStore,
    private readonly groupId: string,
    private readonly controls: BatchControls,
  ) {}

  push(done: Done): void {
    if (this.failure !== undefined) throw this.failure;
    this.queue.push(done);
    this.kick();
  }

  async drain(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.failure !== undefined) throw this.failure;
  }

  private kick(): void {
    if (this.writing || this.queue.length === 0 || this.failure !== undefined) return;
    const items = this.queue;
    this.queue = [];
    this.writing = rememberAll(
      this.store,
      this.groupId,
      items.flatMap((d) => (d.processed ? [d.processed] : [])),
    )
      .then(
        () => {
          const last = items[items.length - 1];
          if (last) this.controls.resolveOffset(last.offset);
        },
        (err: unknown) => {
          this.failure = err;
        },
      )
      .finally(() => {
        this.writing = undefined;
        this.kick();
      });
  }
}

type Decoded = { event: CloudEvent<EventData<Topic>> } | { error: string };

/** An EventBusUnavailableError, also where it is the cause of what the handler threw. */
function isEventBusUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof EventBusUnavailableError || (e as { name?: unknown }).name === 'EventBusUnavailableError') return true;
  }
  return false;
}

function decode(topic: Topic, message: InboundMessage): Decoded {
  try {
    return { event: decodeEvent(topic, message.value) };
  } catch (err) {
    return { error: describeError(err) };
  }
}

/** A readable message for any thrown value (Errors, strings, NestJS RPC error objects). */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'string' && err.length > 0) return err;
  try {
    const json = JSON.stringify(err);
    if (json && json !== '{}') return json;
  } catch {
    // not serialisable: fall through
  }
  return String(err) || 'unknown error';
}
