import type { TenantId } from './tenant';

export interface Entity {
  /** Deterministic ids make writes idempotent upserts. */
  id: string;
}

export type Filter<T> = { [K in keyof T]?: T[K] | { in: T[K][] } };

export interface FindOptions<T> {
  sort?: { [K in keyof T]?: 1 | -1 };
  limit?: number;
  skip?: number;
}

/** A tenant-scoped store of one entity type. Every call names the tenant. */
export interface Repository<T extends Entity> {
  get(tenant: TenantId, id: string): Promise<T | null>;
  find(tenant: TenantId, filter?: Filter<T>, options?: FindOptions<T>): Promise<T[]>;
  count(tenant: TenantId, filter?: Filter<T>): Promise<number>;
  /** Insert or replace by id (idempotent). */
  upsert(tenant: TenantId, entity: T): Promise<void>;
  upsertMany(tenant: TenantId, entities: T[]): Promise<void>;
  delete(tenant: TenantId, id: string): Promise<boolean>;
}
