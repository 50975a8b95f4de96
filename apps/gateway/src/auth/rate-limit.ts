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

export const RATE_WINDOW_MS = 60_000;

function decision(count: number, limit: number, remainingMs: number): RateDecision {
  return { allowed: count <= limit, count, retryAfterSeconds: Math.max(1, Math.ceil(remainingMs / 1000)) };
}

/**
 * Counters in Redis, shared by every gateway replica: the window's key is created with its expiry
 * (SET NX PX) and incremented in one MULTI, so a window always ends; fixed windows aligned to the
 * first request of each window.
 */
export class RedisRateCounter implements RateCounter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'studio:ratelimit:',
  ) {}

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
export class MemoryRateCounter implements RateCounter {
  private readonly windows = new Map<string, { count: number; endsAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

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
