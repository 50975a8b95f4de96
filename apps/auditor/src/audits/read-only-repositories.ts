import type { Entity, Filter, FindOptions, Repository, TenantId } from '@studio/ports';

function compareBy(a: object, b: object, sort: readonly [string, 1 | -1][]): number {
  for (const [key, direction] of sort) {
    const x = (a as Record<string, unknown>)[key];
    const y = (b as Record<string, unknown>)[key];
    if (x === y) continue;
    if (x === undefined || x === null) return -direction;
    if (y === undefined || y === null) return direction;
    return ((x as number | string) < (y as number | string) ? -1 : 1) * direction;
  }
  return 0;
}

/**
 * A tenant's snapshot of another service's records, read over its HTTP API for one audit:
 * equality and `in` filters, sort, skip and limit; no writes (the owning service writes them).
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
    const sort = Object.entries(options.sort ?? {}) as [string, 1 | -1][];
    // Sorted as the Repository port promises (a "latest" read relies on it); stable, so equal keys keep their order.
    const ordered = sort.length === 0 ? matches : [...matches].sort((a, b) => compareBy(a, b, sort));
    return ordered.slice(options.skip ?? 0, options.limit === undefined ? undefined : (options.skip ?? 0) + options.limit);
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
