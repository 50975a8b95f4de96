import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { MongoDatabase } from '@studio/mongo';
import type { Principal } from './principal';

/** Who did it: an authenticated caller, or the platform's operators (the x-admin-key). */
export interface AuditActor {
  subject: string;
  name: string;
  role: string | null;
  via: Principal['via'] | 'admin-key';
}

/** One entry of a tenant's audit log. Entries are only ever added. */
export interface AuditEntry {
  id: string;
  tenant: string;
  /** ISO time the change was recorded. */
  at: string;
  actor: AuditActor;
  /** What was done, dotted: `key.created`, `key.role-changed`, `key.revoked`, `dataset.example.approved`, `deployment.created`... */
  action: string;
  /** What it was done to: `key:<id>`, `context:<id>`, `example:<id>`... */
  target: string;
  /** The target before the change (null: it did not exist). */
  before: unknown;
  /** The target after it (null: it no longer exists, or is revoked). */
  after: unknown;
}

export interface AuditRecord {
  actor: Principal | 'platform-admin';
  /** The tenant the change belongs to; defaults to the actor's. Required for `platform-admin`. */
  tenant?: string;
  action: string;
  target: string;
  before?: unknown;
  after?: unknown;
}

export interface AuditQuery {
  action?: string;
  limit: number;
}

/** Storage of the audit log: insert and read, nothing else (no code path updates or deletes an entry). */
export interface AuditLogStore {
  append(entry: AuditEntry): Promise<void>;
  /** The tenant's entries, newest first. */
  read(tenant: string, query: AuditQuery): Promise<AuditEntry[]>;
}

export const AUDIT_LOG_STORE = Symbol('AUDIT_LOG_STORE');

const ACTION = /^[a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*)+$/;

const newestFirst = (a: AuditEntry, b: AuditEntry) => b.at.localeCompare(a.at) || b.id.localeCompare(a.id);

/** Entries in the process's memory (embedded profile, unit tests). */
export class MemoryAuditLogStore implements AuditLogStore {
  private readonly entries: AuditEntry[] = [];

  async append(entry: AuditEntry): Promise<void> {
    this.entries.push(structuredClone(entry));
  }

  async read(tenant: string, query: AuditQuery): Promise<AuditEntry[]> {
    return this.entries
      .filter((e) => e.tenant === tenant && (query.action === undefined || e.action === query.action))
      .sort(newestFirst)
      .slice(0, query.limit)
      .map((e) => structuredClone(e));
  }
}

export const AUDIT_LOG_COLLECTION = 'audit_log';

interface StoredEntry extends Omit<AuditEntry, 'id'> {
  _id: string;
}

/** Entries in the gateway's MongoDB database (collection `audit_log`): insertOne and find only. */
export class MongoAuditLogStore implements AuditLogStore {
  constructor(private readonly database: MongoDatabase) {}

  private get collection() {
    const db = this.database.connection.db;
    if (!db) throw new Error(`mongo database "${this.database.dbName}" is not connected`);
    return db.collection<StoredEntry>(AUDIT_LOG_COLLECTION);
  }

  async ensureIndexes(): Promise<void> {
    await this.collection.createIndex({ tenant: 1, at: -1 }, { name: 'tenant_at' });
  }

  async append(entry: AuditEntry): Promise<void> {
    const { id, ...rest } = entry;
    await this.collection.insertOne({ _id: id, ...rest });
  }

  async read(tenant: string, query: AuditQuery): Promise<AuditEntry[]> {
    const filter: Record<string, unknown> = { tenant };
    if (query.action !== undefined) filter['action'] = query.action;
    const docs = await this.collection.find(filter).sort({ at: -1, _id: -1 }).limit(query.limit).toArray();
    return docs.map(({ _id, ...rest }) => ({ id: _id, ...rest }));
  }
}

function actorOf(actor: Principal | 'platform-admin'): AuditActor {
  if (actor === 'platform-admin') return { subject: 'platform-admin', name: 'platform administrator', role: null, via: 'admin-key' };
  return { subject: actor.subject, name: actor.name, role: actor.role, via: actor.via };
}

/**
 * The append-only audit log of a tenant: approvals, deployments, key and role changes — who, what,
 * when, before and after. Inject it and call `record(...)` after the change is made; readable by
 * admins at GET /v1/audit-log.
 */
@Injectable()
export class AuditLog {
  private sequence = 0;

  constructor(@Inject(AUDIT_LOG_STORE) private readonly store: AuditLogStore) {}

  /** Ids sort by time, then by the order of this process's records within one millisecond. */
  private nextId(at: Date): string {
    this.sequence = (this.sequence + 1) % 1_000_000;
    return `${String(at.getTime()).padStart(15, '0')}-${String(this.sequence).padStart(6, '0')}-${randomBytes(4).toString('hex')}`;
  }

  async record(change: AuditRecord): Promise<AuditEntry> {
    if (!ACTION.test(change.action)) throw new Error(`audit action "${change.action}" must be dotted lower-case words, e.g. key.created`);
    if (change.target.length === 0) throw new Error('an audit entry needs a target');
    const tenant = change.tenant ?? (change.actor === 'platform-admin' ? undefined : change.actor.tenant);
    if (!tenant) throw new Error(`audit entry ${change.action}: the platform administrator's changes must name their tenant`);
    const at = new Date();
    const entry: AuditEntry = {
      id: this.nextId(at),
      tenant,
      at: at.toISOString(),
      actor: actorOf(change.actor),
      action: change.action,
      target: change.target,
      before: change.before ?? null,
      after: change.after ?? null,
    };
    await this.store.append(entry);
    return entry;
  }

  read(tenant: string, query: AuditQuery): Promise<AuditEntry[]> {
    return this.store.read(tenant, query);
  }
}
