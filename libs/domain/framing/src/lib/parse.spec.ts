import { Clause, DocumentTree } from './model';
import { CLAUSE_HASH_LENGTH, parseDocument } from './parse';
import { sha256Hex } from './sha256';

const MD = `# Acme Conduct Policy

Acme values integrity.

## 1. Gifts

### 1.1 Thresholds

**1.1.1** Employees may accept gifts up to $100.

**1.1.2** Employees must not accept
cash gifts, whatever their value.

**1.1.3** The following are prohibited:

- (a) gifts during a tender;
- (b) gifts to officials.

> **Q&A**
> **Q:** Can I keep a $60 bottle of wine?
> **A:** Yes, within the limit (§1.1.1).

> **Example — a dinner.** A supplier invites you to dinner during a tender. Decline (§1.1.3(a)).

## 2. Records

2.1 Employees must keep accurate records.

- keep receipts
- file claims monthly
`;

const PLAIN = `CODE OF PRACTICE

1. Gifts

1.1 Employees may accept gifts up to $50.
1.2 Employees must not accept cash:
(a) in any currency;
(b) in any amount.

2. Reporting

2.1 Staff shall report concerns.

Q: Do I need proof?
A: No (see 2.1).
`;

const byNumbering = (tree: DocumentTree, n: string): Clause => {
  const c = tree.clauses.find((x) => x.numbering === n);
  if (!c) throw new Error(`no clause ${n}; have ${tree.clauses.map((x) => x.numbering).join(', ')}`);
  return c;
};

describe('parseDocument (Markdown)', () => {
  const tree = parseDocument(MD, { documentId: 'acme' });

  it('detects Markdown and the title', () => {
    expect(tree.mediaType).toBe('text/markdown');
    expect(tree.title).toBe('Acme Conduct Policy');
    expect(tree.sha256).toBe(sha256Hex(MD));
  });

  it('builds the section tree with numbering, heading paths and line ranges', () => {
    expect(tree.sections.map((s) => [s.numbering, s.level, s.parentId])).toEqual([
      ['acme-conduct-policy', 1, null],
      ['1', 2, 'acme:acme-conduct-policy'],
      ['1.1', 3, 'acme:1'],
      ['2', 2, 'acme:acme-conduct-policy'],
    ]);
    const s11 = tree.sections.find((s) => s.numbering === '1.1');
    expect(s11?.headingPath).toEqual(['Acme Conduct Policy', 'Gifts', 'Thresholds']);
    expect(s11?.lineStart).toBe(7);
    expect(s11?.lineEnd).toBe(24);
  });

  it('finds numbered paragraphs, joins wrapped lines and records line ranges', () => {
    const c = byNumbering(tree, '1.1.2');
    expect(c.kind).toBe('paragraph');
    expect(c.numbered).toBe(true);
    expect(c.text).toBe('Employees must not accept cash gifts, whatever their value.');
    expect([c.lineStart, c.lineEnd]).toEqual([11, 12]);
    expect(c.sectionId).toBe('acme:1.1');
    expect(c.headingPath).toEqual(['Acme Conduct Policy', 'Gifts', 'Thresholds']);
  });

  it('attaches lettered items to their paragraph', () => {
    const a = byNumbering(tree, '1.1.3(a)');
    expect(a.kind).toBe('list-item');
    expect(a.text).toBe('gifts during a tender;');
    expect(a.parentId).toBe(byNumbering(tree, '1.1.3').id);
    expect(byNumbering(tree, '1.1.3(b)').text).toBe('gifts to officials.');
  });

  it('numbers bullets under a paragraph by position', () => {
    expect(byNumbering(tree, '2.1.i1').text).toBe('keep receipts');
    expect(byNumbering(tree, '2.1.i2').parentId).toBe(byNumbering(tree, '2.1').id);
  });

  it('recognises Q&A and example call-outs', () => {
    const q = byNumbering(tree, '1.1.q1');
    expect(q.kind).toBe('qa');
    expect(q.question).toBe('Can I keep a $60 bottle of wine?');
    expect(q.answer).toBe('Yes, within the limit (§1.1.1).');
    expect([q.lineStart, q.lineEnd]).toEqual([19, 21]);
    const x = byNumbering(tree, '1.1.x1');
    expect(x.kind).toBe('example');
    expect(x.text).toMatch(/^Example - a dinner\. A supplier invites you/);
  });

  it('keeps unnumbered prose as paragraphs of its section', () => {
    const p = byNumbering(tree, 'acme-conduct-policy.p1');
    expect(p.text).toBe('Acme values integrity.');
    expect(p.numbered).toBe(false);
  });

  it('forms ids from document, numbering path and the hash of the normalised text', () => {
    const c = byNumbering(tree, '1.1.2');
    const hash = sha256Hex('Employees must not accept cash gifts, whatever their value.').slice(0, CLAUSE_HASH_LENGTH);
    expect(c.id).toBe(`acme:1.1.2:${hash}`);
    for (const clause of tree.clauses) expect(clause.id).toMatch(/^acme:[A-Za-z0-9._-]+:[0-9a-f]{12}$/);
    expect(new Set(tree.clauses.map((x) => x.id)).size).toBe(tree.clauses.length);
  });
});

describe('parseDocument (plain text)', () => {
  const tree = parseDocument(PLAIN, { documentId: 'cop' });

  it('detects plain text and takes short numbered lines and ALL-CAPS lines as headings', () => {
    expect(tree.mediaType).toBe('text/plain');
    expect(tree.sections.map((s) => [s.numbering, s.title, s.level])).toEqual([
      ['code-of-practice', 'CODE OF PRACTICE', 1],
      ['1', 'Gifts', 1],
      ['2', 'Reporting', 1],
    ]);
  });

  it('finds numbered paragraphs on consecutive lines and lettered sub-clauses', () => {
    expect(tree.clauses.map((c) => c.numbering)).toEqual(['1.1', '1.2', '1.2(a)', '1.2(b)', '2.1', '2.q1']);
    expect(byNumbering(tree, '1.2').text).toBe('Employees must not accept cash:');
    expect(byNumbering(tree, '1.2(b)').parentId).toBe(byNumbering(tree, '1.2').id);
    expect(byNumbering(tree, '2.q1').question).toBe('Do I need proof?');
  });

  it('accepts numbered paragraphs without any heading', () => {
    const t = parseDocument('1. Staff must sign in.\n2. Visitors may not enter the lab.\n(a) unless escorted.\n', {
      documentId: 'lab',
    });
    expect(t.sections).toHaveLength(0);
    expect(t.clauses.map((c) => [c.numbering, c.sectionId])).toEqual([
      ['1', null],
      ['2', null],
      ['2(a)', null],
    ]);
  });
});

describe('clause id stability', () => {
  it('re-parsing the same document yields identical ids', () => {
    const a = parseDocument(MD, { documentId: 'acme' });
    const b = parseDocument(MD, { documentId: 'acme' });
    expect(b.clauses.map((c) => c.id)).toEqual(a.clauses.map((c) => c.id));
    expect(b).toEqual(a);
  });

  it('changing one clause changes only that clause id', () => {
    const before = parseDocument(MD, { documentId: 'acme' });
    const after = parseDocument(MD.replace('up to $100', 'up to $150'), { documentId: 'acme' });
    const changed = before.clauses.filter((c, i) => c.id !== after.clauses[i]?.id).map((c) => c.numbering);
    expect(changed).toEqual(['1.1.1']);
  });

  it('re-wrapping lines, emphasis and CRLF line endings keep the ids', () => {
    const before = parseDocument(MD, { documentId: 'acme' });
    const edited = MD.replace('Employees must not accept\ncash gifts', 'Employees must not accept cash\n*gifts*').replace(/\n/g, '\r\n');
    const after = parseDocument(edited, { documentId: 'acme' });
    expect(after.clauses.map((c) => c.id)).toEqual(before.clauses.map((c) => c.id));
  });

  it('inserting a clause leaves the ids of the others unchanged', () => {
    const before = parseDocument(MD, { documentId: 'acme' });
    const after = parseDocument(MD.replace('**1.1.3**', '**1.1.4** Employees must record gifts.\n\n**1.1.3**'), {
      documentId: 'acme',
    });
    const afterIds = new Set(after.clauses.map((c) => c.id));
    expect(before.clauses.every((c) => afterIds.has(c.id))).toBe(true);
    expect(after.clauses).toHaveLength(before.clauses.length + 1);
  });

  it('gives duplicated numbers distinct ids', () => {
    const t = parseDocument('1. Staff must sign in.\n1. Staff must sign out.\n', { documentId: 'dup' });
    expect(t.clauses.map((c) => c.numbering)).toEqual(['1', '1_2']);
  });
});

describe('parseDocument (a regulation with paragraph designators)', () => {
  const md = [
    '# 45 CFR Part 164, Subpart E — Privacy',
    '',
    '> **Provenance.** Editorial note.',
    '',
    '## § 164.9 Uses and disclosures.',
    '',
    'A covered entity may use information as this section provides.',
    '',
    '(a) *Standard.* A covered entity may not disclose records, except as permitted by § 164.502(a)(1)(ii).',
    '',
    '(1) *Permitted disclosures.* A covered entity may disclose records as follows:',
    '',
    '(i) To the individual;',
    '',
    '(ii) For treatment.',
    '',
    '(b) *Standard: Minimum necessary*\u2014 *Minimum necessary applies.* When using records, a covered entity must limit them.',
    '',
    '(2) *Exceptions.* This requirement does not apply to:',
    '',
    '(i) Disclosures to the individual.',
    '',
    'Example 1 to paragraph (b)(2): A nurse gives a patient her own file.',
    '',
    '(e)(1) *Standard: Business associates.* (i) A covered entity may disclose records to a business associate.',
    '',
    '(ii) A business associate may disclose records to a subcontractor.',
    '',
    '(5) *Prohibited uses*\u2014(i) *Genetic information:* A health plan shall not use genetic information.',
    '',
    '(A) Except as provided in paragraph (a):',
    '',
    '(*1*) Rules for eligibility;',
    '',
    '[65 FR 82802, Dec. 28, 2000]',
  ].join('\n');
  const tree = parseDocument(md, { documentId: 'cfr', mediaType: 'text/markdown' });
  const byNumber = new Map(tree.clauses.map((c) => [c.numbering, c]));

  it('nests designators, run-in chains and italic levels into the numbering a reader writes', () => {
    expect(tree.clauses.map((c) => [c.numbering, c.kind])).toEqual([
      ['45-cfr-part-164-subpart.n1', 'note'],
      ['164.9.p1', 'paragraph'],
      ['164.9(a)', 'paragraph'],
      ['164.9(a)(1)', 'list-item'],
      ['164.9(a)(1)(i)', 'list-item'],
      ['164.9(a)(1)(ii)', 'list-item'],
      ['164.9(b)', 'paragraph'],
      ['164.9(b)(2)', 'list-item'],
      ['164.9(b)(2)(i)', 'list-item'],
      ['164.9(b)(2).x1', 'example'],
      ['164.9(e)(1)(i)', 'paragraph'],
      ['164.9(e)(1)(ii)', 'paragraph'],
      ['164.9(e)(5)(i)', 'paragraph'],
      ['164.9(e)(5)(i)(A)', 'list-item'],
      ['164.9(e)(5)(i)(A)(1)', 'list-item'],
      ['164.9.p2', 'note'],
    ]);
    expect(tree.sections.map((s) => s.numbering)).toEqual(['45-cfr-part-164-subpart', '164.9']);
  });

  it('keeps run-in headings apart from the text, and parents by paragraph path', () => {
    const b = byNumber.get('164.9(b)') as Clause;
    expect(b.heading).toBe('Standard: Minimum necessary \u2014 Minimum necessary applies');
    expect(b.text).toBe('When using records, a covered entity must limit them.');
    expect(byNumber.get('164.9(a)(1)(i)')?.parentId).toBe(byNumber.get('164.9(a)(1)')?.id);
    expect(byNumber.get('164.9(a)(1)')?.parentId).toBe(byNumber.get('164.9(a)')?.id);
    expect(byNumber.get('164.9(e)(1)(ii)')?.parentId).toBeNull(); // "(e)" and "(e)(1)" have no text of their own
    expect(byNumber.get('164.9(e)(5)(i)(A)(1)')?.text).toBe('Rules for eligibility;');
  });

  it('cites clauses as the document writes references, and links an example to the paragraph it illustrates', () => {
    expect(byNumber.get('164.9(a)(1)(ii)')?.citation).toBe('§ 164.9(a)(1)(ii)');
    expect(byNumber.get('164.9(e)(5)(i)(A)(1)')?.citation).toBe('§ 164.9(e)(5)(i)(A)(1)'); // italic (*1*) written plainly
    expect(byNumber.get('164.9.p1')?.citation).toBe('§ 164.9');
    const example = byNumber.get('164.9(b)(2).x1') as Clause;
    expect(example).toMatchObject({ kind: 'example', heading: 'Example 1 to paragraph (b)(2)', citation: '§ 164.9(b)(2), Example 1' });
    expect(example.parentId).toBe(byNumber.get('164.9(b)(2)')?.id);
    expect(example.text).toBe('A nurse gives a patient her own file.');
    // Ids stay within the id alphabet.
    for (const c of tree.clauses) expect(c.id).toMatch(/^[A-Za-z0-9._:-]+$/);
    expect(byNumber.get('164.9(a)(1)(i)')?.id).toMatch(/^cfr:164\.9\.a\.1\.i:[0-9a-f]{12}$/);
  });
});
