// The exact in-process index is the reference the Qdrant adapter is compared with; importing one
// adapter from another is allowed in this test only.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { ExactVectorIndex } from '@studio/inproc';
import {
  encodeSparse,
  HYBRID_RRF_K,
  hybridPrefetchLimit,
  reciprocalRankFusion,
  type VectorHit,
  type VectorQuery,
  type VectorRecord,
} from '@studio/ports';
import { describeWithServers, serverSecret, uniqueName } from '@studio/testing';
import { QdrantError, QdrantVectorIndex, RECORD_ID_KEY } from './qdrant-vector-index';
import { pointId } from './point-id';

/** The local Qdrant's API key, when it has one (deploy/local makes one). */
const qdrantKey = () => {
  const apiKey = serverSecret('QDRANT_API_KEY');
  return apiKey ? { apiKey } : {};
};

const DIM = 8;

/** Deterministic pseudo-random unit-free vectors (mulberry32), so both indexes see the same data. */
function vectors(seed: number, count: number): number[][] {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
  return Array.from({ length: count }, () => Array.from({ length: DIM }, next));
}

const CLAUSES: [string, string, string][] = [
  ['gifts', 'prohibition', 'Employees must not accept gifts or entertainment from suppliers'],
  ['gifts-nominal', 'permission', 'Gifts of nominal value from suppliers may be accepted with approval'],
  ['conflicts', 'obligation', 'Disclose any conflict of interest to your manager'],
  ['confidential', 'obligation', 'Protect confidential information of the company and its clients'],
  ['insider', 'prohibition', 'Do not trade securities on inside information'],
  ['travel', 'obligation', 'Travel and entertainment expenses require approval by a manager'],
  ['privacy', 'obligation', 'Personal data of clients is processed only for agreed purposes'],
  ['bribery', 'prohibition', 'Never offer bribes or improper payments to officials or suppliers'],
  ['social-media', 'permission', 'You may discuss the company on social media without disclosing confidential information'],
  ['records', 'obligation', 'Keep accurate business records and never falsify expenses'],
  ['definition-gift', 'definition', 'A gift is anything of value, including entertainment, travel and services'],
  ['harassment', 'prohibition', 'Harassment of colleagues, clients or suppliers is not tolerated'],
];

function corpus(tenantId: string, contextId: string, seed: number): VectorRecord[] {
  const dense = vectors(seed, CLAUSES.length);
  return CLAUSES.map(([id, kind, text], i) => ({
    id,
    dense: dense[i] ?? [],
    sparse: encodeSparse(text),
    payload: { tenantId, contextId, kind, section: i % 3, text, tags: i % 2 ? ['even'] : ['odd', 'first'] },
  }));
}

/** Same ranking up to the order of hits with equal scores; scores equal to float32 precision. */
function expectSameRanking(actual: VectorHit[], expected: VectorHit[]): void {
  expect(actual.map((h) => h.score)).toHaveLength(expected.length);
  actual.forEach((hit, i) => expect(hit.score).toBeCloseTo(expected[i]?.score ?? NaN, 4));
  const byScore = (hits: VectorHit[]) => {
    const last = hits.at(-1)?.score.toFixed(4);
    const groups = new Map<string, string[]>();
    for (const hit of hits) {
      const key = hit.score.toFixed(4);
      // The group at the cut-off may hold different members of a larger tie.
      if (key !== last) groups.set(key, [...(groups.get(key) ?? []), hit.id].sort());
    }
    return [...groups.entries()];
  };
  expect(byScore(actual)).toEqual(byScore(expected));
  const payloads = (hits: VectorHit[]) => Object.fromEntries(hits.map((h) => [h.id, h.payload]));
  const shared = actual.filter((h) => expected.some((e) => e.id === h.id));
  expect(payloads(shared)).toEqual(payloads(expected.filter((e) => shared.some((h) => h.id === e.id))));
}

describeWithServers(['QDRANT_URL'], 'QdrantVectorIndex against the Qdrant API', ({ QDRANT_URL }) => {
  const collection = uniqueName('clauses');
  let qdrant: QdrantVectorIndex;
  let exact: ExactVectorIndex;
  const acme = { tenantId: 'acme', contextId: 'bcg' };

  beforeAll(async () => {
    qdrant = new QdrantVectorIndex({ url: QDRANT_URL, ...qdrantKey() });
    exact = new ExactVectorIndex();
    const data = [...corpus('acme', 'bcg', 1), ...corpus('acme', 'privacy-policy', 2), ...corpus('globex', 'bcg', 3)];
    for (const index of [qdrant, exact]) {
      await index.ensureCollection({ name: collection, denseSize: DIM });
      await index.upsert(collection, data);
    }
  });

  afterAll(async () => {
    await qdrant?.client.deleteCollection(collection);
  });

  it('creates the collection once, with named dense and sparse vectors and tenant/context indexes', async () => {
    await qdrant.ensureCollection({ name: collection, denseSize: DIM });
    const info = await qdrant.client.getCollection(collection);
    expect(info.config.params.vectors).toMatchObject({ dense: { size: DIM, distance: 'Cosine' } });
    expect(info.config.params.sparse_vectors).toHaveProperty('sparse');
    const { count } = await qdrant.client.count(collection, { exact: true });
    expect(count).toBe(3 * CLAUSES.length);
  });

  it('refuses an existing collection with another dense size, naming both sizes', async () => {
    await expect(qdrant.ensureCollection({ name: collection, denseSize: DIM + 1 })).rejects.toThrow(
      `collection "${collection}" exists with dense size ${DIM}, not ${DIM + 1}`,
    );
  });

  it('stores points under UUIDv5 ids derived from tenant, context and id, keeping the id in the payload', async () => {
    const [point] = await qdrant.client.retrieve(collection, { ids: [pointId('globex', 'bcg', 'bribery')], with_payload: true });
    expect(point?.payload).toMatchObject({ tenantId: 'globex', contextId: 'bcg', [RECORD_ID_KEY]: 'bribery', kind: 'prohibition' });
  });

  const [probe] = vectors(99, 1);
  const queries: [string, Omit<VectorQuery, 'tenantId' | 'contextId'>][] = [
    ['dense', { dense: probe, limit: 5 }],
    ['dense, filtered by kind', { dense: probe, filter: { kind: 'obligation' }, limit: 3 }],
    [
      'dense, filtered by any and array payload',
      { dense: probe, filter: { kind: { any: ['prohibition', 'definition'] }, tags: 'even' }, limit: 10 },
    ],
    ['sparse', { sparse: encodeSparse('gifts from suppliers and entertainment'), limit: 5 }],
    ['sparse, filtered by section', { sparse: encodeSparse('suppliers approval manager'), filter: { section: 1 }, limit: 5 }],
    ['hybrid', { dense: probe, sparse: encodeSparse('entertainment entertainment entertainment approval approval value'), limit: 6 }],
    [
      'hybrid, filtered',
      {
        dense: probe,
        sparse: encodeSparse('gift entertainment travel'),
        filter: { kind: { any: ['obligation', 'definition'] } },
        limit: 4,
      },
    ],
  ];

  it.each(queries)('returns the same top results as the exact index: %s', async (_, query) => {
    const q: VectorQuery = { ...acme, ...query };
    const expected = await exact.query(collection, q);
    const actual = await qdrant.query(collection, q);
    expect(expected.length).toBeGreaterThan(0);
    if (q.dense && q.sparse) {
      // Fusion depends on the order inside each ranking, and the order of equal scores is
      // implementation-defined: these queries are chosen to have no ties in either ranking.
      for (const part of [{ dense: q.dense }, { sparse: q.sparse }]) {
        const scores = (await exact.query(collection, { ...q, dense: undefined, sparse: undefined, ...part, limit: 100 })).map((h) =>
          h.score.toFixed(6),
        );
        expect(new Set(scores).size).toBe(scores.length);
      }
    }
    expectSameRanking(actual, expected);
    expect(actual.every((h) => h.payload.tenantId === 'acme' && h.payload.contextId === 'bcg')).toBe(true);
  });

  it('fuses hybrid rankings with ties exactly as reciprocalRankFusion fuses its own dense and sparse rankings', async () => {
    // 'clients' and 'information' each match several clauses equally: the sparse ranking has ties.
    const base = { ...acme, limit: hybridPrefetchLimit(6) };
    const sparse = encodeSparse('confidential information of clients');
    const fused = reciprocalRankFusion(
      [await qdrant.query(collection, { ...base, dense: probe }), await qdrant.query(collection, { ...base, sparse })],
      6,
      HYBRID_RRF_K,
    );
    const hybrid = await qdrant.query(collection, { ...acme, dense: probe, sparse, limit: 6 });
    expect(hybrid.map((h) => h.id)).toEqual(fused.map((h) => h.id));
    hybrid.forEach((hit, i) => expect(hit.score).toBeCloseTo(fused[i]?.score ?? NaN, 6));
  });

  it('scores a sparse query by dot product of the term weights and omits records without a shared term', async () => {
    const hits = await qdrant.query(collection, { ...acme, sparse: encodeSparse('securities'), limit: 10 });
    expect(hits.map((h) => [h.id, h.score])).toEqual([['insider', 1]]);
  });

  it('keeps tenants apart: equal ids are separate points, and queries see only their tenant and context', async () => {
    const dense = { dense: probe, limit: 50 };
    const acmeHits = await qdrant.query(collection, { ...acme, ...dense });
    const globexHits = await qdrant.query(collection, { tenantId: 'globex', contextId: 'bcg', ...dense });
    expect(acmeHits).toHaveLength(CLAUSES.length);
    expect(globexHits).toHaveLength(CLAUSES.length);
    expect(globexHits.every((h) => h.payload.tenantId === 'globex')).toBe(true);
    // Same ids, different vectors: the scores differ, so nothing was overwritten.
    const score = (hits: VectorHit[], id: string) => hits.find((h) => h.id === id)?.score;
    expect(score(acmeHits, 'gifts')).not.toBeCloseTo(score(globexHits, 'gifts') ?? NaN, 4);
    expect(await qdrant.query(collection, { tenantId: 'initech', contextId: 'bcg', ...dense })).toEqual([]);
  });

  it('deletes by ids and by scope only inside the given tenant and context', async () => {
    const all = { dense: probe, limit: 50 };
    const ids = async (tenantId: string, contextId: string) =>
      (await qdrant.query(collection, { tenantId, contextId, ...all })).map((h) => h.id).sort();

    await qdrant.delete(collection, { ...acme, ids: ['gifts', 'travel'] });
    await exact.delete(collection, { ...acme, ids: ['gifts', 'travel'] });
    expect(await ids('acme', 'bcg')).toEqual(
      CLAUSES.map(([id]) => id)
        .filter((id) => id !== 'gifts' && id !== 'travel')
        .sort(),
    );
    expect(await ids('globex', 'bcg')).toContain('gifts');
    expect(await ids('acme', 'privacy-policy')).toContain('travel');
    const hybrid: VectorQuery = { ...acme, dense: probe, sparse: encodeSparse('gifts travel approval'), limit: 5 };
    expectSameRanking(await qdrant.query(collection, hybrid), await exact.query(collection, hybrid));

    await qdrant.delete(collection, acme);
    expect(await ids('acme', 'bcg')).toEqual([]);
    expect(await ids('acme', 'privacy-policy')).toHaveLength(CLAUSES.length);
    expect(await ids('globex', 'bcg')).toHaveLength(CLAUSES.length);
  });

  it('re-throws Qdrant errors with the status and the server message', async () => {
    const missing = qdrant.query(uniqueName('missing'), { ...acme, dense: probe, limit: 1 });
    await expect(missing).rejects.toBeInstanceOf(QdrantError);
    await expect(missing).rejects.toMatchObject({ status: 404, message: expect.stringMatching(/HTTP 404.*doesn't exist/) });

    const wrongSize = qdrant.upsert(collection, [{ id: 'x', dense: [1, 2], payload: acme }]);
    await expect(wrongSize).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/HTTP 400/) });
  });
});
