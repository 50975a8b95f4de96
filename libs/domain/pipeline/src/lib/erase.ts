import { tenantKey, type Entity, type Repository, type TenantId, type VectorIndex } from '@studio/ports';
import { CLAUSE_COLLECTION } from './index-clauses';
import type { ArtifactStore } from './ports';

/** What a tenant's erasure removed from one store: records per collection, artifact files, vector contexts. */
export interface TenantErasure {
  records: Record<string, number>;
  artifacts: number;
  /** Contexts whose clause vectors were deleted. */
  vectorContexts: string[];
}

export interface ErasePorts {
  /** The repositories to empty for the tenant, by name (each service passes its own). */
  repos: Record<string, Pick<Repository<Entity & { contextId?: string }>, 'find' | 'delete'>>;
  /** The artifact folder, when the caller owns artifacts of the tenant. */
  artifacts?: Pick<ArtifactStore, 'removeAll'>;
  /** The clause index, when the caller owns it: the tenant's vectors in every context its records name are deleted. */
  vectors?: Pick<VectorIndex, 'delete'>;
}

/**
 * "Erase everything this tenant has": every record of the tenant in the given repositories
 * (documents, clauses, datasets, runs, adapters, audits, ...), the tenant's artifacts (documents,
 * dataset files, adapters, reports: all under `tenants/<tenant>/`) and its clause vectors. Other
 * tenants' data is untouched: every call is scoped by the tenant. Idempotent: erasing again
 * removes nothing more.
 */
export async function eraseTenantData(ports: ErasePorts, tenant: TenantId): Promise<TenantErasure> {
  const found = await Promise.all(
    Object.entries(ports.repos).map(async ([name, repository]) => ({ name, repository, rows: await repository.find(tenant) })),
  );
  const vectorContexts = [
    ...new Set(found.flatMap(({ rows }) => rows.flatMap((r) => (typeof r.contextId === 'string' ? [r.contextId] : [])))),
  ].sort();
  // Vectors first: the records name the contexts, so an interrupted erasure can be run again.
  if (ports.vectors) {
    for (const contextId of vectorContexts) await ports.vectors.delete(CLAUSE_COLLECTION, { tenantId: tenant, contextId });
  }
  const records: Record<string, number> = {};
  for (const { name, repository, rows } of found) {
    for (const row of rows) await repository.delete(tenant, row.id);
    records[name] = rows.length;
  }
  const artifacts = ports.artifacts ? await ports.artifacts.removeAll(tenantKey(tenant, '')) : 0;
  return { records, artifacts, vectorContexts: ports.vectors ? vectorContexts : [] };
}
