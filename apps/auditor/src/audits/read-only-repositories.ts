import type { Entity, Filter, FindOptions, Repository, TenantId } from '@studio/ports';

/**
 * A tenant's snapshot of another service's records, read over its HTTP API for one audit:
 * equality filters only, no writes (the owning service writes them).
 */
export class SnapshotRepository<T extends Entity> implements Repository<T> {
  constructor(
    private readonly what: string,
    private readonly tenant: TenantId,
    private readonly rows: readonly T[],
  ) {}

  async get(tenant: TenantId, id: string): Promise<T | null> {
    return this.scoped(tenant).find((row) => row.id === id) ?? null;
  }

  async find(tenant: TenantId, filter: Filter<T> = {}, options: FindOptions<T> = {}): Promise<T[]> {
    const matches = this.scoped(tenant).filter((row) =>
      Object.entries(filter).every(([key, expected]) => {
        const value = (row as Record<string, unknown>)[key];
        if (expected && typeof expected === 'object' && 'in' in expected) return (expected as { in: unknown[] }).in.includes(value);
        return value === expected;
      }),
    );
    return matches.slice(options.skip ?? 0, options.limit === undefined ? undefined : (options.skip ?? 0) + options.limit);
  }

  async count(tenant: TenantId, filter?: Filter<T>): Promise<number> {
    return (await this.find(tenant, filter)).length;
  }

  upsert(): Promise<void> {
    return Promise.reject(new Error(`${this.what} belong to another service: the auditor reads them, never writes them`));
  }

  upsertMany(): Promise<void> {
    return this.upsert();
  }

  delete(): Promise<boolean> {
    return Promise.reject(new Error(`${this.what} belong to another service: the auditor reads them, never deletes them`));
  }

  private scoped(tenant: TenantId): readonly T[] {
    return tenant === this.tenant ? this.rows : [];
  }
}
