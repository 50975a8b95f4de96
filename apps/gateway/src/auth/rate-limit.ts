import { SetMetadata } from '@nestjs/common';
import type { Redis } from 'ioredis';

/** The expensive operations a tenant's requests are counted for, each with its own limit. */
export const RATE_LIMIT_BUCKETS = ['chat', 'uploads', 'runs'] as const;
export type RateLimitBucket = (typeof RATE_LIMIT_BUCKETS)[number];

export const RATE_LIMIT_BUCKET = 'studio:rate-limit-bucket';

/**
 * Counts a route's requests against the caller's tenant's per-minute limit of `bucket`
 * (RATE_LIMIT_<BUCKET>_PER_MINUTE); over it, 429 with Retry-After. Checked by the AuthGuard after
 * the credential and the permission, so refused requests do not count.
 */
export const RateLimit = (bucket: RateLimitBucket): MethodDecorator & ClassDecorator => SetMetadata(RATE_LIMIT_BUCKET, bucket);

/** Requests per minute per tenant, by bucket; 0 turns a bucket's limit off. */
export type RateLimits = Readonly<Record<RateLimitBucket, number>>;
export const RATE_LIMITS = Symbol('RATE_LIMITS');

export interface RateDecision {
  allowed: boolean;
  /** Requests counted in this window, this one included. */
  count: number;
  /** Seconds until the window ends (at least 1). */
  retryAfterSeconds: number;
}

/** A fixed-window counter: the n-th request of a key within the window. */
export interface RateCounter {
  hit(key: string, limit: number, windowMs: number): Promise<RateDecision>;
}
export const RATE_COUNTER = Symbol('RATE_COUNTER');

/** A rate-limit count to make: the n-th request of `key` within the window. */
export interface RateHit {
  key: string;
  limit: number;
  windowMs: number;
}

/** A tenant's key generation, and the rate-limit decision when a count was made with it. */
export interface KeyCheck {
  generation: number;
  rate: RateDecision | null;
}

/**
 * The rate-limit windows and, shared with them, each tenant's API-key generation: a counter that
 * every key change of the tenant (create, revoke, role change) increments once it is written. A
 * replica uses a key it cached only while the tenant's generation is the one it cached the key
 * with, so a change holds at once on every replica sharing the store.
 */
export interface AccessCounter extends RateCounter {
  /** The tenant's key generation (0 before any change) and, with `hit`, that count: one round trip. */
  check(tenant: string, hit: RateHit | null): Promise<KeyCheck>;
  /** Increments the tenant's key generation; answers the new one. */
  bump(tenant: string): Promise<number>;
}

export const RATE_WINDOW_MS = 60_000;

function decision(count: number, limit: number, remainingMs: number): RateDecision {
  return { allowed: count <= limit, count, retryAfterSeconds: Math.max(1, Math.ceil(remainingMs / 1000)) };
}

/**
 * Counters in Redis, shared by every gateway replica: the window's key is created with its expiry
 * (SET NX PX) and incremented in one MULTI, so a window always ends; fixed windows aligned to the
 * first request of each window.
 */
export class RedisRateCounter implements AccessCounter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'studio:ratelimit:',
    /** Where the tenants' key generations live (`<prefix><tenant>`). */
    private readonly generationPrefix = 'studio:keygen:',
  ) {}

  async check(tenant: string, hit: RateHit | null): Promise<KeyCheck> {
    const generationKey = `${this.generationPrefix}${tenant}`;
    if (!hit) return { generation: Number((await this.redis.get(generationKey)) ?? 0), rate: null };
    const name = `${this.prefix}${hit.key}`;
    // One MULTI: the generation read and the window's count travel together.
    const results = await this.redis.multi().get(generationKey).set(name, '0', 'PX', hit.windowMs, 'NX').incr(name).pttl(name).exec();
    if (!results) throw new Error('Redis discarded the key-check transaction');
    for (const [err] of results) if (err) throw err;
    const generation = Number(results[0]?.[1] ?? 0);
    const count = Number(results[2]?.[1]);
    const ttl = Number(results[3]?.[1]);
    return { generation, rate: decision(count, hit.limit, ttl > 0 ? ttl : hit.windowMs) };
  }

  async bump(tenant: string): Promise<number> {
    return this.redis.incr(`${this.generationPrefix}${tenant}`);
  }

  async hit(key: string, limit: number, windowMs: number): Promise<RateDecision> {
    const name = `${this.prefix}${key}`;
    const results = await this.redis.multi().set(name, '0', 'PX', windowMs, 'NX').incr(name).pttl(name).exec();
    if (!results) throw new Error('Redis discarded the rate-limit transaction');
    for (const [err] of results) if (err) throw err;
    const count = Number(results[1]?.[1]);
    const ttl = Number(results[2]?.[1]);
    return decision(count, limit, ttl > 0 ? ttl : windowMs);
  }
}

/** Counters in the process's memory (embedded profile, unit tests). */
export class MemoryRateCounter implements AccessCounter {
  private readonly windows = new Map<string, { count: number; endsAt: number }>();
  private readonly generations = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  async check(tenant: string, hit: RateHit | null): Promise<KeyCheck> {
    const generation = this.generations.get(tenant) ?? 0;
    return { generation, rate: hit ? await this.hit(hit.key, hit.limit, hit.windowMs) : null };
  }

  async bump(tenant: string): Promise<number> {
    const next = (this.generations.get(tenant) ?? 0) + 1;
    this.generations.set(tenant, next);
    return next;
  }

  async hit(key: string, limit: number, windowMs: number): Promise<RateDecision> {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || window.endsAt <= now) {
      window = { count: 0, endsAt: now + windowMs };
      this.windows.set(key, window);
    }
    window.count += 1;
    return decision(window.count, limit, window.endsAt - now);
  }
}

/** `work`, or a rejection when it has not settled within `ms` (a Redis that is down queues commands instead of failing). */
export async function withinMs<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long a count or a key-generation read may take before the request is refused with 503. */
export const RATE_COUNT_TIMEOUT_MS = 1_000;
