import { HttpException, ServiceUnavailableException } from '@nestjs/common';
import { AccessError } from './access-errors';
import { ApiKeyService, KEY_CACHE_MAX_AGE_MS, KeyCache } from './api-key.service';
import { MemoryApiKeyStore, type ApiKeyRecord } from './api-keys';
import { AuditLog, MemoryAuditLogStore } from './audit-log';
import { MemoryRateCounter, type AccessCounter, type KeyCheck, type RateHit } from './rate-limit';
import type { Principal } from './principal';

/**
 * Two gateway replicas: each its own ApiKeyService (its own key cache), both over one key store
 * (the database) and one counter store (Redis), as in the distributed profile.
 */
function replicas(counter: AccessCounter = new MemoryRateCounter()) {
  const store = new MemoryApiKeyStore();
  const audit = new AuditLog(new MemoryAuditLogStore());
  return { store, counter, a: new ApiKeyService(store, audit, counter), b: new ApiKeyService(store, audit, counter) };
}

const admin: Principal = {
  subject: 'key:0000000000000000',
  name: 'admin',
  tenant: 'acme',
  role: 'admin',
  via: 'api-key',
  keyId: '0000000000000000',
};

async function status(work: Promise<unknown>): Promise<number> {
  try {
    await work;
    return 200;
  } catch (error) {
    if (error instanceof AccessError || error instanceof HttpException) return error.getStatus();
    throw error;
  }
}

describe('API keys cached per replica, checked against the tenant key generation', () => {
  it('refuses, on the next request, a key revoked on another replica, and uses a role changed there', async () => {
    const { a, b } = replicas();
    const created = await a.create('acme', { name: 'ci', role: 'operator' }, 'platform-admin');
    const other = await a.create('acme', { name: 'other', role: 'viewer' }, 'platform-admin');
    // Both replicas have the keys cached.
    expect((await a.authenticate(created.key))?.role).toBe('operator');
    expect((await b.authenticate(created.key))?.role).toBe('operator');
    expect((await b.authenticate(other.key))?.role).toBe('viewer');
    expect(b.cache.size).toBe(2);

    await a.changeRole('acme', created.id, 'viewer', admin);
    expect((await b.authenticate(created.key))?.role).toBe('viewer');

    await a.revoke('acme', created.id, admin);
    await expect(b.authenticate(created.key)).rejects.toThrow(`the API key ${created.id} was revoked at`);
    // The other key of the tenant is read again and still works.
    expect((await b.authenticate(other.key))?.role).toBe('viewer');
  });

  it('reads the database only when the tenant generation moved: one counter check per request otherwise', async () => {
    const { store, counter, a, b } = replicas();
    const created = await a.create('acme', { name: 'ci', role: 'operator' }, 'platform-admin');
    const reads = jest.spyOn(store, 'get');
    const checks = jest.spyOn(counter, 'check');
    await b.authenticate(created.key);
    expect(reads).toHaveBeenCalledTimes(2); // cold: the tenant, then the record after the generation
    for (let i = 0; i < 5; i++) await b.authenticate(created.key);
    expect(reads).toHaveBeenCalledTimes(2);
    expect(checks).toHaveBeenCalledTimes(6);
    // A change of another key of the same tenant moves the generation: one more read.
    await a.create('acme', { name: 'new', role: 'viewer' }, 'platform-admin');
    await b.authenticate(created.key);
    await b.authenticate(created.key);
    expect(reads).toHaveBeenCalledTimes(3);
    // Another tenant's change does not.
    await a.create('initech', { name: 'x', role: 'viewer' }, 'platform-admin');
    await b.authenticate(created.key);
    expect(reads).toHaveBeenCalledTimes(3);
  });

  it('counts the rate limit in the same check as the generation read, after the permission', async () => {
    const { counter, a } = replicas();
    const created = await a.create('acme', { name: 'ci', role: 'viewer' }, 'platform-admin');
    const hitFor = (tenant: string): RateHit => ({ key: `chat:${tenant}`, limit: 2, windowMs: 60_000 });
    const permit = () => undefined;
    await a.authenticate(created.key); // cached
    const hits = jest.spyOn(counter, 'hit');
    const first = await a.admit(created.key, { permit, hitFor });
    expect(first?.rate).toMatchObject({ allowed: true, count: 1 });
    expect((await a.admit(created.key, { permit, hitFor }))?.rate).toMatchObject({ allowed: true, count: 2 });
    expect((await a.admit(created.key, { permit, hitFor }))?.rate).toMatchObject({ allowed: false, count: 3 });
    expect(hits).toHaveBeenCalledTimes(3); // by check(), in the one round trip
    const denied = () => {
      throw AccessError.permissionDenied('viewer', 'runs:operate');
    };
    await expect(a.admit(created.key, { permit: denied, hitFor })).rejects.toThrow(AccessError);
    expect(hits).toHaveBeenCalledTimes(3); // a refused request is not counted
  });

  it('reads the generation before the record, so a change racing the read is not cached as current', async () => {
    const { store, counter, a, b } = replicas();
    const created = await a.create('acme', { name: 'ci', role: 'operator' }, 'platform-admin');
    const calls: string[] = [];
    const get = store.get.bind(store);
    const check = counter.check.bind(counter);
    jest.spyOn(counter, 'check').mockImplementation(async (tenant: string, hit: RateHit | null): Promise<KeyCheck> => {
      calls.push('generation');
      return check(tenant, hit);
    });
    let reads = 0;
    let racing = false;
    jest.spyOn(store, 'get').mockImplementation(async (id: string): Promise<ApiKeyRecord | null> => {
      if (racing) return get(id); // the other replica's own read
      calls.push('record');
      const record = await get(id);
      // The record that will be cached is read, then another replica revokes the key before this one caches it.
      if (++reads === 2) {
        racing = true;
        await a.revoke('acme', created.id, admin);
        racing = false;
      }
      return record;
    });
    // The request in flight during the revocation is let through with what it read...
    expect((await b.authenticate(created.key))?.keyId).toBe(created.id);
    expect(calls).toEqual(['record', 'generation', 'record']);
    // ...but the record was cached with the generation read before it: the next request sees it moved.
    calls.length = 0;
    await expect(b.authenticate(created.key)).rejects.toThrow(/was revoked/);
    expect(calls).toEqual(['generation', 'record']);
  });

  it('answers 503 when the counter store does not answer, cached key or not, and never lets the request through', async () => {
    const { counter, a, b } = replicas();
    const created = await a.create('acme', { name: 'ci', role: 'operator' }, 'platform-admin');
    await b.authenticate(created.key); // cached on b
    const check = jest.spyOn(counter, 'check').mockRejectedValue(new Error('connect ECONNREFUSED'));
    const cached = await b.authenticate(created.key).catch((error: unknown) => error);
    expect(cached).toBeInstanceOf(ServiceUnavailableException);
    expect((cached as ServiceUnavailableException).message).toMatch(
      /cannot check the API key: the rate-limit store does not answer \(connect ECONNREFUSED\)/,
    );
    expect(await status(a.authenticate(created.key))).toBe(503); // not cached on a (create dropped it)
    // A hanging Redis (commands queued while reconnecting) is bounded too.
    check.mockImplementation(() => new Promise<KeyCheck>(() => undefined));
    expect(await status(b.authenticate(created.key))).toBe(503);
  });

  it('fails a key change loudly with 503 when the generation cannot be incremented, and drops the replica’s cached keys', async () => {
    const { store, counter, a } = replicas();
    const created = await a.create('acme', { name: 'ci', role: 'operator' }, 'platform-admin');
    await a.authenticate(created.key);
    expect(a.cache.size).toBe(1);
    jest.spyOn(counter, 'bump').mockRejectedValueOnce(new Error('connect ECONNREFUSED'));
    const failed = await a.revoke('acme', created.id, admin).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(ServiceUnavailableException);
    expect((failed as ServiceUnavailableException).message).toMatch(
      /the key change is written, but other gateway replicas could not be told/,
    );
    expect(a.cache.size).toBe(0);
    // Written all the same: this replica reads it again and refuses the key.
    expect((await store.get(created.id))?.revokedAt).not.toBeNull();
    await expect(a.authenticate(created.key)).rejects.toThrow(/was revoked/);
  });

  it('answers 401 for a cached key with a wrong secret without asking anyone', async () => {
    const { counter, a } = replicas();
    const created = await a.create('acme', { name: 'ci', role: 'operator' }, 'platform-admin');
    await a.authenticate(created.key);
    const checks = jest.spyOn(counter, 'check');
    const forged = `sk-studio-${created.id}_${'A'.repeat(43)}`;
    await expect(a.authenticate(forged)).rejects.toThrow('the API key is not valid: unknown key, or wrong secret');
    expect(checks).not.toHaveBeenCalled();
  });
});

describe('KeyCache', () => {
  const record = (id: string): ApiKeyRecord => ({
    id,
    tenant: 'acme',
    name: id,
    role: 'viewer',
    secretSha256: '0'.repeat(64),
    createdAt: '2026-01-01T00:00:00.000Z',
    createdBy: 'platform-admin',
    revokedAt: null,
    revokedBy: null,
  });

  it('is bounded: past maxEntries the least recently used key goes', () => {
    const cache = new KeyCache(3);
    for (const id of ['a', 'b', 'c']) cache.set(record(id), 0);
    expect(cache.get('a')).toBeDefined(); // a is now the most recent
    cache.set(record('d'), 0);
    expect(cache.size).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    expect(['a', 'c', 'd'].map((id) => cache.get(id)?.record.id)).toEqual(['a', 'c', 'd']);
    for (let i = 0; i < 1000; i++) cache.set(record(`k${i}`), 0);
    expect(cache.size).toBe(3);
  });

  it('forgets a key once it is maxAgeMs old, whatever the generation', () => {
    let now = 0;
    const cache = new KeyCache(10, KEY_CACHE_MAX_AGE_MS, () => now);
    cache.set(record('a'), 7);
    now = KEY_CACHE_MAX_AGE_MS - 1;
    expect(cache.get('a')?.generation).toBe(7);
    now = KEY_CACHE_MAX_AGE_MS;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => new KeyCache(0)).toThrow('key cache: maxEntries must be a positive integer, got 0');
  });
});
