import type { ChainableCommander, Redis } from 'ioredis';
import type { ProcessedEventRef, ProcessedEventStore } from '@studio/ports';

/** Seven days: the window in which the Kafka event bus looks for duplicates of a partition's events. */
export const DEFAULT_PROCESSED_TTL_SECONDS = 7 * 24 * 3_600;

/** One day: how long an event's attempt count outlives its last attempt. */
export const DEFAULT_ATTEMPTS_TTL_SECONDS = 24 * 3_600;

export interface RedisProcessedEventStoreOptions {
  /** How long a processed id is remembered, in whole seconds; default 7 days. */
  ttlSeconds?: number;
  /** How long an attempt count is kept after the last attempt, in whole seconds; default 1 day. */
  attemptsTtlSeconds?: number;
  /** First part of every key; default `studio`. Keys are `<prefix>:processed:<group>:<eventId>`. */
  keyPrefix?: string;
}

/**
 * The event ids each consumer group has handled, in Redis (ioredis).
 *
 * - one string key per handled event, `studio:processed:<group>:<eventId>`, whose value is the
 *   topic, written with `SET NX EX` (a repeat keeps the first write and its expiry) and
 *   expiring after `ttlSeconds` (default 7 days, the Kafka bus's duplicate window);
 * - `has` is `EXISTS`, `seenAmong` one `MGET`, `rememberMany` one `MULTI`/`EXEC`;
 * - events remembered with a partition are also added to one sorted set per group, topic and
 *   partition (`studio:processed-partition:<group>:<topic>:<partition>`, member = event id,
 *   score = first processing time in ms), trimmed to the TTL window on each write and expiring
 *   with it, so that `processedInPartition` is one `ZRANGEBYSCORE`;
 * - handler attempts at an event are counted in `studio:attempts:<group>:<eventId>` with
 *   `INCR` and `EXPIRE attemptsTtlSeconds` in one transaction; remembering the event with
 *   `attempted: true` (or `clearAttempts`) deletes the count.
 *
 * Durability: deduplication survives a restart of the consumer, and of Redis only as far as
 * Redis persists its data (deploy/local runs it with `appendonly yes`; with `appendfsync
 * everysec` up to a second of records can be lost in a crash, which means at most that
 * second's events are handled again). A Redis without persistence forgets every id on restart.
 *
 * Keys of one group spread over all hash slots, so `seenAmong` and `rememberMany` need a
 * single (non-cluster) Redis. A group name containing `:` could in principle collide with
 * another group's key; the services' group names do not contain one.
 */
export class RedisProcessedEventStore implements ProcessedEventStore {
  readonly ttlSeconds: number;
  readonly attemptsTtlSeconds: number;
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    options: RedisProcessedEventStoreOptions = {},
  ) {
    const ttl = options.ttlSeconds ?? DEFAULT_PROCESSED_TTL_SECONDS;
    if (!Number.isInteger(ttl) || ttl < 1)
      throw new Error(`RedisProcessedEventStore ttlSeconds must be a positive whole number of seconds, got ${ttl}`);
    const attemptsTtl = options.attemptsTtlSeconds ?? DEFAULT_ATTEMPTS_TTL_SECONDS;
    if (!Number.isInteger(attemptsTtl) || attemptsTtl < 1)
      throw new Error(`RedisProcessedEventStore attemptsTtlSeconds must be a positive whole number of seconds, got ${attemptsTtl}`);
    const prefix = options.keyPrefix ?? 'studio';
    if (prefix === '') throw new Error('RedisProcessedEventStore keyPrefix must not be empty');
    this.ttlSeconds = ttl;
    this.attemptsTtlSeconds = attemptsTtl;
    this.prefix = prefix;
  }

  /** The key that records one processed event of one consumer group. */
  key(consumerGroup: string, eventId: string): string {
    return `${this.prefix}:processed:${consumerGroup}:${eventId}`;
  }

  /** The counter of handler attempts at one event by one consumer group. */
  attemptsKey(consumerGroup: string, eventId: string): string {
    return `${this.prefix}:attempts:${consumerGroup}:${eventId}`;
  }

  /** The sorted set of a partition's processed ids (by first processing time). */
  partitionKey(consumerGroup: string, topic: string, partition: number): string {
    return `${this.prefix}:processed-partition:${consumerGroup}:${topic}:${partition}`;
  }

  async has(consumerGroup: string, eventId: string): Promise<boolean> {
    return (await this.redis.exists(this.key(consumerGroup, eventId))) === 1;
  }

  async remember(consumerGroup: string, eventId: string, topic: string): Promise<void> {
    await this.rememberMany(consumerGroup, [{ eventId, topic }]);
  }

  async seenAmong(consumerGroup: string, eventIds: readonly string[]): Promise<Set<string>> {
    const unique = [...new Set(eventIds)];
    if (unique.length === 0) return new Set();
    const values = await this.redis.mget(unique.map((id) => this.key(consumerGroup, id)));
    return new Set(unique.filter((_, i) => values[i] !== null && values[i] !== undefined));
  }

  async rememberMany(consumerGroup: string, events: readonly ProcessedEventRef[]): Promise<void> {
    if (events.length === 0) return;
    const now = Date.now();
    const unique = new Map(events.map((e) => [e.eventId, e]));
    const tx = this.redis.multi();
    const partitions = new Map<string, ProcessedEventRef[]>();
    for (const e of unique.values()) {
      tx.set(this.key(consumerGroup, e.eventId), e.topic, 'EX', this.ttlSeconds, 'NX');
      if (e.attempted) tx.del(this.attemptsKey(consumerGroup, e.eventId));
      if (e.partition === undefined) continue;
      const index = this.partitionKey(consumerGroup, e.topic, e.partition);
      partitions.set(index, [...(partitions.get(index) ?? []), e]);
    }
    for (const [index, members] of partitions) {
      // Trim first, so an id whose record has expired is added again with the new time.
      tx.zremrangebyscore(index, '-inf', `(${now - this.ttlSeconds * 1_000}`);
      tx.zadd(index, 'NX', ...members.flatMap((e) => [now, e.eventId]));
      tx.expire(index, this.ttlSeconds);
    }
    await execOrThrow(tx, `remembering ${unique.size} processed event(s) of group "${consumerGroup}"`);
  }

  async countAttempt(consumerGroup: string, eventId: string): Promise<number> {
    const key = this.attemptsKey(consumerGroup, eventId);
    const tx = this.redis.multi().incr(key).expire(key, this.attemptsTtlSeconds);
    const results = await tx.exec();
    if (results === null)
      throw new Error(`Redis transaction aborted while counting an attempt at event ${eventId} of group "${consumerGroup}"`);
    const [incrError, count] = results[0] ?? [new Error('no reply to INCR'), null];
    if (incrError)
      throw new Error(`Redis refused to count an attempt at event ${eventId} of group "${consumerGroup}": ${incrError.message}`);
    return Number(count);
  }

  async clearAttempts(consumerGroup: string, eventId: string): Promise<void> {
    await this.redis.del(this.attemptsKey(consumerGroup, eventId));
  }

  /**
   * The ids remembered with this partition since `since`, or null when there are more than
   * `limit`. Only events remembered with a partition are listed (as in the Mongo store).
   */
  async processedInPartition(
    consumerGroup: string,
    topic: string,
    partition: number,
    since: Date,
    limit: number,
  ): Promise<string[] | null> {
    const ids = await this.redis.zrangebyscore(
      this.partitionKey(consumerGroup, topic, partition),
      since.getTime(),
      '+inf',
      'LIMIT',
      0,
      limit + 1,
    );
    return ids.length > limit ? null : ids;
  }
}

async function execOrThrow(tx: ChainableCommander, what: string): Promise<void> {
  const results = await tx.exec();
  if (results === null) throw new Error(`Redis transaction aborted while ${what}`);
  const failed = results.find(([err]) => err !== null);
  if (failed?.[0]) throw new Error(`Redis refused a command while ${what}: ${failed[0].message}`);
}
