import type { DatabaseSync } from 'node:sqlite';
import type { ApiKeyRecord, ApiKeyStore } from './api-keys';
import type { AuditEntry, AuditLogStore, AuditQuery } from './audit-log';

/**
 * The embedded profile's keys and audit log: tables of the gateway's own SQLite database
 * (`<STUDIO_DATA_DIR>/gateway.sqlite`), so that they survive a restart as the Mongo ones do.
 */

/** Keys in the table `api_keys` (the JSON record, keyed by the key id). */
export class SqliteApiKeyStore implements ApiKeyStore {
  constructor(private readonly db: DatabaseSync) {
    db.exec(`CREATE TABLE IF NOT EXISTS api_keys (
       id TEXT PRIMARY KEY,
       tenant TEXT NOT NULL,
       created_at TEXT NOT NULL,
       doc TEXT NOT NULL CHECK (json_valid(doc))
     ) WITHOUT ROWID;
     CREATE INDEX IF NOT EXISTS api_keys_tenant_created ON api_keys (tenant, created_at DESC)`);
  }

  async insert(record: ApiKeyRecord): Promise<void> {
    try {
      this.db
        .prepare('INSERT INTO api_keys (id, tenant, created_at, doc) VALUES (?, ?, ?, ?)')
        .run(record.id, record.tenant, record.createdAt, JSON.stringify(record));
    } catch (err) {
      if ((err as { errcode?: number }).errcode === 1555) throw new Error(`API key ${record.id} already exists`);
      throw err;
    }
  }

  async get(id: string): Promise<ApiKeyRecord | null> {
    const row = this.db.prepare('SELECT doc FROM api_keys WHERE id = ?').get(id);
    return row ? (JSON.parse(String(row['doc'])) as ApiKeyRecord) : null;
  }

  async list(tenant: string): Promise<ApiKeyRecord[]> {
    return this.db
      .prepare('SELECT doc FROM api_keys WHERE tenant = ? ORDER BY created_at DESC, id DESC')
      .all(tenant)
      .map((row) => JSON.parse(String(row['doc'])) as ApiKeyRecord);
  }

  async replace(record: ApiKeyRecord): Promise<boolean> {
    const result = this.db
      .prepare('UPDATE api_keys SET doc = ? WHERE id = ? AND tenant = ?')
      .run(JSON.stringify(record), record.id, record.tenant);
    return Number(result.changes) === 1;
  }
}

/** Entries in the table `audit_log`, which triggers keep append-only: an UPDATE or DELETE of an entry fails. */
export class SqliteAuditLogStore implements AuditLogStore {
  constructor(private readonly db: DatabaseSync) {
    db.exec(`CREATE TABLE IF NOT EXISTS audit_log (
       id TEXT PRIMARY KEY,
       tenant TEXT NOT NULL,
       at TEXT NOT NULL,
       action TEXT NOT NULL,
       doc TEXT NOT NULL CHECK (json_valid(doc))
     ) WITHOUT ROWID;
     CREATE INDEX IF NOT EXISTS audit_log_tenant_at ON audit_log (tenant, at DESC);
     CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
     CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END`);
  }

  async append(entry: AuditEntry): Promise<void> {
    this.db
      .prepare('INSERT INTO audit_log (id, tenant, at, action, doc) VALUES (?, ?, ?, ?, ?)')
      .run(entry.id, entry.tenant, entry.at, entry.action, JSON.stringify(entry));
  }

  async read(tenant: string, query: AuditQuery): Promise<AuditEntry[]> {
    const action = query.action === undefined ? '' : ' AND action = ?';
    const params = query.action === undefined ? [tenant, query.limit] : [tenant, query.action, query.limit];
    return this.db
      .prepare(`SELECT doc FROM audit_log WHERE tenant = ?${action} ORDER BY at DESC, id DESC LIMIT ?`)
      .all(...params)
      .map((row) => JSON.parse(String(row['doc'])) as AuditEntry);
  }
}
