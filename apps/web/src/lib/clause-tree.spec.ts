import { clauseTree, filterTree, kindsOf, type ClauseNode } from './clause-tree';
import type { Clause } from './model';

const clause = (numbering: string, text = `text of ${numbering}`, extra: Partial<Clause> = {}): Clause => ({
  id: `c-${numbering}`,
  documentId: 'd1',
  numbering,
  text,
  ...extra,
});

const shape = (nodes: ClauseNode[]): unknown[] =>
  nodes.map((n) => (n.children.length ? [n.clause.numbering, shape(n.children)] : n.clause.numbering));

describe('clauseTree', () => {
  it('nests dotted numberings under their parents, in document order', () => {
    const tree = clauseTree([clause('1'), clause('1.1'), clause('1.2'), clause('1.2.1'), clause('2'), clause('2.1')]);
    expect(shape(tree)).toEqual([
      ['1', ['1.1', ['1.2', ['1.2.1']]]],
      ['2', ['2.1']],
    ]);
    expect(tree[0]?.children[1]?.children[0]?.depth).toBe(2);
  });

  it('nests parenthesised sub-paragraphs (a regulation style) without assuming a scheme', () => {
    const tree = clauseTree([clause('164.510'), clause('164.510(a)'), clause('164.510(a)(1)'), clause('164.510(b)'), clause('164.5101')]);
    expect(shape(tree)).toEqual([['164.510', [['164.510(a)', ['164.510(a)(1)']], '164.510(b)']], '164.5101']);
  });

  it('prefers the parentId the API gives, and keeps clauses without a parent as roots', () => {
    const tree = clauseTree([clause('A'), clause('x', 'under A', { parentId: 'c-A' }), clause('B')]);
    expect(shape(tree)).toEqual([['A', ['x']], 'B']);
  });

  it('does not mix the numberings of two documents', () => {
    const tree = clauseTree([clause('1'), { ...clause('1.1'), id: 'other', documentId: 'd2' }]);
    expect(tree).toHaveLength(2);
  });
});

describe('filterTree', () => {
  const clauses = [
    clause('1', 'Gifts', { statements: [{ kind: 'prohibition', sentence: 'Employees must not accept gifts.' }] }),
    clause('1.1', 'Gifts under 50 dollars may be accepted.', { statements: [{ kind: 'permission', sentence: 'may accept' }] }),
    clause('2', 'Data', { statements: [{ kind: 'obligation', sentence: 'Staff must encrypt laptops.' }] }),
  ];
  const tree = clauseTree(clauses);

  it('keeps the ancestors of a match so the tree still reads', () => {
    expect(shape(filterTree(tree, '50 dollars', null))).toEqual([['1', ['1.1']]]);
  });

  it('matches every word, case-insensitively, in text and statements', () => {
    expect(shape(filterTree(tree, 'ENCRYPT staff', null))).toEqual(['2']);
    expect(filterTree(tree, 'encrypt gifts', null)).toEqual([]);
  });

  it('filters by statement kind', () => {
    expect(shape(filterTree(tree, '', 'obligation'))).toEqual(['2']);
    expect(kindsOf(clauses[0] as Clause)).toEqual(['prohibition']);
  });
});
