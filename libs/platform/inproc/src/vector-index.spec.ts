import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeSparse, type VectorPayload, type VectorRecord } from '@studio/ports';
import { ExactVectorIndex } from './vector-index';

const C = 'clauses';

function record(id: string, dense: number[], text: string, payload: Partial<VectorPayload> = {}): VectorRecord {
  return { id, dense, sparse: encodeSparse(text), payload: { tenantId: 'acme', contextId: 'bcg', ...payload } };
}

const records: VectorRecord[] = [
  record('gifts', [1, 0, 0], 'Employees must not accept gifts from suppliers', { kind: 'prohibition', section: 2 }),
  record('gifts-value', [0.9, 0.1, 0], 'Gifts of nominal value may be accepted', { kind: 'permission', section: 2 }),
  record('secrets', [0, 1, 0], 'Confidential information must be protected', { kind: 'obligation', tags: ['security', 'data'] }),
  record('travel', [0, 0, 1], 'Travel expenses require approval', { kind: 'obligation', tags: ['finance'] }),
  { id: 'dense-only', dense: [0.7, 0.7, 0], payload: { tenantId: 'acme', contextId: 'bcg', kind: 'definition' } },
];

async function seeded(index = new ExactVectorIndex()) {
  await index.ensureCollection({ name: C, denseSize: 3 });
  await index.upsert(C, records);
  return index;
}

const scope = { tenantId: 'acme', contextId: 'bcg' };

describe('ExactVectorIndex', () => {
  it('ranks dense queries by cosine similarity', async () => {
    const index = await seeded();
    const hits = await index.query(C, { ...scope, dense: [1, 0.1, 0], limit: 3 });
    expect(hits.map((h) => h.id)).toEqual(['gifts-value', 'gifts', 'dense-only']);
    expect(hits[1]?.score).toBeCloseTo(1 / Math.sqrt(1.01));
    expect(hits[0]?.payload).toEqual({ tenantId: 'acme', contextId: 'bcg', kind: 'permission', section: 2 });
  });

  it('ranks sparse queries by dot product and leaves out records without a shared term', async () => {
    const index = await seeded();
    const hits = await index.query(C, { ...scope, sparse: encodeSparse('accept gifts suppliers'), limit: 10 });
    expect(hits.map((h) => [h.id, h.score])).toEqual([
      ['gifts', 3],
      ['gifts-value', 1],
    ]);
  });

  it('fuses dense and sparse rankings by reciprocal rank fusion for hybrid queries', async () => {
    const index = await seeded();
    // dense ranking: secrets, dense-only, gifts-value, gifts, travel; sparse ranking: travel, secrets
    const hits = await index.query(C, {
      ...scope,
      dense: [0.1, 1, 0],
      sparse: encodeSparse('travel approval, confidential'),
      limit: 3,
    });
    expect(hits.map((h) => h.id)).toEqual(['secrets', 'travel', 'dense-only']);
    expect(hits[0]?.score).toBeCloseTo(1 / 61 + 1 / 62);
    expect(hits[1]?.score).toBeCloseTo(1 / 65 + 1 / 61);
    expect(hits[2]?.score).toBeCloseTo(1 / 62);
  });

  it('ANDs equality and "any" filters, matching array payloads by element', async () => {
    const index = await seeded();
    const dense = [1, 1, 1];
    const ids = async (filter: Record<string, string | number | { any: (string | number)[] }>) =>
      (await index.query(C, { ...scope, dense, filter, limit: 10 })).map((h) => h.id).sort();
    expect(await ids({ kind: 'obligation' })).toEqual(['secrets', 'travel']);
    expect(await ids({ kind: 'obligation', tags: 'data' })).toEqual(['secrets']);
    expect(await ids({ kind: { any: ['permission', 'prohibition'] } })).toEqual(['gifts', 'gifts-value']);
    expect(await ids({ tags: { any: ['finance', 'nothing'] } })).toEqual(['travel']);
    expect(await ids({ section: 2, kind: 'permission' })).toEqual(['gifts-value']);
    expect(await ids({ section: '2' })).toEqual([]);
    expect(await ids({ missing: 'x' })).toEqual([]);
  });

  it('keeps tenants and contexts apart, even for equal ids', async () => {
    const index = await seeded();
    await index.upsert(C, [record('gifts', [1, 0, 0], 'gifts', { tenantId: 'globex' })]);
    await index.upsert(C, [record('gifts', [1, 0, 0], 'gifts', { contextId: 'other' })]);

    const acme = await index.query(C, { ...scope, dense: [1, 0, 0], limit: 10 });
    expect(acme).toHaveLength(records.length);
    expect(acme.every((h) => h.payload.tenantId === 'acme' && h.payload.contextId === 'bcg')).toBe(true);
    expect(acme.find((h) => h.id === 'gifts')?.payload['kind']).toBe('prohibition');

    const globex = await index.query(C, { tenantId: 'globex', contextId: 'bcg', sparse: encodeSparse('gifts'), limit: 10 });
    expect(globex.map((h) => [h.id, h.payload.tenantId])).toEqual([['gifts', 'globex']]);
    expect(await index.query(C, { tenantId: 'nobody', contextId: 'bcg', dense: [1, 0, 0], limit: 10 })).toEqual([]);
  });

  it('replaces a record on upsert with the same id', async () => {
    const index = await seeded();
    await index.upsert(C, [record('travel', [1, 0, 0], 'travel', { kind: 'changed' })]);
    const hits = await index.query(C, { ...scope, dense: [1, 0, 0], filter: { kind: 'changed' }, limit: 10 });
    expect(hits.map((h) => [h.id, h.score])).toEqual([['travel', 1]]);
    expect(await index.query(C, { ...scope, dense: [1, 0, 0], limit: 10 })).toHaveLength(records.length);
  });

  it('deletes by ids or the whole context, only inside the given tenant and context', async () => {
    const index = await seeded();
    await index.upsert(C, [record('gifts', [1, 0, 0], 'gifts', { tenantId: 'globex' })]);
    await index.delete(C, { ...scope, ids: ['gifts', 'travel'] });
    const left = (await index.query(C, { ...scope, dense: [1, 0, 0], limit: 10 })).map((h) => h.id).sort();
    expect(left).toEqual(['dense-only', 'gifts-value', 'secrets']);

    await index.delete(C, scope);
    expect(await index.query(C, { ...scope, dense: [1, 0, 0], limit: 10 })).toEqual([]);
    expect(await index.query(C, { tenantId: 'globex', contextId: 'bcg', dense: [1, 0, 0], limit: 10 })).toHaveLength(1);
  });

  it('is idempotent on ensureCollection and names a dense size mismatch', async () => {
    const index = await seeded();
    await index.ensureCollection({ name: C, denseSize: 3 });
    expect(await index.query(C, { ...scope, dense: [1, 0, 0], limit: 10 })).toHaveLength(records.length);
    await expect(index.ensureCollection({ name: C, denseSize: 4 })).rejects.toThrow('collection "clauses" exists with dense size 3, not 4');
  });

  it('rejects bad input with the reason', async () => {
    const index = await seeded();
    await expect(index.upsert(C, [record('x', [1, 0], 'x')])).rejects.toThrow(/"x".*2 dimensions, the collection 3/);
    await expect(index.query(C, { ...scope, limit: 3 })).rejects.toThrow(/dense vector, a sparse vector or both/);
    await expect(index.query(C, { ...scope, dense: [1], limit: 3 })).rejects.toThrow(/1 dimensions/);
    await expect(index.query('nope', { ...scope, dense: [1, 0, 0], limit: 3 })).rejects.toThrow('collection "nope" does not exist');
  });

  describe('with a data folder', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'vector-index-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('persists collections and finds them again in a new instance', async () => {
      const first = await seeded(new ExactVectorIndex({ dataDir: dir }));
      await first.delete(C, { ...scope, ids: ['travel'] });
      const saved = JSON.parse(await readFile(join(dir, 'vector-index', `${C}.json`), 'utf8')) as { records: unknown[] };
      expect(saved.records).toHaveLength(records.length - 1);

      const second = new ExactVectorIndex({ dataDir: dir });
      const query = { ...scope, dense: [0.1, 1, 0], sparse: encodeSparse('gifts confidential'), limit: 4 };
      expect(await second.query(C, query)).toEqual(await first.query(C, query));
      await expect(second.ensureCollection({ name: C, denseSize: 8 })).rejects.toThrow(/dense size 3, not 8/);
    });
  });
});
