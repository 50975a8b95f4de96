import { z } from 'zod';
import { EntityValidationError, tenantId } from '@studio/ports';
import { describeWithServers, uniqueName } from '@studio/testing';
import { connectMongo, type MongoDatabase } from './connection';
import type { MongoRepository } from './mongo-repository';

const Clause = z.object({
  id: z.string().min(1),
  documentId: z.string(),
  kind: z.enum(['obligation', 'prohibition', 'permission']),
  rank: z.number().int(),
  text: z.string(),
});
type Clause = z.infer<typeof Clause>;

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const acme = tenantId('acme');
const globex = tenantId('globex');

function clause(id: string, rank: number, kind: Clause['kind'] = 'obligation', text = `clause ${id}`): Clause {
  return { id, documentId: 'doc-1', kind, rank, text };
}

describeWithServers(['MONGO_URL'], 'MongoRepository on a real MongoDB-compatible server', ({ MONGO_URL }) => {
  let db: MongoDatabase;
  let clauses: MongoRepository<Clause>;

  beforeAll(async () => {
    db = await connectMongo(MONGO_URL, uniqueName('repo').replace(/[^A-Za-z0-9_-]/g, '_'), silent);
    clauses = db.repository({ collection: 'clauses', schema: Clause, indexes: [{ fields: { documentId: 1, rank: 1 } }] });
    await clauses.ensureIndexes();
  });

  afterAll(async () => {
    await db?.connection.dropDatabase().catch(() => undefined);
    await db?.close();
  });

  it('keeps tenants apart even when they use the same entity id', async () => {
    await clauses.upsert(acme, clause('c-1', 1, 'obligation', 'acme text'));
    await clauses.upsert(globex, clause('c-1', 1, 'prohibition', 'globex text'));

    expect(await clauses.get(acme, 'c-1')).toEqual(clause('c-1', 1, 'obligation', 'acme text'));
    expect(await clauses.get(globex, 'c-1')).toEqual(clause('c-1', 1, 'prohibition', 'globex text'));
    expect(await clauses.count(acme)).toBe(1);
    expect(await clauses.find(acme, { kind: 'prohibition' })).toEqual([]);

    // A write by acme replaces acme's document only.
    await clauses.upsert(acme, clause('c-1', 2, 'obligation', 'acme v2'));
    expect((await clauses.get(globex, 'c-1'))?.text).toBe('globex text');

    // acme deleting "c-1" removes acme's, never globex's.
    expect(await clauses.delete(acme, 'c-1')).toBe(true);
    expect(await clauses.delete(acme, 'c-1')).toBe(false);
    expect(await clauses.get(acme, 'c-1')).toBeNull();
    expect(await clauses.get(globex, 'c-1')).toEqual(clause('c-1', 1, 'prohibition', 'globex text'));

    // A tenant that never wrote anything sees nothing.
    const initech = tenantId('initech');
    expect(await clauses.get(initech, 'c-1')).toBeNull();
    expect(await clauses.count(initech)).toBe(0);
    expect(await clauses.delete(initech, 'c-1')).toBe(false);
    expect(await clauses.count(globex)).toBe(1);
    await clauses.delete(globex, 'c-1');
  });

  it('stores a composite _id and the tenant, and returns the entity id as id', async () => {
    await clauses.upsert(acme, clause('shape', 1));
    const raw = await db.connection.collection('clauses').findOne({ tenantId: 'acme', id: 'shape' });
    expect(raw).toMatchObject({ _id: 'acme/shape', tenantId: 'acme', id: 'shape' });
    await clauses.delete(acme, 'shape');
  });

  it('upsert is an idempotent replace', async () => {
    const t = tenantId(uniqueName('t'));
    await clauses.upsert(t, clause('same', 1));
    await clauses.upsert(t, clause('same', 1));
    await clauses.upsertMany(t, [clause('same', 1), clause('same', 1)]);
    expect(await clauses.count(t)).toBe(1);
    await clauses.upsert(t, clause('same', 5, 'permission', 'replaced'));
    expect(await clauses.find(t)).toEqual([clause('same', 5, 'permission', 'replaced')]);
  });

  it('finds with filter, sort, skip and limit', async () => {
    const t = tenantId(uniqueName('t'));
    await clauses.upsertMany(t, [
      clause('a', 3, 'obligation'),
      clause('b', 1, 'prohibition'),
      clause('c', 2, 'obligation'),
      clause('d', 2, 'permission'),
      clause('e', 5, 'obligation'),
    ]);
    await clauses.upsert(globex, clause('z', 0, 'obligation'));

    const ids = (rows: Clause[]) => rows.map((r) => r.id);
    expect(ids(await clauses.find(t, { kind: 'obligation' }, { sort: { rank: 1 } }))).toEqual(['c', 'a', 'e']);
    expect(ids(await clauses.find(t, { kind: { in: ['prohibition', 'permission'] } }, { sort: { rank: -1 } }))).toEqual(['d', 'b']);
    expect(ids(await clauses.find(t, {}, { sort: { rank: -1 }, skip: 1, limit: 2 }))).toEqual(['a', 'c']);
    expect(ids(await clauses.find(t, {}, { sort: { rank: 1 }, limit: 3 }))).toEqual(['b', 'c', 'd']);
    expect(await clauses.find(t, {}, { limit: 0 })).toEqual([]);
    expect(await clauses.count(t, { kind: 'obligation', rank: { in: [2, 3] } })).toBe(2);
    await clauses.delete(globex, 'z');
  });

  it('matches null, booleans and types exactly as the embedded store does', async () => {
    const Row = z.object({ id: z.string(), flag: z.boolean(), section: z.string().nullable(), n: z.union([z.number(), z.string()]) });
    const rows = db.repository({ collection: 'rows', schema: Row });
    const t = tenantId(uniqueName('t'));
    await rows.upsertMany(t, [
      { id: 'a', flag: true, section: '1', n: 2 },
      { id: 'b', flag: false, section: null, n: '2' },
      { id: 'c', flag: true, section: '2', n: 3 },
    ]);
    const ids = (found: { id: string }[]) => found.map((r) => r.id);
    expect(ids(await rows.find(t, { flag: true }))).toEqual(['a', 'c']);
    expect(ids(await rows.find(t, { section: null }))).toEqual(['b']);
    expect(ids(await rows.find(t, { section: { in: ['2', null] } }))).toEqual(['b', 'c']);
    expect(ids(await rows.find(t, { n: 2 }))).toEqual(['a']);
    expect(ids(await rows.find(t, { n: '2' }))).toEqual(['b']);
    expect(await rows.find(t, { n: { in: [] } })).toEqual([]);
  });

  it('enforces unique indexes per tenant', async () => {
    const Doc = z.object({ id: z.string(), slug: z.string() });
    const docs = db.repository({ collection: 'docs', schema: Doc, indexes: [{ fields: { slug: 1 }, unique: true }] });
    await docs.ensureIndexes();
    await docs.upsert(acme, { id: '1', slug: 'policy' });
    await docs.upsert(globex, { id: '1', slug: 'policy' });
    await expect(docs.upsert(acme, { id: '2', slug: 'policy' })).rejects.toThrow(/duplicate key/i);
  });

  it('validates what it writes and what it reads back', async () => {
    const bad = { ...clause('bad', 1), kind: 'wish' } as unknown as Clause;
    await expect(clauses.upsert(acme, bad)).rejects.toThrow(EntityValidationError);
    await expect(clauses.upsertMany(acme, [clause('ok', 1), bad])).rejects.toThrow(
      /collection "clauses": refusing to write "bad": field "kind"/,
    );
    expect(await clauses.get(acme, 'ok')).toBeNull();

    await db.connection.collection('clauses').insertOne({
      _id: 'acme/legacy' as never,
      tenantId: 'acme',
      id: 'legacy',
      documentId: 'doc-1',
      kind: 'obligation',
      rank: 'high',
      text: 't',
    });
    await expect(clauses.get(acme, 'legacy')).rejects.toThrow(
      /collection "clauses": stored document does not match the schema "legacy": field "rank"/,
    );
  });
});

/**
 * FerretDB v1 on SQLite locked a database for good when one update command matched 100 or more
 * stored documents (each matching statement kept a pooled connection until the command ended; the
 * pool holds 100), and looked every `_id` up by scanning the table. deploy/local builds FerretDB
 * with both fixed (deploy/local/ferretdb/patches); the repository looks entities up by key alone.
 */
describeWithServers(['MONGO_URL'], 'MongoRepository bulk upserts beside concurrent reads', ({ MONGO_URL }) => {
  const COUNT = 230; // clauses of a large policy
  let db: MongoDatabase;
  let clauses: MongoRepository<Clause>;

  beforeAll(async () => {
    db = await connectMongo(MONGO_URL, uniqueName('bulk').replace(/[^A-Za-z0-9_-]/g, '_'), silent, { socketTimeoutMs: 20_000 });
    clauses = db.repository({ collection: 'clauses', schema: Clause, indexes: [{ fields: { documentId: 1, rank: 1 } }] });
    await clauses.ensureIndexes();
  });

  afterAll(async () => {
    await db?.connection.dropDatabase().catch(() => undefined);
    await db?.close();
  });

  const batch = (version: string) =>
    Array.from({ length: COUNT }, (_, i) => clause(`bulk-${i}`, i, 'obligation', `${version} clause ${i}: `.padEnd(1_000, 'lorem ipsum ')));

  it(`re-upserts ${COUNT} stored ~1 KB documents in one call while every read of the database answers within 1 s`, async () => {
    await clauses.upsertMany(acme, batch('v1'));

    let writing = true;
    const latencies: number[] = [];
    const reader = (async () => {
      while (writing) {
        const started = performance.now();
        await clauses.get(acme, 'bulk-0');
        latencies.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const started = performance.now();
    try {
      await clauses.upsertMany(acme, batch('v2')); // every statement matches a stored document
    } finally {
      writing = false;
      await reader;
    }
    const upsertMs = performance.now() - started;
    const slowest = Math.max(...latencies);
    process.stdout.write(
      `[bulk upsert] ${COUNT} matching upserts in ${upsertMs.toFixed(0)} ms; ${latencies.length} reads, slowest ${slowest.toFixed(0)} ms\n`,
    );

    expect(slowest).toBeLessThan(1_000);
    expect(await clauses.count(acme)).toBe(COUNT);
    expect((await clauses.get(acme, `bulk-${COUNT - 1}`))?.text).toMatch(/^v2 clause/);
  });

  it('reads and writes one entity by its key alone (FerretDB answers that from its _id index)', async () => {
    const filters: unknown[] = [];
    db.connection.set('debug', (_collection: string, method: string, ...args: unknown[]) => {
      if (method === 'findOne' || method === 'deleteOne') filters.push(args[0]);
      if (method === 'bulkWrite') for (const op of args[0] as { replaceOne: { filter: unknown } }[]) filters.push(op.replaceOne.filter);
    });
    try {
      await clauses.upsertMany(globex, [clause('key-1', 1)]);
      await clauses.get(globex, 'key-1');
      await clauses.delete(globex, 'key-1');
    } finally {
      db.connection.set('debug', false);
    }
    expect(filters).toEqual([{ _id: 'globex/key-1' }, { _id: 'globex/key-1' }, { _id: 'globex/key-1' }]);

    const native = db.connection.db;
    if (!native) throw new Error('not connected');
    const buildInfo = await native.admin().command({ buildInfo: 1 });
    if (buildInfo['ferretdbVersion'] !== undefined) {
      const plan = await native
        .collection('clauses')
        .find({ _id: 'acme/bulk-0' } as never)
        .explain();
      expect(JSON.stringify(plan['queryPlanner'])).toMatch(/USING INDEX \S+__id_/);
      // String equalities are checked by SQLite too, rather than by decoding every document.
      const byField = await native
        .collection('clauses')
        .find({ documentId: { $eq: 'doc-1' }, tenantId: 'acme' } as never)
        .explain();
      expect(byField['filterPushdown']).toBe(true);
    }
  });
});
