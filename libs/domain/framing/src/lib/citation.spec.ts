import { citedRefs, citeClause } from './citation';
import { parseDocument } from './parse';

describe('citeClause', () => {
  it('gives a clause its stored citation, or "§" and a bare numbering', () => {
    expect(citeClause('3.2.1')).toBe('§3.2.1');
    expect(citeClause({ numbering: '164.502(a)(1)(ii)', citation: '§ 164.502(a)(1)(ii)' })).toBe('§ 164.502(a)(1)(ii)');
  });

  it('spaces the section sign as the document writes it, and cites unnumbered clauses by what they belong to', () => {
    const cfr = parseDocument(
      [
        '## § 164.9 Things.',
        '',
        '(a) *Standard.* See § 164.502. A covered entity must act.',
        '',
        '(1) To the individual.',
        '',
        'Example 1 to paragraph (a)(1): A nurse asks.',
      ].join('\n'),
      { documentId: 'cfr', mediaType: 'text/markdown' },
    );
    expect(cfr.clauses.map((c) => [c.numbering, c.citation, c.kind])).toEqual([
      ['164.9(a)', '§ 164.9(a)', 'paragraph'],
      ['164.9(a)(1)', '§ 164.9(a)(1)', 'list-item'],
      ['164.9(a)(1).x1', '§ 164.9(a)(1), Example 1', 'example'],
    ]);
    const policy = parseDocument(['## 3. Gifts', '', '**3.2.1** Employees must ask (see §3.1).', '', '(a) cash;'].join('\n'), {
      documentId: 'p',
      mediaType: 'text/markdown',
    });
    expect(policy.clauses.map((c) => c.citation)).toEqual(['§3.2.1', '§3.2.1(a)']);
  });
});

describe('citedRefs', () => {
  it('reads CFR references back to numberings: lists, siblings, italic levels, paragraphs of this section', () => {
    expect(citedRefs('as permitted by §§ 164.502(b), 164.514(d), and 164.530(c) and § 164.514(e), (f), or (g).')).toEqual([
      '164.502(b)',
      '164.514(d)',
      '164.530(c)',
      '164.514(e)',
      '164.514(f)',
      '164.514(g)',
    ]);
    expect(citedRefs('under § 164.502(a)(5)(ii)(B)(*2*)(*viii*);')).toEqual(['164.502(a)(5)(ii)(B)(2)(viii)']);
    expect(
      citedRefs(
        'except as provided in paragraphs (g)(3) and (g)(5) of this section; the actions required by paragraphs (c)(1) and (2) of this section',
        {
          section: '164.526',
        },
      ),
    ).toEqual(['164.526(g)(3)', '164.526(g)(5)', '164.526(c)(1)', '164.526(c)(2)']);
    expect(citedRefs('paragraph (a) of this section')).toEqual([]);
  });

  it('is the inverse of the parser’s citations', () => {
    const tree = parseDocument(
      ['## § 164.9 Things.', '', '(a)(1) *Standard.* (i) A covered entity must act.', '', '(ii) It may wait.'].join('\n'),
      {
        documentId: 'cfr',
        mediaType: 'text/markdown',
      },
    );
    for (const c of tree.clauses) expect(citedRefs(`(${c.citation})`)).toEqual([c.numbering]);
  });
});
