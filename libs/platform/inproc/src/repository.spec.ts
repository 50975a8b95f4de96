import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { EntityValidationError, RepositoryQueryError, tenantId } from '@studio/ports';
import type { SqliteRepository } from './repository';
import { SqliteStore } from './sqlite-store';

const Clause = z.object({
  id: z.string().min(1),
  kind: z.enum(['obligation', 'prohibition', 'permission']),
  rank: z.number().int(),
  text: z.string(),
  reviewed: z.boolean().default(false),
  section: z.string().nullable().default(null),
});
type Clause = z.infer<typeof Clause>;

const acme = tenantId('acme');
const globex = tenantId('globex');

function clause(id: string, rank: number, kind: Clause['kind'] = 'obligation', extra: Partial<Clause> = {}): Clause {
  return { id, kind, rank, text: `clause ${id}`, reviewed: false, section: null, ...extra };
}

describe('SqliteRepository', () => {
  let dir: string;
  let store: SqliteStore;
  let clauses: SqliteRepository<Clause>;
  const ids = (rows: Clause[]) => rows.map((r) => r.id);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'studio-sqlite-'));
    store = SqliteStore.open(dir, 'framer');
    clauses = store.repository({ collection: 'clauses', schema: Clause, indexes: [{ fields: { kind: 1, rank: -1 } }] });
  });

  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps tenants apart even when they use the same entity id', async () => {
    await clauses.upsert(acme, clause('c-1', 1, 'obligation', { text: 'acme' }));
    await clauses.upsert(globex, clause('c-1', 1, 'prohibition', { text: 'globex' }));
    expect((await clauses.get(acme, 'c-1'))?.text).toBe('acme');
    expect((await clauses.get(globex, 'c-1'))?.text).toBe('globex');
    expect(await clauses.count(acme)).toBe(1);
    expect(await clauses.find(acme, { kind: 'prohibition' })).toEqual([]);
    await clauses.upsert(acme, clause('c-1', 2, 'obligation', { text: 'acme v2' }));
    expect((await clauses.get(globex, 'c-1'))?.text).toBe('globex');
    expect(await clauses.delete(acme, 'c-1')).toBe(true);
    expect(await clauses.delete(acme, 'c-1')).toBe(false);
    expect(await clauses.get(globex, 'c-1')).toEqual(clause('c-1', 1, 'prohibition', { text: 'globex' }));
  });

  it('upsert is an idempotent replace, and data survives reopening the file', async () => {
    await clauses.upsert(acme, clause('same', 1));
    await clauses.upsertMany(acme, [clause('same', 1), clause('same', 1)]);
    expect(await clauses.count(acme)).toBe(1);
    await clauses.upsert(acme, clause('same', 5, 'permission'));
    store.close();
    store = SqliteStore.open(dir, 'framer');
    clauses = store.repository({ collection: 'clauses', schema: Clause });
    expect(await clauses.find(acme)).toEqual([clause('same', 5, 'permission')]);
    expect(store.path).toBe(join(dir, 'framer.sqlite'));
  });

  it('finds with filter, sort, skip and limit like the Mongo repository', async () => {
    await clauses.upsertMany(acme, [
      clause('a', 3, 'obligation', { reviewed: true, section: '1' }),
      clause('b', 1, 'prohibition'),
      clause('c', 2, 'obligation', { section: '2' }),
      clause('d', 2, 'permission', { reviewed: true }),
      clause('e', 5, 'obligation'),
    ]);
    await clauses.upsert(globex, clause('z', 0));
    expect(ids(await clauses.find(acme, { kind: 'obligation' }, { sort: { rank: 1 } }))).toEqual(['c', 'a', 'e']);
    expect(ids(await clauses.find(acme, { kind: { in: ['prohibition', 'permission'] } }, { sort: { rank: -1 } }))).toEqual(['d', 'b']);
    expect(ids(await clauses.find(acme, {}, { sort: { rank: -1 }, skip: 1, limit: 2 }))).toEqual(['a', 'c']);
    expect(ids(await clauses.find(acme, {}, { sort: { rank: 1 }, limit: 3 }))).toEqual(['b', 'c', 'd']);
    expect(ids(await clauses.find(acme, {}, { sort: { id: -1 }, limit: 2 }))).toEqual(['e', 'd']);
    expect(await clauses.find(acme, {}, { limit: 0 })).toEqual([]);
    expect(ids(await clauses.find(acme, { reviewed: true }))).toEqual(['a', 'd']);
    expect(ids(await clauses.find(acme, { section: null }))).toEqual(['b', 'd', 'e']);
    expect(ids(await clauses.find(acme, { section: { in: ['2', null] } }))).toEqual(['b', 'c', 'd', 'e']);
    expect(await clauses.find(acme, { kind: { in: [] } })).toEqual([]);
    // Type-exact equality: the string "2" is not the number 2.
    expect(await clauses.count(acme, { rank: '2' as unknown as number })).toBe(0);
    expect(await clauses.count(acme, { kind: 'obligation', rank: { in: [2, 3] } })).toBe(2);
  });

  it('rejects filters it cannot run, naming collection and field', async () => {
    await expect(clauses.find(acme, { tenantId: 'globex' } as never)).rejects.toThrow(RepositoryQueryError);
    await expect(clauses.find(acme, { "kind') OR 1=1 --": 'x' } as never)).rejects.toThrow(/collection "clauses": cannot filter on field/);
  });

  it('validates what it writes and what it reads back', async () => {
    const bad = { ...clause('bad', 1), kind: 'wish' } as unknown as Clause;
    await expect(clauses.upsert(acme, bad)).rejects.toThrow(EntityValidationError);
    await expect(clauses.upsertMany(acme, [clause('ok', 1), bad])).rejects.toThrow(
      /collection "clauses": refusing to write "bad": field "kind"/,
    );
    expect(await clauses.get(acme, 'ok')).toBeNull();
    store.db
      .prepare('INSERT INTO clauses (tenant_id, id, doc) VALUES (?, ?, ?)')
      .run('acme', 'legacy', JSON.stringify({ id: 'legacy', kind: 'obligation', rank: 'high', text: 't' }));
    await expect(clauses.get(acme, 'legacy')).rejects.toThrow(
      /collection "clauses": stored document does not match the schema "legacy": field "rank"/,
    );
  });

  it('enforces unique indexes per tenant', async () => {
    const Doc = z.object({ id: z.string(), slug: z.string() });
    const docs = store.repository({ collection: 'docs', schema: Doc, indexes: [{ fields: { slug: 1 }, unique: true }] });
    await docs.upsert(acme, { id: '1', slug: 'policy' });
    await docs.upsert(globex, { id: '1', slug: 'policy' });
    await expect(docs.upsert(acme, { id: '2', slug: 'policy' })).rejects.toThrow(/UNIQUE/);
  });
});
