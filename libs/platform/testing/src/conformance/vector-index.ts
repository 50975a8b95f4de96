import {
  HYBRID_RRF_K,
  hybridPrefetchLimit,
  reciprocalRankFusion,
  type VectorHit,
  type VectorIndex,
  type VectorRecord,
} from '@studio/ports';

export interface VectorIndexUnderTest {
  index: VectorIndex;
  /** A collection name unique to this suite run (the suite creates and fills it). */
  collectionName: (suffix: string) => string;
  /** Removes the suite's collections. */
  dispose?: () => Promise<void>;
}

const DIM = 4;
const acme = { tenantId: 'acme', contextId: 'conduct' };

/**
 * A small fixed fixture whose dense, sparse and fused rankings have no ties, so every adapter
 * must return the same ids in the same order. Query: dense [1, 0, 0, 0], sparse {10: 1, 20: 0.5}.
 * - dense (cosine):  r1 1.000, r2 0.994, r3 0.707, r4 0.498, r5 0.196, r6 0
 * - sparse (dot):    r6 2.0, r4 1.5, r3 0.9, r5 0.5 (r1 shares no term, r2 has no sparse vector)
 * - hybrid (RRF 60): r4 1/64+1/62, r3 2/63, r6 1/66+1/61, r5 1/65+1/64, r1 1/61, r2 1/62
 */
function fixture(tenantId: string, contextId: string): VectorRecord[] {
  const rows: [string, number[], Record<number, number> | null, string, string[], number][] = [
    ['r1', [1, 0, 0, 0], { 30: 1 }, 'rule', ['gifts'], 1],
    ['r2', [0.9, 0.1, 0, 0], null, 'rule', ['gifts', 'travel'], 2],
    ['r3', [0.7, 0.7, 0, 0], { 20: 1.8 }, 'definition', ['travel'], 3],
    ['r4', [0.5, 0, 0.87, 0], { 10: 1, 20: 1 }, 'rule', [], 4],
    ['r5', [0.2, 0, 0, 1], { 10: 0.5 }, 'example', ['privacy'], 5],
    ['r6', [0, 1, 0, 0], { 10: 2 }, 'rule', ['privacy', 'gifts'], 6],
  ];
  return rows.map(([id, dense, sparse, kind, tags, rank]) => ({
    id,
    dense,
    ...(sparse ? { sparse: { indices: Object.keys(sparse).map(Number), values: Object.values(sparse) } } : {}),
    payload: { tenantId, contextId, kind, tags, rank, text: `${tenantId}/${contextId}/${id}` },
  }));
}

const DENSE = [1, 0, 0, 0];
const SPARSE = { indices: [10, 20], values: [1, 0.5] };
const cosine = (v: number[]) => {
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return (v[0] ?? 0) / norm;
};

const ids = (hits: readonly VectorHit[]) => hits.map((h) => h.id);

/**
 * The VectorIndex port's semantics, the same cases for every adapter: dense (cosine), sparse
 * (dot product) and hybrid (reciprocal rank fusion) rankings of one fixture in the same order
 * with the same scores, limits, tenant/context scoping, payload filters, replace on upsert,
 * delete by ids and by scope, and collection checks.
 */
export function describeVectorIndexConformance(name: string, makeIndex: () => Promise<VectorIndexUnderTest>): void {
  describe(`VectorIndex conformance: ${name}`, () => {
    let subject: VectorIndexUnderTest;
    let index: VectorIndex;
    let shared: string;

    /** A fresh collection holding the fixture in three scopes. */
    async function filled(suffix: string): Promise<string> {
      const collection = subject.collectionName(suffix);
      await index.ensureCollection({ name: collection, denseSize: DIM });
      await index.upsert(collection, [
        ...fixture('acme', 'conduct'),
        ...fixture('acme', 'privacy'),
        ...fixture('globex', 'conduct').map((r) => ({ ...r, dense: [...r.dense].reverse() })),
      ]);
      return collection;
    }

    beforeAll(async () => {
      subject = await makeIndex();
      index = subject.index;
      shared = await filled('shared');
    });

    afterAll(async () => {
      await subject?.dispose?.();
    });

    it('ranks a dense query by cosine similarity, best first, up to the limit', async () => {
      const hits = await index.query(shared, { ...acme, dense: DENSE, limit: 6 });
      expect(ids(hits)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
      const byId = new Map(fixture('acme', 'conduct').map((r) => [r.id, r]));
      hits.forEach((hit) => expect(hit.score).toBeCloseTo(cosine(byId.get(hit.id)?.dense ?? []), 4));
      expect(hits[0]?.payload).toEqual(byId.get('r1')?.payload);
      expect(ids(await index.query(shared, { ...acme, dense: DENSE, limit: 2 }))).toEqual(['r1', 'r2']);
    });

    it('ranks a sparse query by dot product and leaves out records without a shared term', async () => {
      const hits = await index.query(shared, { ...acme, sparse: SPARSE, limit: 10 });
      expect(ids(hits)).toEqual(['r6', 'r4', 'r3', 'r5']);
      expect(hits.map((h) => h.score)).toEqual([2, 1.5, 0.9, 0.5].map((s) => expect.closeTo(s, 5)));
      expect(ids(await index.query(shared, { ...acme, sparse: SPARSE, limit: 1 }))).toEqual(['r6']);
    });

    it('fuses dense and sparse rankings by reciprocal rank fusion (k = 60) for a hybrid query', async () => {
      const hits = await index.query(shared, { ...acme, dense: DENSE, sparse: SPARSE, limit: 6 });
      expect(ids(hits)).toEqual(['r4', 'r3', 'r6', 'r5', 'r1', 'r2']);
      const rrf = (...ranks: number[]) => ranks.reduce((s, r) => s + 1 / (HYBRID_RRF_K + r), 0);
      const expected = [rrf(4, 2), rrf(3, 3), rrf(6, 1), rrf(5, 4), rrf(1), rrf(2)];
      hits.forEach((hit, i) => expect(hit.score).toBeCloseTo(expected[i] ?? NaN, 6));
      // The same fusion of the adapter's own rankings.
      const prefetch = hybridPrefetchLimit(6);
      const dense = await index.query(shared, { ...acme, dense: DENSE, limit: prefetch });
      const sparse = await index.query(shared, { ...acme, sparse: SPARSE, limit: prefetch });
      expect(ids(reciprocalRankFusion([dense, sparse], 6, HYBRID_RRF_K))).toEqual(ids(hits));
      // Top-k of the fused ranking.
      expect(ids(await index.query(shared, { ...acme, dense: DENSE, sparse: SPARSE, limit: 3 }))).toEqual(['r4', 'r3', 'r6']);
    });

    it('a sparse query without terms finds nothing, and a hybrid one ranks by its dense part alone', async () => {
      const collection = await filled('empty-sparse');
      const [r1] = fixture('acme', 'conduct');
      // A text of stop-words only encodes to an empty sparse vector.
      await index.upsert(collection, [
        { ...(r1 as VectorRecord), id: 'r0', dense: [0.95, 0.05, 0.3, 0], sparse: { indices: [], values: [] } },
      ]);
      const empty = { indices: [], values: [] };
      expect(await index.query(collection, { ...acme, sparse: empty, limit: 5 })).toEqual([]);
      expect(ids(await index.query(collection, { ...acme, sparse: SPARSE, limit: 10 }))).toEqual(['r6', 'r4', 'r3', 'r5']);
      const hybrid = await index.query(collection, { ...acme, dense: DENSE, sparse: empty, limit: 3 });
      expect(ids(hybrid)).toEqual(['r1', 'r2', 'r0']);
      hybrid.forEach((hit, i) => expect(hit.score).toBeCloseTo(1 / (HYBRID_RRF_K + i + 1), 6));
    });

    it('sees only the query tenant and context, even where ids are equal', async () => {
      for (const scope of [acme, { tenantId: 'acme', contextId: 'privacy' }, { tenantId: 'globex', contextId: 'conduct' }]) {
        for (const vectors of [{ dense: DENSE }, { sparse: SPARSE }, { dense: DENSE, sparse: SPARSE }]) {
          const hits = await index.query(shared, { ...scope, ...vectors, limit: 20 });
          expect(hits.length).toBeGreaterThan(0);
          for (const hit of hits) {
            expect(hit.payload).toMatchObject(scope);
            expect(hit.payload['text']).toBe(`${scope.tenantId}/${scope.contextId}/${hit.id}`);
          }
        }
      }
      // globex's dense vectors are reversed: its ranking is its own.
      expect(ids(await index.query(shared, { tenantId: 'globex', contextId: 'conduct', dense: DENSE, limit: 1 }))).toEqual(['r5']);
      expect(await index.query(shared, { tenantId: 'initech', contextId: 'conduct', dense: DENSE, limit: 5 })).toEqual([]);
    });

    it('ANDs payload filters with the scope: equality, "any", and array payloads matched by element', async () => {
      const q = { ...acme, dense: DENSE, limit: 10 };
      expect(ids(await index.query(shared, { ...q, filter: { kind: 'rule' } }))).toEqual(['r1', 'r2', 'r4', 'r6']);
      expect(ids(await index.query(shared, { ...q, filter: { kind: { any: ['definition', 'example'] } } }))).toEqual(['r3', 'r5']);
      expect(ids(await index.query(shared, { ...q, filter: { tags: 'gifts' } }))).toEqual(['r1', 'r2', 'r6']);
      expect(ids(await index.query(shared, { ...q, filter: { tags: { any: ['travel', 'privacy'] } } }))).toEqual(['r2', 'r3', 'r5', 'r6']);
      expect(ids(await index.query(shared, { ...q, filter: { kind: 'rule', tags: 'gifts', rank: { any: [2, 6] } } }))).toEqual([
        'r2',
        'r6',
      ]);
      expect(ids(await index.query(shared, { ...q, sparse: SPARSE, filter: { rank: 4 } }))).toEqual(['r4']);
      expect(await index.query(shared, { ...q, filter: { kind: 'none' } })).toEqual([]);
      // A filter cannot widen the scope.
      expect(await index.query(shared, { ...q, filter: { tenantId: 'globex' } })).toEqual([]);
      expect(await index.query(shared, { ...q, filter: { contextId: { any: ['privacy', 'conduct'] } } })).toHaveLength(6);
    });

    it('replaces a record on upsert with the same id, in its scope only', async () => {
      const collection = await filled('replace');
      const [r6] = fixture('acme', 'conduct').filter((r) => r.id === 'r6');
      await index.upsert(collection, [{ ...(r6 as VectorRecord), dense: [1, 0, 0, 0], payload: { ...acme, kind: 'moved' } }]);
      const hits = await index.query(collection, { ...acme, dense: DENSE, limit: 10 });
      expect(hits).toHaveLength(6);
      expect(ids(hits).slice(0, 2).sort()).toEqual(['r1', 'r6']);
      expect(hits.find((h) => h.id === 'r6')?.payload).toEqual({ ...acme, kind: 'moved' });
      const privacy = await index.query(collection, { tenantId: 'acme', contextId: 'privacy', dense: DENSE, limit: 10 });
      expect(privacy.find((h) => h.id === 'r6')?.payload['kind']).toBe('rule');
    });

    it('deletes by ids and by scope, only inside the given tenant and context', async () => {
      const collection = await filled('delete');
      const all = { dense: DENSE, limit: 10 };
      await index.delete(collection, { ...acme, ids: ['r1', 'r2', 'missing'] });
      expect(ids(await index.query(collection, { ...acme, ...all }))).toEqual(['r3', 'r4', 'r5', 'r6']);
      expect(await index.query(collection, { tenantId: 'acme', contextId: 'privacy', ...all })).toHaveLength(6);
      expect(await index.query(collection, { tenantId: 'globex', contextId: 'conduct', ...all })).toHaveLength(6);
      await index.delete(collection, { ...acme, ids: [] });
      expect(await index.query(collection, { ...acme, ...all })).toHaveLength(4);

      await index.delete(collection, acme);
      expect(await index.query(collection, { ...acme, ...all })).toEqual([]);
      expect(await index.query(collection, { tenantId: 'acme', contextId: 'privacy', ...all })).toHaveLength(6);
      expect(await index.query(collection, { tenantId: 'globex', contextId: 'conduct', ...all })).toHaveLength(6);
    });

    it('ensureCollection is idempotent and refuses another dense size, naming both', async () => {
      await index.ensureCollection({ name: shared, denseSize: DIM });
      await expect(index.ensureCollection({ name: shared, denseSize: DIM + 1 })).rejects.toThrow(/dense size 4, not 5/);
      expect(await index.query(shared, { ...acme, dense: DENSE, limit: 10 })).toHaveLength(6);
    });

    it('refuses records and queries whose vectors do not fit the collection, writing nothing', async () => {
      const collection = await filled('refuse');
      const [r1] = fixture('acme', 'conduct');
      const moved = { ...(r1 as VectorRecord), dense: [0, 0, 0, 1] };
      await expect(index.upsert(collection, [moved, { ...(r1 as VectorRecord), id: 'wide', dense: [1, 0, 0, 0, 0] }])).rejects.toThrow();
      await expect(
        index.upsert(collection, [{ ...(r1 as VectorRecord), id: 'odd', sparse: { indices: [1, 2], values: [1] } }]),
      ).rejects.toThrow();
      await expect(
        index.upsert(collection, [{ ...(r1 as VectorRecord), id: 'twice', sparse: { indices: [1, 1], values: [1, 2] } }]),
      ).rejects.toThrow();
      await expect(index.query(collection, { ...acme, dense: [1, 0, 0], limit: 5 })).rejects.toThrow();
      expect(ids(await index.query(collection, { ...acme, dense: DENSE, limit: 10 }))).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
    });

    it('fails on a collection that was never created', async () => {
      const missing = subject.collectionName('never-created');
      await expect(index.query(missing, { ...acme, dense: DENSE, limit: 5 })).rejects.toThrow();
      await expect(index.upsert(missing, fixture('acme', 'conduct'))).rejects.toThrow();
      await expect(index.delete(missing, acme)).rejects.toThrow();
    });

    it('refuses a query with no vector or a limit that is not a positive integer', async () => {
      await expect(index.query(shared, { ...acme, limit: 5 })).rejects.toThrow(/dense vector, a sparse vector or both/);
      await expect(index.query(shared, { ...acme, dense: DENSE, limit: 0 })).rejects.toThrow(/limit/);
      await expect(index.query(shared, { ...acme, dense: DENSE, limit: 1.5 })).rejects.toThrow(/limit/);
    });
  });
}
