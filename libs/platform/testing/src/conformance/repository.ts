import { z } from 'zod';
import { EntityValidationError, RepositoryQueryError, tenantId, type Entity, type EntitySpec, type Repository } from '@studio/ports';

/**
 * Makes a repository for a spec. Two calls with the same collection name must reach the same
 * stored data (one database per suite run); the suite picks collection names unique to each case.
 */
export type RepositoryFactory = <T extends Entity>(spec: EntitySpec<T>) => Promise<Repository<T>>;

export interface RepositoryUnderTest {
  repository: RepositoryFactory;
  /** Drops the suite's database. */
  dispose?: () => Promise<void>;
}

const Clause = z.object({
  id: z.string().min(1),
  documentId: z.string(),
  kind: z.enum(['obligation', 'prohibition', 'permission']),
  rank: z.number().int(),
  weight: z.number().nullable().optional(),
  reviewed: z.boolean(),
  code: z.union([z.string(), z.number()]).optional(),
  text: z.string(),
});
type Clause = z.infer<typeof Clause>;

const acme = tenantId('acme');
const globex = tenantId('globex');

function clause(id: string, overrides: Partial<Clause> = {}): Clause {
  return { id, documentId: 'doc-1', kind: 'obligation', rank: 1, reviewed: false, text: `clause ${id}`, ...overrides };
}

const ids = (entities: readonly Entity[]) => entities.map((e) => e.id);

/**
 * The Repository port's semantics, the same cases for every adapter: upsert/get/find/count/
 * delete, equality and `{ in }` filters with exact types, sort (asc, desc, several keys, id as
 * the tie-breaker), skip and limit, tenant scoping, validation on write and on read, unique
 * indexes per tenant, and upsertMany idempotence.
 */
export function describeRepositoryConformance(name: string, makeRepository: () => Promise<RepositoryUnderTest>): void {
  describe(`Repository conformance: ${name}`, () => {
    let subject: RepositoryUnderTest;
    let caseNo = 0;

    /** A collection of clauses of its own for each case. */
    async function clauses(extra: Partial<EntitySpec<Clause>> = {}): Promise<Repository<Clause>> {
      caseNo += 1;
      return subject.repository({ collection: `clauses_${caseNo}`, schema: Clause, ...extra });
    }

    beforeAll(async () => {
      subject = await makeRepository();
    });

    afterAll(async () => {
      await subject?.dispose?.();
    });

    it('upsert then get returns the entity as written; a missing id is null', async () => {
      const repo = await clauses();
      const written = clause('c-1', { weight: 0.5, code: 'A-1', reviewed: true });
      await repo.upsert(acme, written);
      expect(await repo.get(acme, 'c-1')).toEqual(written);
      expect(await repo.get(acme, 'missing')).toBeNull();
      expect(await repo.count(acme)).toBe(1);
      // Ids are opaque: a "/" or non-ASCII characters are part of the id.
      await repo.upsert(acme, clause('doc-1/c-2'));
      await repo.upsert(acme, clause('clause-ü'));
      expect((await repo.get(acme, 'doc-1/c-2'))?.id).toBe('doc-1/c-2');
      expect((await repo.get(acme, 'clause-ü'))?.id).toBe('clause-ü');
      expect(await repo.get(acme, 'doc-1')).toBeNull();
      expect(await repo.count(acme)).toBe(3);
    });

    it('upsert replaces by id: fields left out of the new version are gone', async () => {
      const repo = await clauses();
      await repo.upsert(acme, clause('c-1', { weight: 0.5, code: 7 }));
      await repo.upsert(acme, clause('c-1', { text: 'v2' }));
      expect(await repo.get(acme, 'c-1')).toEqual(clause('c-1', { text: 'v2' }));
      expect(await repo.count(acme)).toBe(1);
    });

    it('upsertMany is idempotent, and the last of two writes of one id in a batch wins', async () => {
      const repo = await clauses();
      const batch = [clause('a', { rank: 1 }), clause('b', { rank: 2 }), clause('c', { rank: 3 })];
      await repo.upsertMany(acme, batch);
      await repo.upsertMany(acme, batch);
      expect(await repo.count(acme)).toBe(3);
      expect(await repo.find(acme, {}, { sort: { rank: 1 } })).toEqual(batch);
      await repo.upsertMany(acme, [clause('a', { text: 'first' }), clause('a', { text: 'second' })]);
      expect((await repo.get(acme, 'a'))?.text).toBe('second');
      await repo.upsertMany(acme, []);
      expect(await repo.count(acme)).toBe(3);
    });

    it('filters by equality and { in }, ANDing fields, with exact types', async () => {
      const repo = await clauses();
      await repo.upsertMany(acme, [
        clause('a', { kind: 'obligation', rank: 1, code: '1' }),
        clause('b', { kind: 'prohibition', rank: 2, code: 1 }),
        clause('c', { kind: 'permission', rank: 3, reviewed: true }),
        clause('d', { kind: 'obligation', rank: 4, reviewed: true, documentId: 'doc-2' }),
      ]);
      expect(ids(await repo.find(acme, { kind: 'obligation' }))).toEqual(['a', 'd']);
      expect(ids(await repo.find(acme, { kind: 'obligation', documentId: 'doc-2' }))).toEqual(['d']);
      expect(ids(await repo.find(acme, { kind: { in: ['prohibition', 'permission'] } }))).toEqual(['b', 'c']);
      expect(ids(await repo.find(acme, { rank: { in: [1, 4] }, reviewed: true }))).toEqual(['d']);
      expect(await repo.find(acme, { kind: { in: [] } })).toEqual([]);
      expect(await repo.count(acme, { kind: { in: [] } })).toBe(0);
      expect(ids(await repo.find(acme, { reviewed: true }))).toEqual(['c', 'd']);
      expect(ids(await repo.find(acme, { reviewed: false }))).toEqual(['a', 'b']);
      // "1" is not 1.
      expect(ids(await repo.find(acme, { code: '1' }))).toEqual(['a']);
      expect(ids(await repo.find(acme, { code: 1 }))).toEqual(['b']);
      expect(ids(await repo.find(acme, { code: { in: [1, '1'] } }))).toEqual(['a', 'b']);
      expect(await repo.count(acme, { kind: 'obligation' })).toBe(2);
      expect(await repo.count(acme, { kind: { in: ['permission', 'prohibition'] } })).toBe(2);
      // An undefined value is ignored, as an absent key would be.
      expect(await repo.count(acme, { kind: undefined })).toBe(4);
    });

    it('matches null to a null or missing field', async () => {
      const repo = await clauses();
      await repo.upsertMany(acme, [clause('null', { weight: null }), clause('missing'), clause('set', { weight: 2 })]);
      expect(ids(await repo.find(acme, { weight: null }))).toEqual(['missing', 'null']);
      expect(ids(await repo.find(acme, { weight: { in: [null, 2] } }))).toEqual(['missing', 'null', 'set']);
    });

    it('sorts ascending and descending, by several keys, with the id as the final tie-breaker', async () => {
      const repo = await clauses();
      await repo.upsertMany(acme, [
        clause('e', { rank: 2, kind: 'permission' }),
        clause('b', { rank: 1, kind: 'prohibition' }),
        clause('d', { rank: 2, kind: 'obligation' }),
        clause('a', { rank: 3, kind: 'obligation' }),
        clause('c', { rank: 1, kind: 'obligation' }),
      ]);
      expect(ids(await repo.find(acme))).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(ids(await repo.find(acme, {}, { sort: { rank: 1 } }))).toEqual(['b', 'c', 'd', 'e', 'a']);
      expect(ids(await repo.find(acme, {}, { sort: { rank: -1 } }))).toEqual(['a', 'd', 'e', 'b', 'c']);
      expect(ids(await repo.find(acme, {}, { sort: { rank: -1, kind: 1 } }))).toEqual(['a', 'd', 'e', 'c', 'b']);
      expect(ids(await repo.find(acme, {}, { sort: { kind: 1, rank: -1 } }))).toEqual(['a', 'd', 'c', 'e', 'b']);
      expect(ids(await repo.find(acme, {}, { sort: { id: -1 } }))).toEqual(['e', 'd', 'c', 'b', 'a']);
    });

    it('sorts null and missing values first ascending and last descending, and strings by code point', async () => {
      const repo = await clauses();
      await repo.upsertMany(acme, [
        clause('w2', { weight: 2, text: 'a' }),
        clause('missing', { text: 'B' }),
        clause('w-1', { weight: -1.5, text: 'é' }),
        clause('null', { weight: null, text: 'Z' }),
        clause('w10', { weight: 10, text: 'b' }),
      ]);
      expect(ids(await repo.find(acme, {}, { sort: { weight: 1 } }))).toEqual(['missing', 'null', 'w-1', 'w2', 'w10']);
      expect(ids(await repo.find(acme, {}, { sort: { weight: -1 } }))).toEqual(['w10', 'w2', 'w-1', 'missing', 'null']);
      expect((await repo.find(acme, {}, { sort: { text: 1 } })).map((c) => c.text)).toEqual(['B', 'Z', 'a', 'b', 'é']);
    });

    it('pages with skip and limit after sorting; limit 0 returns nothing', async () => {
      const repo = await clauses();
      await repo.upsertMany(
        acme,
        [5, 3, 1, 4, 2].map((rank) => clause(`r${rank}`, { rank })),
      );
      expect(ids(await repo.find(acme, {}, { sort: { rank: -1 }, limit: 2 }))).toEqual(['r5', 'r4']);
      expect(ids(await repo.find(acme, {}, { sort: { rank: -1 }, skip: 2, limit: 2 }))).toEqual(['r3', 'r2']);
      expect(ids(await repo.find(acme, {}, { sort: { rank: 1 }, skip: 4 }))).toEqual(['r5']);
      expect(ids(await repo.find(acme, { rank: { in: [1, 2, 3] } }, { sort: { rank: -1 }, limit: 1 }))).toEqual(['r3']);
      expect(await repo.find(acme, {}, { limit: 0 })).toEqual([]);
      expect(await repo.find(acme, {}, { skip: 10 })).toEqual([]);
    });

    it('keeps tenants apart: the same id in two tenants, reads, counts, writes and deletes', async () => {
      const repo = await clauses();
      await repo.upsert(acme, clause('c-1', { text: 'acme text' }));
      await repo.upsert(globex, clause('c-1', { text: 'globex text', kind: 'prohibition' }));
      expect((await repo.get(acme, 'c-1'))?.text).toBe('acme text');
      expect((await repo.get(globex, 'c-1'))?.text).toBe('globex text');
      expect(await repo.find(acme, { kind: 'prohibition' })).toEqual([]);
      expect(await repo.count(acme)).toBe(1);

      await repo.upsert(acme, clause('c-1', { text: 'acme v2' }));
      await repo.upsertMany(acme, [clause('c-2')]);
      expect((await repo.get(globex, 'c-1'))?.text).toBe('globex text');
      expect(ids(await repo.find(globex))).toEqual(['c-1']);

      expect(await repo.delete(acme, 'c-1')).toBe(true);
      expect(await repo.get(globex, 'c-1')).not.toBeNull();
      expect(await repo.delete(globex, 'c-2')).toBe(false);
      expect(await repo.get(acme, 'c-2')).not.toBeNull();

      const initech = tenantId('initech');
      expect(await repo.get(initech, 'c-1')).toBeNull();
      expect(await repo.find(initech)).toEqual([]);
      expect(await repo.count(initech)).toBe(0);
    });

    it('gives a filter or a sort no way to name the tenant or the store key', async () => {
      const repo = await clauses();
      await repo.upsert(globex, clause('secret'));
      const asAny = repo as unknown as Repository<Clause & { tenantId: string; _id: string }>;
      await expect(asAny.find(acme, { tenantId: 'globex' })).rejects.toThrow(RepositoryQueryError);
      await expect(asAny.find(acme, { _id: 'globex/secret' })).rejects.toThrow(RepositoryQueryError);
      await expect(asAny.count(acme, { tenantId: 'globex' })).rejects.toThrow(RepositoryQueryError);
      await expect(asAny.find(acme, {}, { sort: { tenantId: 1 } })).rejects.toThrow(RepositoryQueryError);
    });

    it('rejects operators and values it cannot run the same way everywhere, naming the field', async () => {
      const repo = await clauses();
      const loose = repo as unknown as Repository<Entity & Record<string, unknown>>;
      await expect(loose.find(acme, { rank: { $gt: 1 } })).rejects.toThrow(/"rank"/);
      await expect(loose.find(acme, { rank: { in: [{ $gt: 1 }] } })).rejects.toThrow(RepositoryQueryError);
      await expect(loose.find(acme, { 'a.b': 1 })).rejects.toThrow(RepositoryQueryError);
      await expect(loose.find(acme, { rank: Number.NaN })).rejects.toThrow(RepositoryQueryError);
      await expect(loose.find(acme, {}, { sort: { rank: 2 as 1 } })).rejects.toThrow(RepositoryQueryError);
      await expect(loose.find(acme, {}, { limit: -1 })).rejects.toThrow(RepositoryQueryError);
    });

    it('validates on write: an invalid entity is refused with its field, and an invalid one in a batch writes nothing', async () => {
      const repo = await clauses();
      const bad = { ...clause('bad'), kind: 'suggestion' } as unknown as Clause;
      await expect(repo.upsert(acme, bad)).rejects.toThrow(EntityValidationError);
      await expect(repo.upsert(acme, bad)).rejects.toThrow(/kind/);
      await expect(repo.upsertMany(acme, [clause('ok-1'), bad, clause('ok-2')])).rejects.toThrow(EntityValidationError);
      await expect(repo.upsert(acme, { ...clause('dated'), text: new Date() } as unknown as Clause)).rejects.toThrow(EntityValidationError);
      expect(await repo.count(acme)).toBe(0);
    });

    it('refuses an entity that carries another tenant than the one it is written for', async () => {
      const Owned = z.object({ id: z.string(), tenantId: z.string(), name: z.string() });
      caseNo += 1;
      const repo = await subject.repository({ collection: `owned_${caseNo}`, schema: Owned });
      await expect(repo.upsert(acme, { id: 'x', tenantId: 'globex', name: 'n' })).rejects.toThrow(EntityValidationError);
      await repo.upsert(acme, { id: 'x', tenantId: 'acme', name: 'n' });
      expect(await repo.get(acme, 'x')).toEqual({ id: 'x', tenantId: 'acme', name: 'n' });
      expect(await repo.get(globex, 'x')).toBeNull();
    });

    it('validates on read: a stored document that no longer matches the schema fails loudly', async () => {
      const loose = await clauses();
      const Strict = Clause.extend({ summary: z.string() });
      const strict = await subject.repository({ collection: `clauses_${caseNo}`, schema: Strict });
      await loose.upsert(acme, clause('old'));
      await expect(strict.get(acme, 'old')).rejects.toThrow(EntityValidationError);
      await expect(strict.find(acme)).rejects.toThrow(/summary/);
    });

    it('strips unknown fields and applies schema defaults on write', async () => {
      const WithDefault = z.object({ id: z.string(), status: z.string().default('draft') });
      caseNo += 1;
      const repo = await subject.repository({ collection: `defaults_${caseNo}`, schema: WithDefault });
      await repo.upsert(acme, { id: 'x', extra: 'dropped' } as unknown as z.infer<typeof WithDefault>);
      expect(await repo.get(acme, 'x')).toEqual({ id: 'x', status: 'draft' });
      expect(await repo.count(acme, { status: 'draft' })).toBe(1);
    });

    it('enforces a unique index per tenant', async () => {
      const repo = await clauses({ indexes: [{ fields: { documentId: 1, rank: 1 }, unique: true }] });
      await repo.upsert(acme, clause('a', { documentId: 'd', rank: 1 }));
      await expect(repo.upsert(acme, clause('b', { documentId: 'd', rank: 1 }))).rejects.toThrow();
      // Another tenant may hold the same values; the same id may be rewritten.
      await repo.upsert(globex, clause('b', { documentId: 'd', rank: 1 }));
      await repo.upsert(acme, clause('a', { documentId: 'd', rank: 1, text: 'v2' }));
      expect(ids(await repo.find(acme))).toEqual(['a']);
    });

    it('delete removes by id, returns whether something was deleted, and leaves the rest', async () => {
      const repo = await clauses();
      await repo.upsertMany(acme, [clause('a'), clause('b')]);
      expect(await repo.delete(acme, 'a')).toBe(true);
      expect(await repo.delete(acme, 'a')).toBe(false);
      expect(await repo.delete(acme, 'never')).toBe(false);
      expect(await repo.get(acme, 'a')).toBeNull();
      expect(ids(await repo.find(acme))).toEqual(['b']);
      await repo.upsert(acme, clause('a'));
      expect(await repo.count(acme)).toBe(2);
    });
  });
}
