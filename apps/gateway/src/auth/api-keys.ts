import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { MongoDatabase } from '@studio/mongo';
import type { Role } from './permissions';

/** Every API key starts with this; then its id, "_", and its secret. */
export const API_KEY_PREFIX = 'sk-studio-';
const KEY_ID = /^[0-9a-f]{16}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;

/** An API key as stored: never the secret, only its SHA-256. */
export interface ApiKeyRecord {
  id: string;
  tenant: string;
  name: string;
  role: Role;
  /** SHA-256 of the secret, hex. */
  secretSha256: string;
  createdAt: string;
  /** Who created it: a principal's subject, or `platform-admin` (the bootstrap endpoint). */
  createdBy: string;
  /** When it was revoked (null: in use). A revoked key authenticates nothing. */
  revokedAt: string | null;
  revokedBy: string | null;
}

/** What the API shows of a key: everything but the hash. */
export type ApiKeyView = Omit<ApiKeyRecord, 'secretSha256'>;

export function viewOf(record: ApiKeyRecord): ApiKeyView {
  const { secretSha256: _, ...view } = record;
  return view;
}

/** A new key: its id, the full key (shown once), and the hash of its secret. */
export interface MintedKey {
  id: string;
  key: string;
  secretSha256: string;
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function mintKey(): MintedKey {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, key: `${API_KEY_PREFIX}${id}_${secret}`, secretSha256: sha256(secret) };
}

/** The id and secret of an API key, or null when the credential is not one (a JWT, garbage). */
export function parseApiKey(credential: string): { id: string; secret: string } | null {
  if (!credential.startsWith(API_KEY_PREFIX)) return null;
  const rest = credential.slice(API_KEY_PREFIX.length);
  const cut = rest.indexOf('_');
  if (cut < 0) return null;
  const id = rest.slice(0, cut);
  const secret = rest.slice(cut + 1);
  return KEY_ID.test(id) && SECRET.test(secret) ? { id, secret } : null;
}

/** Whether `secret` is the one whose hash is stored (constant time in the secret's content). */
export function secretMatches(secret: string, secretSha256: string): boolean {
  const given = Buffer.from(sha256(secret), 'hex');
  const stored = Buffer.from(secretSha256, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}

/**
 * Where API keys live. Read when a replica has not cached the key with its tenant's current key
 * generation (ApiKeyService), so that a revocation or a role change holds at once on every replica.
 */
export interface ApiKeyStore {
  insert(record: ApiKeyRecord): Promise<void>;
  get(id: string): Promise<ApiKeyRecord | null>;
  /** The tenant's keys, newest first. */
  list(tenant: string): Promise<ApiKeyRecord[]>;
  /** Replaces the record (same id and tenant); false when there is none. */
  replace(record: ApiKeyRecord): Promise<boolean>;
}

export const API_KEY_STORE = Symbol('API_KEY_STORE');

const newestFirst = (a: { createdAt: string; id: string }, b: { createdAt: string; id: string }) =>
  b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id);

/** Keys in the process's memory: for the embedded profile and unit tests (gone at exit). */
export class MemoryApiKeyStore implements ApiKeyStore {
  private readonly records = new Map<string, ApiKeyRecord>();

  async insert(record: ApiKeyRecord): Promise<void> {
    if (this.records.has(record.id)) throw new Error(`API key ${record.id} already exists`);
    this.records.set(record.id, { ...record });
  }

  async get(id: string): Promise<ApiKeyRecord | null> {
    const record = this.records.get(id);
    return record ? { ...record } : null;
  }

  async list(tenant: string): Promise<ApiKeyRecord[]> {
    return [...this.records.values()]
      .filter((r) => r.tenant === tenant)
      .map((r) => ({ ...r }))
      .sort(newestFirst);
  }

  async replace(record: ApiKeyRecord): Promise<boolean> {
    const existing = this.records.get(record.id);
    if (!existing || existing.tenant !== record.tenant) return false;
    this.records.set(record.id, { ...record });
    return true;
  }
}

interface StoredKey extends Omit<ApiKeyRecord, 'id'> {
  _id: string;
}

export const API_KEYS_COLLECTION = 'api_keys';

function fromStored(doc: StoredKey): ApiKeyRecord {
  return {
    id: doc._id,
    tenant: doc.tenant,
    name: doc.name,
    role: doc.role,
    secretSha256: doc.secretSha256,
    createdAt: doc.createdAt,
    createdBy: doc.createdBy,
    revokedAt: doc.revokedAt,
    revokedBy: doc.revokedBy,
  };
}

function toStored(record: ApiKeyRecord): StoredKey {
  const { id, ...rest } = record;
  return { _id: id, ...rest };
}

/** Keys in the gateway's MongoDB database (collection `api_keys`, keyed by the key id). */
export class MongoApiKeyStore implements ApiKeyStore {
  constructor(private readonly database: MongoDatabase) {}

  private get collection() {
    const db = this.database.connection.db;
    if (!db) throw new Error(`mongo database "${this.database.dbName}" is not connected`);
    return db.collection<StoredKey>(API_KEYS_COLLECTION);
  }

  async ensureIndexes(): Promise<void> {
    await this.collection.createIndex({ tenant: 1, createdAt: -1 }, { name: 'tenant_created' });
  }

  async insert(record: ApiKeyRecord): Promise<void> {
    await this.collection.insertOne(toStored(record));
  }

  async get(id: string): Promise<ApiKeyRecord | null> {
    const doc = await this.collection.findOne({ _id: id });
    return doc ? fromStored(doc) : null;
  }

  async list(tenant: string): Promise<ApiKeyRecord[]> {
    const docs = await this.collection.find({ tenant }).toArray();
    return docs.map(fromStored).sort(newestFirst);
  }

  async replace(record: ApiKeyRecord): Promise<boolean> {
    const result = await this.collection.replaceOne({ _id: record.id, tenant: record.tenant }, toStored(record));
    return result.matchedCount === 1;
  }
}
