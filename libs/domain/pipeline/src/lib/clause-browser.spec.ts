import { tenantId, tenantKey } from '@studio/ports';
import { browseClauses, clauseAnnotationsKey, clauseMatches } from './clause-browser';
import { fakeLlm, frameAndPublish, openHarness, TENANT, type Harness } from './fixtures.spec-helper';

describe('browsing clauses', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness(fakeLlm(() => 'unused'));
  });
  afterEach(async () => h.close());

  it('gives each current clause its citation, parent and statements with their kinds, and keeps them beside the document', async () => {
    const { framed } = await frameAndPublish(h);
    const { clauses, total } = await browseClauses(h, TENANT, 'acme-conduct', {});
    expect(total).toBe(framed.clauses.length);
    const byNumbering = new Map(clauses.map((c) => [c.numbering, c]));
    expect(byNumbering.get('1.1')?.citation).toMatch(/§\s?1\.1/);
    expect(byNumbering.get('1.1')?.statements.map((s) => s.kind)).toEqual(['prohibition']);
    expect(byNumbering.get('1.2')?.statements.map((s) => s.kind)).toContain('permission');
    expect(byNumbering.get('1.3')?.statements.map((s) => s.kind)).toContain('obligation');
    expect(byNumbering.get('1.1')?.title).toBe('Gifts');
    const key = tenantKey(TENANT, clauseAnnotationsKey(framed.document.id, framed.document.sha256));
    expect(await h.artifacts.exists(h.artifacts.localPath(key))).toBe(true);
    // Read back from the kept annotations: the same view.
    expect((await browseClauses(h, TENANT, 'acme-conduct', {})).clauses).toEqual(clauses);
  });

  it('searches by every term (word prefixes), numbering and statement kind; one document; not another tenant', async () => {
    const { framed } = await frameAndPublish(h);
    const numberings = async (q: string, documentId?: string) =>
      (await browseClauses(h, TENANT, 'acme-conduct', { q, documentId })).clauses.map((c) => c.numbering);
    expect(await numberings('cash supplier')).toEqual(['1.1']);
    expect(await numberings('SHARE confidential inform')).toEqual(['2.1']);
    expect(await numberings('2.2')).toEqual(['2.2']);
    expect(await numberings('prohibition')).toEqual(expect.arrayContaining(['1.1', '2.1']));
    expect(await numberings('nothing-like-this')).toEqual([]);
    expect((await numberings('', framed.document.id)).length).toBe(framed.clauses.length);
    expect((await numberings('', 'doc-other')).length).toBe(0);
    expect((await browseClauses(h, tenantId('other'), 'acme-conduct', {})).clauses).toEqual([]);
  });

  it('an empty query matches every clause', () => {
    const clause = {
      id: 'd:1:x',
      contextId: 'c',
      documentId: 'd',
      position: 0,
      numbering: '1',
      title: null,
      text: 'Rule.',
      citation: '§1',
      heading: null,
      kind: 'paragraph' as const,
      parentId: null,
      headingPath: [],
      statements: [],
    };
    expect(clauseMatches(clause, '  ')).toBe(true);
    expect(clauseMatches(clause, 'rul')).toBe(true);
    expect(clauseMatches(clause, 'rule other')).toBe(false);
  });
});
