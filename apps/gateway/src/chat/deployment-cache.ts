import { Logger } from '@nestjs/common';
import { describeError } from '@studio/contracts';
import type { CurrentDeployment } from './chat-schemas';

export const DEPLOYMENT_CACHE_SETTINGS = Symbol('DEPLOYMENT_CACHE_SETTINGS');

export interface DeploymentCacheSettings {
  /**
   * The oldest read of a deployment a chat may be served from (CHAT_DEPLOYMENT_CACHE_MS); 0: every
   * chat reads the database. A deployment made through another gateway replica is served by this one
   * at the latest `maxAgeMs` after it was written (plus one database read).
   */
  maxAgeMs: number;
  /** Deployments kept at most (those read from the database longest ago go first). */
  maxEntries?: number;
  /** The clock (a test moves it). */
  now?: () => number;
}

interface Entry {
  deployment: CurrentDeployment;
  readAt: number;
  /** A background read is on its way. */
  refreshing: boolean;
}

/**
 * The current deployments chats are served from, per (tenant, context), read again when they are
 * older than `maxAgeMs`: a chat does not wait for the gateway's database. A read older than half
 * of `maxAgeMs` is still served while a fresh one is read behind it, so a busy model never waits;
 * one older than `maxAgeMs` is never served (the chat waits for the database), which bounds how
 * long a deployment made on another replica takes to reach this one. A deployment made through
 * this replica replaces its entry at once (`put`), and a read that began before it cannot put the
 * older deployment back. "Not deployed" is not kept: a model deployed anywhere is found at once.
 */
export class DeploymentCache {
  private readonly logger = new Logger(DeploymentCache.name);
  private readonly entries = new Map<string, Entry>();
  /** Reads on their way, shared by the chats that wait for the same deployment. */
  private readonly reading = new Map<string, Promise<CurrentDeployment | null>>();
  /** Counts local writes: a read begun under an older value stores nothing. */
  private writes = 0;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly read: (tenant: string, contextId: string) => Promise<CurrentDeployment | null>,
    private readonly settings: DeploymentCacheSettings,
  ) {
    if (!Number.isInteger(settings.maxAgeMs) || settings.maxAgeMs < 0)
      throw new Error(`the deployment cache's maxAgeMs must be a whole number of milliseconds, 0 or more; got ${settings.maxAgeMs}`);
    this.maxEntries = settings.maxEntries ?? 10_000;
    this.now = settings.now ?? (() => performance.now());
  }

  /** The current deployment of the tenant's context, or null when it has none. */
  async get(tenant: string, contextId: string): Promise<CurrentDeployment | null> {
    if (this.settings.maxAgeMs === 0) return this.read(tenant, contextId);
    const key = keyOf(tenant, contextId);
    const entry = this.entries.get(key);
    if (entry) {
      const age = this.now() - entry.readAt;
      if (age < this.settings.maxAgeMs) {
        if (age >= this.settings.maxAgeMs / 2 && !entry.refreshing) {
          entry.refreshing = true;
          this.load(key, tenant, contextId)
            .catch((error: unknown) => this.logger.warn({ msg: 'could not read a deployment again', key, error: describeError(error) }))
            .finally(() => (entry.refreshing = false));
        }
        return entry.deployment;
      }
    }
    return this.load(key, tenant, contextId);
  }

  /** A deployment this replica just made current: served from now on. */
  put(tenant: string, deployment: CurrentDeployment): void {
    const key = keyOf(tenant, deployment.contextId);
    this.writes += 1;
    this.reading.delete(key);
    if (this.settings.maxAgeMs > 0) this.store(key, deployment, this.now());
  }

  /** How many deployments are kept. */
  get size(): number {
    return this.entries.size;
  }

  private load(key: string, tenant: string, contextId: string): Promise<CurrentDeployment | null> {
    const pending = this.reading.get(key);
    if (pending) return pending;
    const writes = this.writes;
    const readAt = this.now();
    const read = this.read(tenant, contextId)
      .then((deployment) => {
        if (this.writes === writes) {
          if (deployment) this.store(key, deployment, readAt);
          else this.entries.delete(key);
        }
        return deployment;
      })
      .finally(() => {
        if (this.reading.get(key) === read) this.reading.delete(key);
      });
    this.reading.set(key, read);
    return read;
  }

  private store(key: string, deployment: CurrentDeployment, readAt: number): void {
    // Re-inserted last: the map's order is the order of the reads, the oldest first out.
    this.entries.delete(key);
    this.entries.set(key, { deployment, readAt, refreshing: false });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }
}

/** Tenant ids cannot hold "/": the key names one (tenant, context) pair only. */
function keyOf(tenant: string, contextId: string): string {
  return `${tenant}/${contextId}`;
}
