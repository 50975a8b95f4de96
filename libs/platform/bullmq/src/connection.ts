import { Redis, type RedisOptions } from 'ioredis';

/**
 * ioredis connections for BullMQ. Workers and event listeners block on Redis and must retry
 * forever (`maxRetriesPerRequest: null`, as BullMQ requires); producers fail fast instead, so
 * an enqueue during an outage returns an error rather than hanging.
 */
export function workerConnection(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { ...options, maxRetriesPerRequest: null });
}

export function producerConnection(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: 3, connectTimeout: 5_000, ...options });
}

/** Where the queue adapters log (console, a NestJS Logger adapter, pino...). */
export interface JobLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: JobLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Custom event on a queue's event stream that wakes a TypeScript worker running the job, so it
 * aborts at once instead of at its next check of the cancel key (`jobCancelKey` in
 * `@studio/contracts`, the one cancellation contract that workers in every language honour).
 */
export const CANCEL_EVENT = 'studio:cancel-requested';
/** How long a cancel key is kept (7 days): long enough to report a cancelled job's state. */
export const CANCEL_MARKER_TTL_S = 7 * 24 * 3600;
