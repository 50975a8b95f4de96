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

/** API keys: authentication of a request's key, and the key changes (each recorded in the audit log). */
@Injectable()
export class ApiKeyService {
  constructor(
    @Inject(API_KEY_STORE) private readonly store: ApiKeyStore,
    @Inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  /**
   * The caller an API key names, or null when the credential is not shaped like one. A key that
   * is unknown, revoked or carries the wrong secret is a 401; the record is read on every call.
   */
  async authenticate(credential: string): Promise<Principal | null> {
    const parsed = parseApiKey(credential);
    if (!parsed) return null;
    let record;
    try {
      record = await this.store.get(parsed.id);
    } catch (error) {
      // Not the caller's fault, and not a reason to let anyone in: 503, retry.
      throw new ServiceUnavailableException({
        message: `cannot check the API key: the key store does not answer (${describeError(error)}); retry`,
        retryAfterSeconds: KEY_STORE_RETRY_AFTER_SECONDS,
      });
    }
    if (!record || !secretMatches(parsed.secret, record.secretSha256))
      throw AccessError.invalidCredential('the API key is not valid: unknown key, or wrong secret');
    if (record.revokedAt !== null) throw AccessError.invalidCredential(`the API key ${record.id} was revoked at ${record.revokedAt}`);
    return { subject: `key:${record.id}`, name: record.name, tenant: record.tenant, role: record.role, via: 'api-key', keyId: record.id };
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
    const view = viewOf(record);
    await this.audit.record({ actor, tenant, action: 'key.created', target: `key:${record.id}`, before: null, after: view });
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
    await this.audit.record({
      actor,
      action: 'key.role-changed',
      target: `key:${id}`,
      before: viewOf(record),
      after: viewOf(changed),
    });
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
   * at once (keys are read on every request) and each revocation is a `key.revoked` entry of the
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

  /** Marks the key revoked and records it in the audit log; null when the record is gone. */
  private async revokeRecord(record: ApiKeyRecord, actor: KeyActor): Promise<ApiKeyView | null> {
    const revoked = { ...record, revokedAt: new Date().toISOString(), revokedBy: subjectOf(actor) };
    if (!(await this.store.replace(revoked))) return null;
    await this.audit.record({
      actor,
      tenant: record.tenant,
      action: 'key.revoked',
      target: `key:${record.id}`,
      before: viewOf(record),
      after: viewOf(revoked),
    });
    return viewOf(revoked);
  }
}
