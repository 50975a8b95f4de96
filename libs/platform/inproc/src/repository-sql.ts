import type { Condition, NormalizedFind, Scalar, TenantId } from '@studio/ports';
import type { SQLInputValue } from 'node:sqlite';

/**
 * Pure translation of normalised repository queries into SQLite over JSON documents, with the
 * same meaning as the Mongo adapter's: equality is type-exact ("1" is not 1), and `null`
 * matches a null or missing field, as MongoDB's `{ field: null }` does.
 */

export interface SqlFragment {
  sql: string;
  params: SQLInputValue[];
}

/** Field names reach here already checked against /^[A-Za-z_][A-Za-z0-9_]*$/, so inlining them is safe. */
export function jsonPath(field: string): string {
  return `'$.${field}'`;
}

function equals(field: string, value: Scalar): SqlFragment {
  const path = jsonPath(field);
  if (value === null) return { sql: `(json_type(doc, ${path}) IS NULL OR json_type(doc, ${path}) = 'null')`, params: [] };
  if (typeof value === 'boolean') return { sql: `json_type(doc, ${path}) = ?`, params: [value ? 'true' : 'false'] };
  if (typeof value === 'number')
    return { sql: `(json_type(doc, ${path}) IN ('integer', 'real') AND json_extract(doc, ${path}) = ?)`, params: [value] };
  return { sql: `(json_type(doc, ${path}) = 'text' AND json_extract(doc, ${path}) = ?)`, params: [value] };
}

export function toSqlWhere(tenant: TenantId, conditions: Condition[]): SqlFragment {
  const parts: string[] = ['tenant_id = ?'];
  const params: SQLInputValue[] = [tenant];
  for (const condition of conditions) {
    const alternatives =
      condition.op === 'eq' ? [equals(condition.field, condition.value)] : condition.values.map((v) => equals(condition.field, v));
    if (alternatives.length === 0) {
      parts.push('0'); // { in: [] } matches nothing, as $in: [] does.
      continue;
    }
    const sql = alternatives.map((a) => a.sql);
    parts.push(sql.length === 1 ? sql.join('') : `(${sql.join(' OR ')})`);
    for (const alternative of alternatives) params.push(...alternative.params);
  }
  return { sql: parts.join(' AND '), params };
}

export function toSqlOrderAndPage(find: NormalizedFind): SqlFragment {
  const keys = find.sort.map((key) => `json_extract(doc, ${jsonPath(key.field)}) ${key.direction === 1 ? 'ASC' : 'DESC'}`);
  if (!find.sort.some((key) => key.field === 'id')) keys.push('id ASC');
  return { sql: `ORDER BY ${keys.join(', ')} LIMIT ? OFFSET ?`, params: [find.limit ?? -1, find.skip] };
}
