import { ConflictException, Inject, Injectable, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { describeError } from '@studio/contracts';
import { AccessError } from './access-errors';
import {
  API_KEY_STORE,
  mintKey,
  parseApiKey,
  secretMatches,
  viewOf,
  type ApiKeyRecord,
  type ApiKeyStore,
  type ApiKeyView,
} from './api-keys';
import { AuditLog } from './audit-log';
import type { Role } from './permissions';
import type { Principal } from './principal';
import { RATE_COUNTER, RATE_COUNT_TIMEOUT_MS, withinMs, type AccessCounter, type RateDecision, type RateHit } from './rate-limit';

export type KeyActor = Principal | 'platform-admin';

/** What a caller is told to wait when the key store does not answer. */
export const KEY_STORE_RETRY_AFTER_SECONDS = 5;

function subjectOf(actor: KeyActor): string {
  return actor === 'platform-admin' ? 'platform-admin' : actor.subject;
}

/** A key as created: its view, and the key itself (shown once, never stored). */
export interface CreatedKey extends ApiKeyView {
  key: string;
}

/** How many verified keys a replica keeps, and for how long at most. */
export const KEY_CACHE_MAX_ENTRIES = 10_000;
export const KEY_CACHE_MAX_AGE_MS = 60_000;

/** What a request asks of its key beyond being valid: checked before anything is counted. */
export interface KeyAdmission {
  /** Throws (403) when the role may not make the request. */
  permit(role: Role): void;
  /** The rate-limit count of the request for the key's tenant, made in the same round trip as the generation read; null: none. */
  hitFor(tenant: string): RateHit | null;
}

/** The caller a key names and, when the request was counted on the way, the rate-limit decision. */
export interface KeyAuthentication {
  principal: Principal;
  rate: RateDecision | null;
}

interface CachedKey {
  record: ApiKeyRecord;
  /** The tenant's key generation read before the record was. */
  generation: number;
  cachedAt: number;
}

/**
 * The keys a replica verified: key id → record, least recently used first (a Map keeps insertion
 * order; a hit moves the entry to the end), at most `maxEntries`, none older than `maxAgeMs`.
 */
export class KeyCache {
  private readonly entries = new Map<string, CachedKey>();

  constructor(
    readonly maxEntries = KEY_CACHE_MAX_ENTRIES,
    readonly maxAgeMs = KEY_CACHE_MAX_AGE_MS,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new Error(`key cache: maxEntries must be a positive integer, got ${maxEntries}`);
  }

  get size(): number {
    return this.entries.size;
  }

  get(id: string): CachedKey | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    this.entries.delete(id);
    if (this.now() - entry.cachedAt >= this.maxAgeMs) return undefined;
    this.entries.set(id, entry);
    return entry;
  }

  set(record: ApiKeyRecord, generation: number): void {
    this.entries.delete(record.id);
    this.entries.set(record.id, { record, generation, cachedAt: this.now() });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  delete(id: string): void {
    this.entries.delete(id);
  }

  dropTenant(tenant: string): void {
    for (const [id, entry] of this.entries) if (entry.record.tenant === tenant) this.entries.delete(id);
  }
}

function principalOf(record: ApiKeyRecord): Principal {
  return { subject: `key:${record.id}`, name: record.name, tenant: record.tenant, role: record.role, via: 'api-key', keyId: record.id };
}

/**
 * API keys: authentication of a request's key, and the key changes (each recorded in the audit log).
 *
 * Verified keys are cached per replica (KeyCache) together with their tenant's key generation
 * (AccessCounter, in Redis for the distributed profile). Every request reads the tenant's current
 * generation — in the same round trip as its rate-limit count — and a cached key is used only when
 * the generations match; every key change increments the generation before it is acknowledged.
 * So a revocation or a role change holds at once on every replica, without a database read per request.
 */
@Injectable()
export class ApiKeyService {
  readonly cache: KeyCache;

  constructor(
    @Inject(API_KEY_STORE) private readonly store: ApiKeyStore,
    @Inject(AuditLog) private readonly audit: AuditLog,
    @Inject(RATE_COUNTER) private readonly counter: AccessCounter,
  ) {
    this.cache = new KeyCache();
  }

  /**
   * The caller an API key names, or null when the credential is not shaped like one. A key that
   * is unknown, revoked or carries the wrong secret is a 401; a role without the permission
   * (`admission.permit`) a 403, before anything is counted. A key cached with the tenant's
   * current generation needs one round trip to the counter store (the generation read, with the
   * rate-limit count); otherwise the record is read from the key store after the generation.
   * Either store not answering is a 503.
   */
  async authenticate(credential: string): Promise<Principal | null> {
    return (await this.admit(credential))?.principal ?? null;
  }

  /**
   * authenticate, for a request: `admission.permit` is checked before anything is counted, and
   * the request's rate-limit count (`admission.hitFor`) rides with the generation read of a cached key.
   */
  async admit(
    credential: string,
    admission: KeyAdmission = { permit: () => undefined, hitFor: () => null },
  ): Promise<KeyAuthentication | null> {
    const parsed = parseApiKey(credential);
    if (!parsed) return null;
    const cached = this.cache.get(parsed.id);
    if (cached) {
      // The secret's hash never changes, and a revocation is final: both hold without asking anyone.
      const record = this.valid(cached.record, parsed.secret);
      admission.permit(record.role);
      const check = await this.check(record.tenant, admission.hitFor(record.tenant));
      if (check.generation === cached.generation) return { principal: principalOf(record), rate: check.rate };
      // A key of the tenant changed since: read the record again, cached with the generation read before it.
      this.cache.delete(parsed.id);
      const fresh = this.valid(await this.read(parsed.id), parsed.secret);
      this.cache.set(fresh, check.generation);
      admission.permit(fresh.role);
      return { principal: principalOf(fresh), rate: check.rate };
    }
    // Not cached: the first read names the tenant (its key is not trusted, only its tenant, which
    // never changes); then the generation, then the record that is cached with it.
    const first = this.valid(await this.read(parsed.id), parsed.secret);
    const { generation } = await this.check(first.tenant, null);
    const record = this.valid(await this.read(parsed.id), parsed.secret);
    this.cache.set(record, generation);
    admission.permit(record.role);
    return { principal: principalOf(record), rate: null };
  }

  private valid(record: ApiKeyRecord | null, secret: string): ApiKeyRecord {
    if (!record || !secretMatches(secret, record.secretSha256))
      throw AccessError.invalidCredential('the API key is not valid: unknown key, or wrong secret');
    if (record.revokedAt !== null) throw AccessError.invalidCredential(`the API key ${record.id} was revoked at ${record.revokedAt}`);
    return record;
  }

  private async read(id: string): Promise<ApiKeyRecord | null> {
    try {
      return await this.store.get(id);
    } catch (error) {
      // Not the caller's fault, and not a reason to let anyone in: 503, retry.
      throw new ServiceUnavailableException({
        message: `cannot check the API key: the key store does not answer (${describeError(error)}); retry`,
        retryAfterSeconds: KEY_STORE_RETRY_AFTER_SECONDS,
      });
    }
  }

  private async check(tenant: string, hit: RateHit | null) {
    try {
      return await withinMs(this.counter.check(tenant, hit), RATE_COUNT_TIMEOUT_MS);
    } catch (error) {
      // Without the generation a cached key cannot be trusted, and a counted request cannot go uncounted: 503.
      throw new ServiceUnavailableException({
        message: `cannot check the API key${hit ? ` or count this request against the tenant's limit` : ''}: the rate-limit store does not answer (${describeError(error)}); retry`,
        retryAfterSeconds: KEY_STORE_RETRY_AFTER_SECONDS,
      });
    }
  }

  /**
   * Makes a written key change of `tenant` visible to every replica (the tenant's generation is
   * incremented) before it is acknowledged. When that fails, this replica forgets the tenant's
   * keys and the change call fails with 503: the change is written, but other replicas may use
   * their cached copy until it is KEY_CACHE_MAX_AGE_MS old.
   */
  private async publishChange(tenant: string): Promise<ServiceUnavailableException | null> {
    this.cache.dropTenant(tenant);
    try {
      await withinMs(this.counter.bump(tenant), RATE_COUNT_TIMEOUT_MS);
      return null;
    } catch (error) {
      return new ServiceUnavailableException({
        message: `the key change is written, but other gateway replicas could not be told (the rate-limit store does not answer: ${describeError(error)}); they may accept the old key for up to ${KEY_CACHE_MAX_AGE_MS / 1000} s; retry the change`,
        retryAfterSeconds: KEY_STORE_RETRY_AFTER_SECONDS,
      });
    }
  }

  async create(tenant: string, request: { name: string; role: Role }, actor: KeyActor): Promise<CreatedKey> {
    const minted = mintKey();
    const record = {
      id: minted.id,
      tenant,
      name: request.name,
      role: request.role,
      secretSha256: minted.secretSha256,
      createdAt: new Date().toISOString(),
      createdBy: subjectOf(actor),
      revokedAt: null,
      revokedBy: null,
    };
    await this.store.insert(record);
    const unpublished = await this.publishChange(tenant);
    const view = viewOf(record);
    await this.audit.record({ actor, tenant, action: 'key.created', target: `key:${record.id}`, before: null, after: view });
    if (unpublished) throw unpublished;
    return { ...view, key: minted.key };
  }

  async list(tenant: string): Promise<ApiKeyView[]> {
    return (await this.store.list(tenant)).map(viewOf);
  }

  private async ownRecord(tenant: string, id: string) {
    const record = await this.store.get(id);
    // Another tenant's key is not there, for this tenant.
    if (!record || record.tenant !== tenant) throw new NotFoundException(`no API key ${id} in this tenant`);
    return record;
  }

  /** Gives the key another role; the key keeps its secret. 409 for a revoked key. */
  async changeRole(tenant: string, id: string, role: Role, actor: Principal): Promise<ApiKeyView> {
    const record = await this.ownRecord(tenant, id);
    if (record.revokedAt !== null) throw new ConflictException(`the API key ${id} is revoked: its role cannot change`);
    if (record.role === role) return viewOf(record);
    const changed = { ...record, role };
    if (!(await this.store.replace(changed))) throw new NotFoundException(`no API key ${id} in this tenant`);
    const unpublished = await this.publishChange(tenant);
    await this.audit.record({
      actor,
      action: 'key.role-changed',
      target: `key:${id}`,
      before: viewOf(record),
      after: viewOf(changed),
    });
    if (unpublished) throw unpublished;
    return viewOf(changed);
  }

  /** Revokes the key: from now on it authenticates nothing. Revoking a revoked key changes nothing. */
  async revoke(tenant: string, id: string, actor: Principal): Promise<ApiKeyView> {
    const record = await this.ownRecord(tenant, id);
    if (record.revokedAt !== null) return viewOf(record);
    const revoked = await this.revokeRecord(record, actor);
    if (!revoked) throw new NotFoundException(`no API key ${id} in this tenant`);
    return revoked;
  }

  /**
   * Revokes every key of the tenant that is still in use (its erasure): each stops authenticating
   * at once on every replica (the tenant's key generation is incremented) and each revocation is a `key.revoked` entry of the
   * tenant's audit log. The records stay, revoked (no secret is stored), so that the log's entries
   * keep naming a key that the keys API still shows. Answers the keys it revoked; none the second time.
   */
  async revokeAll(tenant: string, actor: KeyActor): Promise<ApiKeyView[]> {
    const revoked: ApiKeyView[] = [];
    for (const record of await this.store.list(tenant)) {
      if (record.revokedAt !== null) continue;
      const view = await this.revokeRecord(record, actor);
      if (view) revoked.push(view);
    }
    return revoked;
  }

  /**
   * Marks the key revoked, tells every replica (the tenant's generation) and records it in the
   * audit log; null when the record is gone. 503 (after the audit entry) when replicas could not be told.
   */
  private async revokeRecord(record: ApiKeyRecord, actor: KeyActor): Promise<ApiKeyView | null> {
    const revoked = { ...record, revokedAt: new Date().toISOString(), revokedBy: subjectOf(actor) };
    if (!(await this.store.replace(revoked))) return null;
    const unpublished = await this.publishChange(record.tenant);
    await this.audit.record({
      actor,
      tenant: record.tenant,
      action: 'key.revoked',
      target: `key:${record.id}`,
      before: viewOf(record),
      after: viewOf(revoked),
    });
    if (unpublished) throw unpublished;
    return viewOf(revoked);
  }
}
