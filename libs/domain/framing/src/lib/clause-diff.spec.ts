import { describeClauseDiff, diffClauses, wordSimilarity, type DiffableClause } from './clause-diff';
import { parseDocument } from './parse';

const c = (numbering: string, text: string): DiffableClause => ({ numbering, text });
const kinds = (d: ReturnType<typeof diffClauses>) =>
  d.entries.map((e) => `${e.type}:${'from' in e ? e.from.numbering : '-'}>${'to' in e ? e.to.numbering : '-'}`);

const A = 'Employees must report gifts worth more than $100 to their manager.';
const B = 'Employees must not accept cash or cash equivalents from suppliers.';
const C = 'Managers may approve exceptions in writing.';
const D = 'Records are kept for seven years after the end of the contract.';

describe('diffClauses', () => {
  it('finds nothing in two identical versions', () => {
    const v = [c('1', A), c('2', B), c('3', C)];
    const d = diffClauses(v, v);
    expect(d.summary).toEqual({ unchanged: 3, moved: 0, changed: 0, added: 0, removed: 0 });
    expect(kinds(d)).toEqual(['unchanged:1>1', 'unchanged:2>2', 'unchanged:3>3']);
  });

  it('takes re-wrapping, emphasis and typographic quotes as no change', () => {
    const d = diffClauses(
      [c('1', "Employees must  report the supplier's gift.")],
      [c('1', 'Employees **must** report the supplier’s gift.')],
    );
    expect(d.summary.unchanged).toBe(1);
  });

  it('reports an edited clause under the same number as changed, with its similarity', () => {
    const edited = A.replace('$100', '$50');
    const d = diffClauses([c('1', A), c('2', B)], [c('1', edited), c('2', B)]);
    expect(d.summary).toMatchObject({ changed: 1, unchanged: 1 });
    const e = d.entries[0];
    expect(e?.type).toBe('changed');
    if (e?.type !== 'changed') throw new Error('unreachable');
    expect(e.matchedBy).toBe('numbering');
    expect(e.from.text).toBe(A);
    expect(e.to.text).toBe(edited);
    expect(e.similarity).toBeGreaterThan(0.8);
    expect(e.similarity).toBeLessThan(1);
  });

  it('does not take a renumbering alone as a change: an inserted clause shifts the rest, which are moved', () => {
    const before = [c('(a)', A), c('(b)', B), c('(c)', C)];
    const after = [c('(a)', A), c('(b)', D), c('(c)', B), c('(d)', C)];
    const d = diffClauses(before, after);
    expect(d.summary).toEqual({ unchanged: 1, moved: 2, changed: 0, added: 1, removed: 0 });
    expect(kinds(d)).toEqual(['unchanged:(a)>(a)', 'added:->(b)', 'moved:(b)>(c)', 'moved:(c)>(d)']);
  });

  it('matches a clause renumbered and edited by content, not the unrelated clause that took its number', () => {
    const before = [c('1', A), c('2', B), c('3', C)];
    const after = [c('1', A), c('2', D), c('3', B.replace('suppliers', 'suppliers or customers')), c('4', C)];
    const d = diffClauses(before, after);
    expect(kinds(d)).toEqual(['unchanged:1>1', 'added:->2', 'changed:2>3', 'moved:3>4']);
    const changed = d.entries.find((e) => e.type === 'changed');
    expect(changed?.type === 'changed' && changed.matchedBy).toBe('content');
  });

  it('reports a deleted clause as removed, in its old place, and the clauses after it as moved', () => {
    const before = [c('1', A), c('2', B), c('3', C)];
    const after = [c('1', A), c('2', C)];
    const d = diffClauses(before, after);
    expect(kinds(d)).toEqual(['unchanged:1>1', 'removed:2>-', 'moved:3>2']);
  });

  it('keeps a rewritten clause under its number as changed when nothing else matches it', () => {
    const d = diffClauses([c('1', A), c('2', B)], [c('1', A), c('2', D)]);
    expect(kinds(d)).toEqual(['unchanged:1>1', 'changed:2>2']);
    const e = d.entries[1];
    expect(e?.type === 'changed' && e.similarity).toBeLessThan(0.5);
  });

  it('reports a clause whose number disappears and whose text is new as removed and added', () => {
    const d = diffClauses([c('1', A), c('2', B)], [c('1', A), c('3', D)]);
    expect(d.summary).toMatchObject({ unchanged: 1, added: 1, removed: 1, changed: 0 });
  });

  it('pairs duplicate texts in document order', () => {
    const before = [c('1', 'See the annex.'), c('2', A), c('3', 'See the annex.')];
    const after = [c('2', 'See the annex.'), c('3', A), c('4', 'See the annex.')];
    expect(kinds(diffClauses(before, after))).toEqual(['moved:1>2', 'moved:2>3', 'moved:3>4']);
  });

  it('handles empty versions', () => {
    expect(diffClauses([], [c('1', A)]).summary).toMatchObject({ added: 1 });
    expect(diffClauses([c('1', A)], []).summary).toMatchObject({ removed: 1 });
    expect(diffClauses([], []).entries).toEqual([]);
  });

  it('lists every clause of both versions exactly once', () => {
    const before = Array.from({ length: 40 }, (_, i) => c(`${i + 1}`, `Rule ${i} about topic ${i % 7} applies to group ${i % 5}.`));
    const after = [
      ...before.slice(0, 10),
      c('x', 'A new rule entirely.'),
      ...before.slice(12).map((x, i) => ({ ...x, numbering: `${i + 20}` })),
    ];
    after[15] = { numbering: after[15]?.numbering ?? 'y', text: `${after[15]?.text ?? ''} With an extra sentence.` };
    const d = diffClauses(before, after);
    const fromCount = d.entries.filter((e) => 'from' in e).length;
    const toCount = d.entries.filter((e) => 'to' in e).length;
    expect(fromCount).toBe(before.length);
    expect(toCount).toBe(after.length);
    expect(d.summary.removed).toBe(2);
    expect(d.summary.added).toBe(1);
    expect(d.summary.changed).toBe(1);
  });

  it('bounds the comparisons of large versions to pairs close in position and still finds a local edit', () => {
    const before = Array.from({ length: 800 }, (_, i) =>
      c(`${i}`, `Clause ${i} says members of unit ${i} must file form ${i * 3} monthly.`),
    );
    const after = before.map((x, i) => (i === 400 ? { numbering: `${i}-new`, text: `${x.text} Quarterly filing is permitted.` } : x));
    const began = performance.now();
    const d = diffClauses(before, after, { maxComparisons: 1000 });
    expect(performance.now() - began).toBeLessThan(2000);
    expect(d.summary).toMatchObject({ unchanged: 799, changed: 1 });
  });

  it('rejects thresholds outside [0, 1]', () => {
    expect(() => diffClauses([], [], { minContentSimilarity: 1.5 })).toThrow(/minContentSimilarity/);
  });

  it('diffs two parsed versions of a Markdown document', () => {
    const v1 = [
      '# Gifts',
      '',
      '1. Employees must report gifts over $100.',
      '2. Employees must not accept cash.',
      '3. Managers may approve exceptions.',
    ].join('\n');
    const v2 = [
      '# Gifts',
      '',
      '1. Employees must report gifts over $50.',
      '2. Employees must not solicit gifts.',
      '3. Employees must not accept cash.',
      '4. Managers may approve exceptions.',
    ].join('\n');
    const a = parseDocument(v1, { documentId: 'doc', mediaType: 'text/markdown' }).clauses;
    const b = parseDocument(v2, { documentId: 'doc', mediaType: 'text/markdown' }).clauses;
    const d = diffClauses(a, b);
    expect(d.summary).toEqual({ unchanged: 0, moved: 2, changed: 1, added: 1, removed: 0 });
    expect(describeClauseDiff(d.summary)).toBe('1 added, 1 changed, 2 moved, 0 removed, 0 unchanged');
  });
});

describe('wordSimilarity', () => {
  it('is 1 for the same words, 0 for disjoint ones, symmetric and case-blind', () => {
    expect(wordSimilarity('A b c', 'c B a')).toBe(1);
    expect(wordSimilarity('alpha beta', 'gamma delta')).toBe(0);
    expect(wordSimilarity(A, B)).toBeCloseTo(wordSimilarity(B, A));
    expect(wordSimilarity('a a b', 'a b b')).toBeCloseTo(2 / 3);
  });
});
