import { createHash } from 'node:crypto';

/** Namespace of our point ids (a UUIDv5 of the URL namespace and "urn:alignment-studio:vector-point"). */
export const POINT_ID_NAMESPACE = '614d77df-4497-585d-9f81-742484bbfd30';

function uuidBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`invalid UUID "${uuid}"`);
  return Buffer.from(hex, 'hex');
}

/** RFC 9562 UUID version 5 (SHA-1, name-based): the same namespace and name always give the same UUID. */
export function uuidV5(name: string, namespace: string): string {
  const hash = createHash('sha1').update(uuidBytes(namespace)).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Qdrant point ids must be unsigned integers or UUIDs; ours are free strings scoped by tenant
 * and context. The point id is the UUIDv5 of (tenant, context, id), so equal ids of two tenants
 * never overwrite each other and re-upserting a record replaces its point.
 */
export function pointId(tenantId: string, contextId: string, id: string): string {
  return uuidV5(JSON.stringify([tenantId, contextId, id]), POINT_ID_NAMESPACE);
}
