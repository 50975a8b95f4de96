import { Redis } from 'ioredis';
import { seenAmong, rememberAll } from '@studio/ports';
import { describeWithServers, uniqueName } from '@studio/testing';
import { DEFAULT_PROCESSED_TTL_SECONDS, RedisProcessedEventStore } from './processed-events';

describeWithServers(['REDIS_URL'], 'RedisProcessedEventStore on a real Redis', ({ REDIS_URL }) => {
  let redis: Redis;
  let store: RedisProcessedEventStore;
  let group: string;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 3 });
    await redis.connect();
    store = new RedisProcessedEventStore(redis);
  });

  beforeEach(() => {
    group = uniqueName('group');
  });

  afterAll(async () => {
    // Everything these tests wrote lives under a unique group name; drop it.
    const keys = [...(await redis.keys('studio:processed*:group-*')), ...(await redis.keys('studio:attempts:group-*'))];
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('remembers an event id: has is false before and true after, under the documented key', async () => {
    expect(await store.has(group, 'e1')).toBe(false);
    await store.remember(group, 'e1', 'policy.document.uploaded.v1');
    expect(await store.has(group, 'e1')).toBe(true);
    expect(await store.has(group, 'e2')).toBe(false);
    expect(await redis.get(`studio:processed:${group}:e1`)).toBe('policy.document.uploaded.v1');
  });

  it('sets the TTL (7 days by default) and keeps the first expiry on a repeat', async () => {
    await store.remember(group, 'e1', 't');
    const ttl = await redis.ttl(`studio:processed:${group}:e1`);
    expect(ttl).toBeGreaterThan(DEFAULT_PROCESSED_TTL_SECONDS - 10);
    expect(ttl).toBeLessThanOrEqual(DEFAULT_PROCESSED_TTL_SECONDS);

    const short = new RedisProcessedEventStore(redis, { ttlSeconds: 60 });
    await short.remember(group, 'e2', 't');
    expect(await redis.ttl(`studio:processed:${group}:e2`)).toBeLessThanOrEqual(60);
    // SET NX: remembering again with another TTL neither rewrites the value nor the expiry.
    await store.remember(group, 'e2', 'other');
    expect(await redis.ttl(`studio:processed:${group}:e2`)).toBeLessThanOrEqual(60);
    expect(await redis.get(`studio:processed:${group}:e2`)).toBe('t');
  });

  it('forgets an id once its TTL has passed', async () => {
    const brief = new RedisProcessedEventStore(redis, { ttlSeconds: 1 });
    await brief.rememberMany(group, [{ eventId: 'gone', topic: 't', partition: 0 }]);
    expect(await brief.has(group, 'gone')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(await brief.has(group, 'gone')).toBe(false);
    expect(await brief.processedInPartition(group, 't', 0, new Date(Date.now() - 1_000), 10)).toEqual([]);
  });

  it('remembers and looks up a batch (duplicates in the input included)', async () => {
    await store.rememberMany(group, [
      { eventId: 'a', topic: 't1', partition: 0 },
      { eventId: 'b', topic: 't1', partition: 1 },
      { eventId: 'a', topic: 't1', partition: 0 },
      { eventId: 'c', topic: 't2' },
    ]);
    expect(await store.seenAmong(group, ['a', 'x', 'b', 'c', 'a', 'y'])).toEqual(new Set(['a', 'b', 'c']));
    expect(await store.seenAmong(group, [])).toEqual(new Set());
    // Through the port's helpers as the Kafka bus calls them.
    await rememberAll(store, group, [{ eventId: 'd', topic: 't1', partition: 2 }]);
    expect(await seenAmong(store, group, ['d', 'z'])).toEqual(new Set(['d']));
    for (const id of ['a', 'b', 'c', 'd']) expect(await redis.ttl(`studio:processed:${group}:${id}`)).toBeGreaterThan(0);
  });

  it('keeps consumer groups apart', async () => {
    const other = uniqueName('group');
    await store.rememberMany(group, [{ eventId: 'shared', topic: 't', partition: 0 }]);
    expect(await store.has(other, 'shared')).toBe(false);
    expect(await store.seenAmong(other, ['shared'])).toEqual(new Set());
    expect(await store.processedInPartition(other, 't', 0, new Date(0), 10)).toEqual([]);
    await store.remember(other, 'shared', 't');
    expect(await store.has(other, 'shared')).toBe(true);
    expect(await store.has(group, 'shared')).toBe(true);
  });

  it('lists the ids of one partition since a time, or null above the limit', async () => {
    const before = new Date(Date.now() - 1);
    await store.rememberMany(group, [
      { eventId: 'p0-a', topic: 't', partition: 0 },
      { eventId: 'p0-b', topic: 't', partition: 0 },
      { eventId: 'p1-a', topic: 't', partition: 1 },
      { eventId: 'u-a', topic: 'u', partition: 0 },
      { eventId: 'none', topic: 't' },
    ]);
    expect((await store.processedInPartition(group, 't', 0, before, 10))?.sort()).toEqual(['p0-a', 'p0-b']);
    expect(await store.processedInPartition(group, 't', 1, before, 10)).toEqual(['p1-a']);
    expect(await store.processedInPartition(group, 'u', 0, before, 10)).toEqual(['u-a']);
    expect(await store.processedInPartition(group, 't', 0, before, 1)).toBeNull();
    expect(await store.processedInPartition(group, 't', 0, new Date(Date.now() + 60_000), 10)).toEqual([]);
    const indexTtl = await redis.ttl(store.partitionKey(group, 't', 0));
    expect(indexTtl).toBeGreaterThan(DEFAULT_PROCESSED_TTL_SECONDS - 10);
  });

  it('names the problem when Redis refuses a write', async () => {
    // A key of the wrong type where the partition's sorted set should be.
    await redis.set(store.partitionKey(group, 't', 0), 'not a sorted set');
    await expect(store.rememberMany(group, [{ eventId: 'x', topic: 't', partition: 0 }])).rejects.toThrow(
      new RegExp(`Redis refused a command while remembering 1 processed event\\(s\\) of group "${group}": WRONGTYPE`),
    );
  });

  it('counts attempts durably per group and event id, with an expiry, until the event is remembered or cleared', async () => {
    expect(await store.countAttempt(group, 'e1')).toBe(1);
    expect(await store.countAttempt(group, 'e1')).toBe(2);
    // Another client (a restarted consumer, another member of the group) continues the count.
    const other = new RedisProcessedEventStore(redis);
    expect(await other.countAttempt(group, 'e1')).toBe(3);
    expect(await store.countAttempt(`${group}-b`, 'e1')).toBe(1);
    const ttl = await redis.ttl(store.attemptsKey(group, 'e1'));
    expect(ttl).toBeGreaterThan(24 * 3_600 - 10);
    expect(ttl).toBeLessThanOrEqual(24 * 3_600);
    await store.clearAttempts(group, 'e1');
    expect(await store.countAttempt(group, 'e1')).toBe(1);
    await store.rememberMany(group, [{ eventId: 'e1', topic: 't', partition: 0, attempted: true }]);
    expect(await redis.exists(store.attemptsKey(group, 'e1'))).toBe(0);
    await redis.del(store.attemptsKey(`${group}-b`, 'e1'));
  });
});
