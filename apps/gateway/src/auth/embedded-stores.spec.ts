import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { ApiKeyRecord } from './api-keys';
import type { AuditEntry } from './audit-log';
import { SqliteApiKeyStore, SqliteAuditLogStore } from './embedded-stores';

function key(id: string, tenant: string, createdAt: string): ApiKeyRecord {
  return {
    id,
    tenant,
    name: `key ${id}`,
    role: 'viewer',
    secretSha256: 'a'.repeat(64),
    createdAt,
    createdBy: 'platform-admin',
    revokedAt: null,
    revokedBy: null,
  };
}

function entry(id: string, tenant: string, at: string, action: string): AuditEntry {
  return {
    id,
    tenant,
    at,
    actor: { subject: 'platform-admin', name: 'platform administrator', role: null, via: 'admin-key' },
    action,
    target: `key:${id}`,
    before: null,
    after: { role: 'viewer' },
  };
}

describe('the embedded profile’s key store and audit log (SQLite)', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gateway-sqlite-'));
    path = join(dir, 'gateway.sqlite');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps keys across a reopen: get, list newest first per tenant, replace within the tenant only', async () => {
    let db = new DatabaseSync(path);
    const store = new SqliteApiKeyStore(db);
    await store.insert(key('0000000000000001', 'acme', '2026-01-01T00:00:00.000Z'));
    await store.insert(key('0000000000000002', 'acme', '2026-01-02T00:00:00.000Z'));
    await store.insert(key('0000000000000003', 'globex', '2026-01-03T00:00:00.000Z'));
    await expect(store.insert(key('0000000000000001', 'acme', '2026-01-04T00:00:00.000Z'))).rejects.toThrow(/already exists/);
    const revoked = {
      ...key('0000000000000001', 'acme', '2026-01-01T00:00:00.000Z'),
      revokedAt: '2026-02-01T00:00:00.000Z',
      revokedBy: 'key:x',
    };
    expect(await store.replace(revoked)).toBe(true);
    expect(await store.replace({ ...revoked, tenant: 'globex' })).toBe(false);
    db.close();

    db = new DatabaseSync(path);
    const reopened = new SqliteApiKeyStore(db);
    expect(await reopened.get('0000000000000001')).toEqual(revoked);
    expect(await reopened.get('ffffffffffffffff')).toBeNull();
    expect((await reopened.list('acme')).map((k) => k.id)).toEqual(['0000000000000002', '0000000000000001']);
    db.close();
  });

  it('appends and reads the audit log newest first, by action, bounded; the table refuses updates and deletes', async () => {
    const db = new DatabaseSync(path);
    const log = new SqliteAuditLogStore(db);
    await log.append(entry('1', 'acme', '2026-01-01T00:00:00.000Z', 'key.created'));
    await log.append(entry('2', 'acme', '2026-01-02T00:00:00.000Z', 'key.revoked'));
    await log.append(entry('3', 'acme', '2026-01-03T00:00:00.000Z', 'key.created'));
    await log.append(entry('4', 'globex', '2026-01-04T00:00:00.000Z', 'key.created'));
    expect((await log.read('acme', { limit: 10 })).map((e) => e.id)).toEqual(['3', '2', '1']);
    expect((await log.read('acme', { action: 'key.created', limit: 10 })).map((e) => e.id)).toEqual(['3', '1']);
    expect((await log.read('acme', { limit: 1 })).map((e) => e.id)).toEqual(['3']);
    expect(await log.read('acme', { limit: 1 })).toEqual([entry('3', 'acme', '2026-01-03T00:00:00.000Z', 'key.created')]);
    expect(() => db.exec(`UPDATE audit_log SET action = 'key.forged' WHERE id = '1'`)).toThrow(/append-only/);
    expect(() => db.exec(`DELETE FROM audit_log WHERE id = '1'`)).toThrow(/append-only/);
    expect(await log.read('acme', { limit: 10 })).toHaveLength(3);
    db.close();
  });
});
