import type { Redis } from 'ioredis';
import { RedisProcessedEventStore } from './processed-events';

/** A client that must not be reached: these cases are decided before any command. */
const unreachable = new Proxy({} as Redis, {
  get: (_target, name) => {
    throw new Error(`unexpected Redis call: ${String(name)}`);
  },
});

describe('RedisProcessedEventStore (no server)', () => {
  it('names keys studio:processed:<group>:<eventId>, with a configurable prefix', () => {
    expect(new RedisProcessedEventStore(unreachable).key('framer', 'evt-1')).toBe('studio:processed:framer:evt-1');
    expect(new RedisProcessedEventStore(unreachable, { keyPrefix: 'test' }).key('framer', 'evt-1')).toBe('test:processed:framer:evt-1');
    expect(new RedisProcessedEventStore(unreachable).partitionKey('framer', 'a.b.c.v1', 2)).toBe(
      'studio:processed-partition:framer:a.b.c.v1:2',
    );
  });

  it('defaults the TTL to 7 days and refuses one that is not a positive whole number of seconds', () => {
    expect(new RedisProcessedEventStore(unreachable).ttlSeconds).toBe(604_800);
    expect(() => new RedisProcessedEventStore(unreachable, { ttlSeconds: 0 })).toThrow(
      'ttlSeconds must be a positive whole number of seconds, got 0',
    );
    expect(() => new RedisProcessedEventStore(unreachable, { ttlSeconds: 1.5 })).toThrow('got 1.5');
    expect(() => new RedisProcessedEventStore(unreachable, { keyPrefix: '' })).toThrow('keyPrefix must not be empty');
    expect(new RedisProcessedEventStore(unreachable).attemptsTtlSeconds).toBe(86_400);
    expect(() => new RedisProcessedEventStore(unreachable, { attemptsTtlSeconds: -1 })).toThrow(
      'attemptsTtlSeconds must be a positive whole number of seconds, got -1',
    );
    expect(new RedisProcessedEventStore(unreachable).attemptsKey('framer', 'evt-1')).toBe('studio:attempts:framer:evt-1');
  });

  it('sends nothing for empty batches', async () => {
    const store = new RedisProcessedEventStore(unreachable);
    await expect(store.seenAmong('g', [])).resolves.toEqual(new Set());
    await expect(store.rememberMany('g', [])).resolves.toBeUndefined();
  });
});
