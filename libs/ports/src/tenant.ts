/**
 * A tenant id that has been checked. Every repository call takes one, so a query without a
 * tenant does not type-check: isolation is a type, not a habit.
 */
export type TenantId = string & { readonly __brand: 'TenantId' };

const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function tenantId(value: string): TenantId {
  if (!TENANT_PATTERN.test(value)) {
    throw new Error(`invalid tenant id "${value}": use 1-128 letters, digits, ".", "_", "-" or ":", starting with a letter or digit`);
  }
  return value as TenantId;
}
