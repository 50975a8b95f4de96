import type { Condition, NormalizedFind, TenantId } from '@studio/ports';
import { TENANT_FIELD } from '@studio/ports';

/**
 * Pure translation of normalised repository queries into MongoDB query documents. Only
 * operators FerretDB v1 supports are used: $eq, $in, sort, skip, limit.
 */

export type MongoQuery = Record<string, unknown>;

/** The tenant condition is set last, so nothing in the filter can replace it. */
export function toMongoFilter(tenant: TenantId, conditions: Condition[]): MongoQuery {
  const query: MongoQuery = {};
  for (const condition of conditions) {
    query[condition.field] = condition.op === 'eq' ? { $eq: condition.value } : { $in: condition.values };
  }
  query[TENANT_FIELD] = tenant;
  return query;
}

/** Sort keys in the caller's order, then the entity id, so equal keys come back in a stable order. */
export function toMongoSort(find: NormalizedFind): Record<string, 1 | -1> {
  const sort: Record<string, 1 | -1> = {};
  for (const key of find.sort) sort[key.field] = key.direction;
  if (!('id' in sort)) sort['id'] = 1;
  return sort;
}
