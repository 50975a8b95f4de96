/**
 * Parameters of hybrid (dense + sparse) search shared by every VectorIndex implementation, so
 * the embedded and the distributed profile rank the same data the same way.
 */

/** The RRF constant used with `reciprocalRankFusion` (1 / (k + rank), rank counted from 1). */
export const HYBRID_RRF_K = 60;

/** How many candidates each ranking (dense, sparse) contributes before fusion. */
export function hybridPrefetchLimit(limit: number): number {
  return Math.max(limit * 4, 40);
}
