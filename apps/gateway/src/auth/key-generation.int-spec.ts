import { Redis } from 'ioredis';
import { describeWithServers, uniqueName } from '@studio/testing';
import { ApiKeyService } from './api-key.service';
import { MemoryApiKeyStore } from './api-keys';
import { AuditLog, MemoryAuditLogStore } from './audit-log';
import type { Principal } from './principal';
import { RedisRateCounter } from './rate-limit';

describeWithServers(['REDIS_URL'], 'API-key generations on a real Redis, shared by two replicas', ({ REDIS_URL }) => {
  let redisA: Redis;
  let redisB: Redis;
  let namespace: string;

  beforeAll(async () => {
    redisA = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 3 });
    redisB = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 3 });
    await Promise.all([redisA.connect(), redisB.connect()]);
  });

  beforeEach(() => {
    namespace = uniqueName('keygen');
  });

  afterAll(async () => {
    const keys = [...(await redisA.keys('studio:keygen:keygen-*')), ...(await redisA.keys('studio:ratelimit:keygen-*'))];
    if (keys.length > 0) await redisA.del(...keys);
    await Promise.all([redisA.quit(), redisB.quit()]);
  });

  const counterOn = (redis: Redis) => new RedisRateCounter(redis, `studio:ratelimit:${namespace}:`, `studio:keygen:${namespace}:`);

  it('reads the generation and counts the window in one MULTI; bump increments the tenant generation', async () => {
    const counter = counterOn(redisA);
    expect(await counter.check('acme', null)).toEqual({ generation: 0, rate: null });
    expect(await counter.bump('acme')).toBe(1);
    const hit = { key: 'chat:acme', limit: 1, windowMs: 60_000 };
    const first = await counter.check('acme', hit);
    expect(first).toMatchObject({ generation: 1, rate: { allowed: true, count: 1 } });
    expect((await counter.check('acme', hit)).rate).toMatchObject({ allowed: false, count: 2 });
    expect(await redisA.get(`studio:keygen:${namespace}:acme`)).toBe('1');
    expect(await redisA.pttl(`studio:ratelimit:${namespace}:chat:acme`)).toBeGreaterThan(0);
    expect((await counter.check('initech', null)).generation).toBe(0);
  });

  it('refuses on replica B, at its next request, a key revoked on replica A', async () => {
    const store = new MemoryApiKeyStore(); // the shared database
    const audit = new AuditLog(new MemoryAuditLogStore());
    const a = new ApiKeyService(store, audit, counterOn(redisA));
    const b = new ApiKeyService(store, audit, counterOn(redisB));
    const created = await a.create('acme', { name: 'ci', role: 'operator' }, 'platform-admin');
    const admin: Principal = { subject: 'key:x', name: 'x', tenant: 'acme', role: 'admin', via: 'api-key', keyId: 'x' };
    expect((await b.authenticate(created.key))?.role).toBe('operator');
    expect((await b.authenticate(created.key))?.role).toBe('operator'); // from B's cache
    await a.changeRole('acme', created.id, 'viewer', admin);
    expect((await b.authenticate(created.key))?.role).toBe('viewer');
    await a.revoke('acme', created.id, admin);
    await expect(b.authenticate(created.key)).rejects.toThrow(/was revoked/);
  });
});
