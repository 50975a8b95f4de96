import { z } from 'zod';
import type { Entity, Filter, FindOptions } from './repository';
import type { TenantId } from './tenant';

/**
 * Adapter-neutral pieces of a tenant-scoped repository: entity specs, validation of what is
 * written and read back, and a normalised form of `Filter`/`FindOptions` that each store
 * translates into its own query language. The Mongo and the embedded SQLite repositories
 * share this module so that both accept and reject exactly the same things.
 */

export type IndexFields<T> = { [K in keyof T]?: 1 | -1 };

export interface IndexSpec<T> {
  /** Fields of the entity; every index is prefixed by the tenant, so `unique` means unique per tenant. */
  fields: IndexFields<T>;
  unique?: boolean;
}

export interface EntitySpec<T extends Entity> {
  /** Collection (Mongo) or table (SQLite) name: a letter, then letters, digits, "_" or "-". */
  collection: string;
  /** The entity's zod schema: what is written is validated by it, and so is what is read back. */
  schema: z.ZodType<T>;
  indexes?: IndexSpec<T>[];
}

export type Scalar = string | number | boolean | null;

export type Condition = { field: string; op: 'eq'; value: Scalar } | { field: string; op: 'in'; values: Scalar[] };

export interface SortKey {
  field: string;
  direction: 1 | -1;
}

export interface NormalizedFind {
  /** The caller's sort keys; stores append the entity id as a final tie-breaker. */
  sort: SortKey[];
  limit: number | null;
  skip: number;
}

/** Fields the stores reserve: `_id` holds the composite key, `tenantId` the owning tenant. */
export const TENANT_FIELD = 'tenantId';
const RESERVED_FILTER_FIELDS = new Set(['_id', TENANT_FIELD]);
const FIELD_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const COLLECTION_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** A filter, sort or option the repository cannot run; names the collection and the field. */
export class RepositoryQueryError extends Error {
  constructor(
    readonly collection: string,
    message: string,
  ) {
    super(`collection "${collection}": ${message}`);
    this.name = 'RepositoryQueryError';
  }
}

export interface FieldIssue {
  /** Dotted path of the offending field ("" for the document itself). */
  field: string;
  message: string;
}

/** An entity that does not match its schema, on its way into the store or back out of it. */
export class EntityValidationError extends Error {
  constructor(
    readonly collection: string,
    readonly direction: 'write' | 'read',
    readonly entityId: string | null,
    readonly issues: FieldIssue[],
  ) {
    const what = direction === 'write' ? 'refusing to write' : 'stored document does not match the schema';
    const id = entityId === null ? '' : ` "${entityId}"`;
    const detail = issues.map((i) => `field "${i.field || '(document)'}": ${i.message}`).join('; ');
    super(`collection "${collection}": ${what}${id}: ${detail}`);
    this.name = 'EntityValidationError';
  }
}

export function assertCollectionName(name: string): string {
  if (!COLLECTION_PATTERN.test(name)) {
    throw new Error(`invalid collection name "${name}": use a letter, then up to 63 letters, digits, "_" or "-"`);
  }
  return name;
}

/** The stored key of an entity: tenant and id together, so two tenants may use the same id. */
export function entityKey(tenant: TenantId, id: string): string {
  // Tenant ids cannot contain "/", so the first "/" always separates the two parts.
  return `${tenant}/${id}`;
}

function assertField(collection: string, field: string, use: string): void {
  if (!FIELD_PATTERN.test(field)) {
    throw new RepositoryQueryError(
      collection,
      `cannot ${use} on field "${field}": only top-level field names (letters, digits, "_") are supported`,
    );
  }
  if (RESERVED_FILTER_FIELDS.has(field)) {
    throw new RepositoryQueryError(
      collection,
      `cannot ${use} on field "${field}": the tenant is given by the tenant argument of every call`,
    );
  }
}

function isScalar(value: unknown): value is Scalar {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

/**
 * Turns `{ status: 'ready', kind: { in: ['a', 'b'] } }` into conditions, rejecting what the
 * stores could not evaluate the same way (nested values, operators, reserved fields).
 * Undefined values are ignored, as an absent key would be.
 */
export function normalizeFilter<T>(collection: string, filter: Filter<T> | undefined): Condition[] {
  if (filter === undefined) return [];
  if (!isPlainObject(filter)) throw new RepositoryQueryError(collection, 'a filter must be a plain object');
  const conditions: Condition[] = [];
  for (const [field, raw] of Object.entries(filter)) {
    if (raw === undefined) continue;
    assertField(collection, field, 'filter');
    if (isPlainObject(raw)) {
      const keys = Object.keys(raw);
      const values = raw['in'];
      if (keys.length !== 1 || keys[0] !== 'in' || !Array.isArray(values)) {
        throw new RepositoryQueryError(
          collection,
          `filter on "${field}" must be a value or { in: [...] }, got an object with keys ${JSON.stringify(keys)}`,
        );
      }
      const bad = values.find((v) => !isScalar(v));
      if (bad !== undefined) {
        throw new RepositoryQueryError(
          collection,
          `filter on "${field}": { in } accepts strings, finite numbers, booleans and null, got ${JSON.stringify(bad)}`,
        );
      }
      conditions.push({ field, op: 'in', values: values as Scalar[] });
    } else if (isScalar(raw)) {
      conditions.push({ field, op: 'eq', value: raw });
    } else {
      throw new RepositoryQueryError(
        collection,
        `filter on "${field}" accepts strings, finite numbers, booleans and null, got ${JSON.stringify(raw)}`,
      );
    }
  }
  return conditions;
}

function assertCount(collection: string, name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
    throw new RepositoryQueryError(collection, `${name} must be a non-negative integer, got ${String(value)}`);
  }
}

export function normalizeFindOptions<T>(collection: string, options: FindOptions<T> | undefined): NormalizedFind {
  const sort: SortKey[] = [];
  for (const [field, direction] of Object.entries(options?.sort ?? {})) {
    if (direction === undefined) continue;
    assertField(collection, field, 'sort');
    if (direction !== 1 && direction !== -1) {
      throw new RepositoryQueryError(collection, `sort direction of "${field}" must be 1 or -1, got ${JSON.stringify(direction)}`);
    }
    sort.push({ field, direction });
  }
  assertCount(collection, 'limit', options?.limit);
  assertCount(collection, 'skip', options?.skip);
  return { sort, limit: options?.limit ?? null, skip: options?.skip ?? 0 };
}

/** Normalises index specs the same way: plain top-level fields, 1 or -1. */
export function normalizeIndexes<T>(collection: string, indexes: IndexSpec<T>[] | undefined): { fields: SortKey[]; unique: boolean }[] {
  return (indexes ?? []).map((index) => {
    const fields = normalizeFindOptions<T>(collection, { sort: index.fields }).sort;
    if (fields.length === 0) throw new RepositoryQueryError(collection, 'an index needs at least one field');
    return { fields, unique: index.unique ?? false };
  });
}

function issuesOf(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({ field: issue.path.map(String).join('.'), message: issue.message }));
}

/** Finds values that a JSON document store would not keep as written (Dates, NaN, class instances...). */
function nonJsonIssues(value: unknown, path: string[], out: FieldIssue[]): void {
  const field = path.join('.');
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) out.push({ field, message: `${value} is not a finite number` });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => nonJsonIssues(item, [...path, String(i)], out));
    return;
  }
  if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) nonJsonIssues(item, [...path, key], out);
    }
    return;
  }
  const kind =
    value instanceof Date
      ? 'a Date (store an ISO-8601 string)'
      : typeof value === 'object'
        ? `an instance of ${value.constructor?.name ?? 'a class'}`
        : `a ${typeof value}`;
  out.push({ field, message: `holds ${kind}; entities must be plain JSON values so every store keeps them as written` });
}

/**
 * Validates entities against their schema on the way in and out of a store.
 * - write: the schema's output (unknown keys stripped, defaults applied) is what gets stored;
 *   it must be plain JSON, and an entity carrying its own `tenantId` must name the tenant it is written for.
 * - read: the store's bookkeeping fields are removed and the rest must match the schema again,
 *   so a document written by an older schema fails loudly instead of leaking a wrong type.
 */
export class EntityCodec<T extends Entity> {
  readonly collection: string;
  private readonly declaresTenant: boolean;

  constructor(private readonly spec: EntitySpec<T>) {
    this.collection = assertCollectionName(spec.collection);
    this.declaresTenant = spec.schema instanceof z.ZodObject && TENANT_FIELD in spec.schema.shape;
  }

  /** Validates an entity for writing; returns the document to store (without store bookkeeping). */
  forWrite(tenant: TenantId, entity: T): T {
    const claimedId = isPlainObject(entity) && typeof entity['id'] === 'string' ? entity['id'] : null;
    const result = this.spec.schema.safeParse(entity);
    if (!result.success) throw new EntityValidationError(this.collection, 'write', claimedId, issuesOf(result.error));
    const doc = result.data;
    const issues: FieldIssue[] = [];
    if (!isPlainObject(doc)) {
      issues.push({ field: '', message: 'an entity must be a plain object' });
    } else {
      if (typeof doc.id !== 'string' || doc.id.length === 0) issues.push({ field: 'id', message: 'must be a non-empty string' });
      const ownTenant = doc[TENANT_FIELD];
      if (ownTenant !== undefined && ownTenant !== tenant) {
        issues.push({ field: TENANT_FIELD, message: `is "${String(ownTenant)}" but the entity is written for tenant "${tenant}"` });
      }
      nonJsonIssues(doc, [], issues);
    }
    if (issues.length > 0) throw new EntityValidationError(this.collection, 'write', claimedId, issues);
    return doc;
  }

  /** Validates a stored document read back from the store (bookkeeping fields are dropped). */
  fromStored(stored: Record<string, unknown>): T {
    const { _id: _key, ...rest } = stored;
    if (!this.declaresTenant) delete rest[TENANT_FIELD];
    const result = this.spec.schema.safeParse(rest);
    if (!result.success) {
      const id = typeof rest['id'] === 'string' ? rest['id'] : null;
      throw new EntityValidationError(this.collection, 'read', id, issuesOf(result.error));
    }
    return result.data;
  }
}
