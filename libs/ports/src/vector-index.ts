export interface SparseVector {
  indices: number[];
  values: number[];
}

export interface VectorPayload {
  tenantId: string;
  contextId: string;
  [key: string]: string | number | boolean | string[] | null;
}

export interface VectorRecord {
  id: string;
  dense: number[];
  sparse?: SparseVector;
  payload: VectorPayload;
}

export type PayloadMatch = string | number | boolean | { any: (string | number)[] };

export interface VectorQuery {
  tenantId: string;
  contextId: string;
  dense?: number[];
  sparse?: SparseVector;
  /** Extra payload equality filters, ANDed with tenant and context. */
  filter?: Record<string, PayloadMatch>;
  limit: number;
}

export interface VectorHit {
  id: string;
  /** Dense: cosine similarity; sparse: dot product; hybrid: reciprocal-rank-fusion score. */
  score: number;
  payload: VectorPayload;
}

export interface CollectionSpec {
  name: string;
  denseSize: number;
}

/**
 * Dense + sparse vector search, always filtered by tenant and context. A query with both
 * `dense` and `sparse` is hybrid (reciprocal rank fusion of the two rankings).
 */
export interface VectorIndex {
  ensureCollection(spec: CollectionSpec): Promise<void>;
  upsert(collection: string, records: VectorRecord[]): Promise<void>;
  query(collection: string, query: VectorQuery): Promise<VectorHit[]>;
  delete(collection: string, scope: { tenantId: string; contextId: string; ids?: string[] }): Promise<void>;
}

/**
 * Reciprocal rank fusion with ranks counted from 1: score = sum of 1 / (k + rank), k = 60
 * (Cormack et al.). Qdrant's bare `fusion: rrf` uses k = 2 with ranks from 0; the Qdrant adapter
 * therefore asks for `rrf: { k: HYBRID_RRF_K + 1 }`, which yields exactly these scores.
 */
export function reciprocalRankFusion(rankings: VectorHit[][], limit: number, k = 60): VectorHit[] {
  const fused = new Map<string, VectorHit>();
  for (const ranking of rankings) {
    ranking.forEach((hit, rank) => {
      const prior = fused.get(hit.id);
      const score = (prior?.score ?? 0) + 1 / (k + rank + 1);
      fused.set(hit.id, { ...hit, score });
    });
  }
  return [...fused.values()].sort((a, b) => b.score - a.score || a.id.localeCompare(b.id)).slice(0, limit);
}
