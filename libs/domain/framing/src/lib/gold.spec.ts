import {
  ParagraphPathTracker,
  clauseReferences,
  clauseRelation,
  designatorChain,
  goldSectionsScope,
  inScope,
  matchStatements,
  normaliseSpan,
  parseGoldJsonl,
  parseScope,
  scoreAgainstGold,
  sectionReference,
  spanScore,
  textOverlap,
  type GoldStatement,
  type ReferencedStatement,
} from './gold';
import { parseDocument } from './parse';

const labels = (line: string): string[] => designatorChain(line).map((d) => (d.italic ? `*${d.label}*` : d.label));

describe('designatorChain', () => {
  it('reads leading, run-in and italic designators', () => {
    expect(labels('(a) *Standard.* A covered entity may not …')).toEqual(['a']);
    expect(labels('(e)(1) *Standard: Disclosures to business associates.* (i) A covered entity may …')).toEqual(['e', '1', 'i']);
    expect(labels('(5) *Prohibited uses and disclosures*\u2014(i) *Use of genetic information:* Notwithstanding …')).toEqual(['5', 'i']);
    expect(labels('(b) *Standard: Minimum necessary*\u2014 *Minimum necessary applies.* When using …')).toEqual(['b']);
    expect(labels('(*1*) Rules for, or determination of, eligibility')).toEqual(['*1*']);
    expect(labels('A covered entity may use (i) in that case')).toEqual([]);
  });
});

describe('ParagraphPathTracker', () => {
  const walk = (chains: string[][]): string[] => {
    const tracker = new ParagraphPathTracker();
    return chains.map((c) =>
      tracker
        .next(c.map((l) => (l.startsWith('*') ? { label: l.replace(/\*/g, ''), italic: true } : { label: l, italic: false })))
        .map((p) => `(${p})`)
        .join(''),
    );
  };

  it('nests the CFR levels (a) → (1) → (i) → (A) → (*1*) → (*i*) and climbs back', () => {
    expect(walk([['a'], ['1'], ['i'], ['A'], ['*1*'], ['*i*'], ['*ii*'], ['*2*'], ['B'], ['ii'], ['2'], ['b']])).toEqual([
      '(a)',
      '(a)(1)',
      '(a)(1)(i)',
      '(a)(1)(i)(A)',
      '(a)(1)(i)(A)(1)',
      '(a)(1)(i)(A)(1)(i)',
      '(a)(1)(i)(A)(1)(ii)',
      '(a)(1)(i)(A)(2)',
      '(a)(1)(i)(B)',
      '(a)(1)(ii)',
      '(a)(2)',
      '(b)',
    ]);
  });

  it('tells the letter (i) from the roman (i) by what it continues', () => {
    // (h) with no sub-paragraph: the next (i) is the letter after h.
    expect(walk([['h'], ['i'], ['1']])).toEqual(['(h)', '(i)', '(i)(1)']);
    // (i) opening under an arabic paragraph, then (v) after (iv).
    expect(walk([['c'], ['1'], ['i'], ['ii'], ['iii'], ['iv'], ['v'], ['2']])).toEqual([
      '(c)',
      '(c)(1)',
      '(c)(1)(i)',
      '(c)(1)(ii)',
      '(c)(1)(iii)',
      '(c)(1)(iv)',
      '(c)(1)(v)',
      '(c)(2)',
    ]);
    // A run-in chain: (3)(i) under (g).
    expect(walk([['g', '1'], ['2'], ['3', 'i'], ['A']])).toEqual(['(g)(1)', '(g)(2)', '(g)(3)(i)', '(g)(3)(i)(A)']);
  });

  it('gives a clause without designators the empty path', () => {
    expect(walk([['a'], []])).toEqual(['(a)', '']);
  });
});

describe('references', () => {
  it('takes the section number from a § heading, else an explicit number', () => {
    expect(sectionReference({ title: '§ 164.502 Uses and disclosures.', numbering: '45.164-502-uses' })).toBe('164.502');
    expect(sectionReference({ title: 'Gifts', numbering: '3.2' })).toBe('3.2');
  });

  it('relates paragraphs of one section by their paths', () => {
    expect(clauseRelation('164.502(a)(1)', '164.502(a)(1)')).toBe('same');
    expect(clauseRelation('164.502(b)', '164.502(b)(1)')).toBe('ancestor');
    expect(clauseRelation('164.502(b)(1)', '164.502(b)')).toBe('descendant');
    expect(clauseRelation('164.502(a)(1)', '164.502(a)(2)')).toBeNull();
    expect(clauseRelation('164.502(a)', '164.522(a)')).toBeNull();
  });

  it('maps a parsed regulation to legal references', () => {
    const md = [
      '## § 164.9 Things.',
      '',
      'A covered entity may do things.',
      '',
      '(a) *Standard.* A covered entity must act.',
      '',
      '(1) To the individual;',
      '',
      '(i) Within 30 days;',
      '',
      '(ii) In writing.',
      '',
      '(b)(1) *Standard: Other.* (i) A health plan may not sell PHI.',
      '',
      '(ii) A health plan must keep records.',
    ].join('\n');
    const tree = parseDocument(md, { documentId: 'd', mediaType: 'text/markdown' });
    const refs = clauseReferences(tree);
    expect(tree.clauses.map((c) => refs.get(c.id)?.reference)).toEqual([
      '164.9',
      '164.9(a)',
      '164.9(a)(1)',
      '164.9(a)(1)(i)',
      '164.9(a)(1)(ii)',
      '164.9(b)(1)(i)',
      '164.9(b)(1)(ii)',
    ]);
  });
});

describe('spans', () => {
  it('normalises case, punctuation, articles and PHI', () => {
    expect(normaliseSpan('Use or disclose the Protected Health Information;')).toBe('use or disclose phi');
    expect(normaliseSpan('protected health information', { phi: false })).toBe('protected health information');
    expect(normaliseSpan(null)).toBe('');
  });

  it('scores token overlap and exact matches', () => {
    expect(spanScore('A covered entity', 'covered entity')).toEqual({ precision: 1, recall: 1, f1: 1, exact: true });
    const s = spanScore('covered entity or business associate', 'covered entity');
    expect(s.precision).toBeCloseTo(2 / 5);
    expect(s.recall).toBe(1);
    expect(s.f1).toBeCloseTo((2 * 0.4) / 1.4);
    expect(s.exact).toBe(false);
    expect(spanScore(null, null)).toEqual({ precision: 1, recall: 1, f1: 1, exact: true });
    expect(spanScore(null, 'if asked')).toEqual({ precision: 0, recall: 0, f1: 0, exact: false });
    expect(spanScore('if asked', null).f1).toBe(0);
  });

  it('measures text overlap on content words, one-sided and mutual', () => {
    expect(textOverlap('To the individual;', 'A covered entity may disclose PHI: to the individual')).toEqual({
      coefficient: 1,
      mutual: 1 / 5,
    });
    const o = textOverlap('alpha beta gamma delta', 'alpha beta omega');
    expect(o.coefficient).toBeCloseTo(2 / 3);
    expect(o.mutual).toBeCloseTo(2 / 4);
    // Function words alone do not overlap.
    expect(textOverlap('to or of', 'to or of').coefficient).toBe(0);
    expect(textOverlap('', 'x').coefficient).toBe(0);
  });
});

const gold = (clause: string, kind: GoldStatement['kind'], text: string, extra: Partial<GoldStatement> = {}): GoldStatement => ({
  clause,
  kind,
  actor: 'covered entity',
  action: 'disclose PHI',
  condition: null,
  text,
  ...extra,
});

const predicted = (
  reference: string,
  kind: GoldStatement['kind'],
  sentence: string,
  extra: Partial<ReferencedStatement['statement']> = {},
): ReferencedStatement => ({
  reference,
  statement: {
    kind,
    actor: 'A covered entity',
    party: 'A covered entity',
    action: 'disclose protected health information',
    condition: null,
    exception: null,
    sentence,
    modality: 'may',
    clauseNumbering: 'x',
    ...extra,
  },
});

describe('matchStatements', () => {
  it('pairs one-to-one by paragraph and overlap, the same paragraph first', () => {
    const g = [
      gold('1(a)', 'permission', 'A covered entity may disclose records'),
      gold('1(b)', 'obligation', 'A covered entity must keep records'),
    ];
    const p = [
      predicted('1', 'permission', 'A covered entity may disclose records'), // the same text, anchored at the parent
      predicted('1(b)', 'obligation', 'A covered entity must keep records'),
      predicted('1(c)', 'permission', 'A covered entity may disclose records'), // unrelated paragraph
    ];
    const pairs = matchStatements(g, p);
    expect(pairs.map((x) => [x.gold, x.predicted, x.relation])).toEqual([
      [0, 0, 'descendant'], // the gold paragraph is below the extracted one's
      [1, 1, 'same'],
    ]);
    expect(matchStatements(g, p, { relatedClauses: false }).map((x) => [x.gold, x.predicted])).toEqual([[1, 1]]);
    // At another level the texts must nearly coincide: "keep" vs "disclose" is not enough.
    expect(matchStatements([g[1] as GoldStatement], [predicted('1', 'obligation', 'A covered entity must disclose records')])).toEqual([]);
  });

  it('does not pair a lead-in with the items below it', () => {
    const g = [gold('1(a)(1)', 'permission', 'To the individual;')];
    const leadIn = predicted(
      '1(a)',
      'permission',
      'A covered entity may disclose protected health information to the individual as follows:',
    );
    expect(matchStatements(g, [leadIn])).toEqual([]);
    expect(matchStatements(g, [{ ...leadIn, reference: '1(a)(1)' }])).toHaveLength(1);
  });

  it('needs the overlap threshold', () => {
    const g = [gold('1(a)', 'permission', 'alpha beta gamma delta')];
    expect(matchStatements(g, [predicted('1(a)', 'permission', 'alpha omega psi chi')])).toEqual([]);
    expect(matchStatements(g, [predicted('1(a)', 'permission', 'alpha omega psi chi')], { threshold: 0.25 })).toHaveLength(1);
  });
});

describe('scoreAgainstGold', () => {
  it('computes detection, kinds, confusion and spans', () => {
    const g = [
      gold('1(a)', 'permission', 'A covered entity may disclose records', { condition: 'if asked' }),
      gold('1(b)', 'obligation', 'A covered entity must keep records'),
      gold('1(c)', 'definition', 'Records means files'),
    ];
    const p = [
      predicted('1(a)', 'permission', 'A covered entity may disclose records', { exception: 'if asked' }),
      predicted('1(b)', 'permission', 'A covered entity must keep records', { action: 'keep records' }),
      predicted('1(d)', 'obligation', 'Something else entirely here'),
    ];
    const s = scoreAgainstGold(g, p);
    expect([s.gold, s.predicted, s.matched]).toEqual([3, 3, 2]);
    expect(s.detection.precision).toBeCloseTo(2 / 3);
    expect(s.detection.recall).toBeCloseTo(2 / 3);
    expect(s.kind.accuracy).toBe(0.5);
    expect(s.kind.confusion.obligation.permission).toBe(1);
    expect(s.kind.confusion.permission.permission).toBe(1);
    expect(s.kind.matched.permission).toMatchObject({ precision: 0.5, recall: 1 });
    expect(s.kind.endToEnd.obligation).toMatchObject({ precision: 0, recall: 0, gold: 1, predicted: 1 });
    expect(s.kind.endToEnd.permission).toMatchObject({ precision: 0.5, recall: 1 });
    expect(s.actor.exact).toBe(1);
    expect(s.condition.exact).toBe(1); // the framer's exception counts as condition
    expect(s.action.exact).toBe(0.5);
    expect(s.action.recall).toBeCloseTo(0.5);
    // Span matching: token F1 >= 0.5 is a correct span; both empty is agreement and counts in neither denominator.
    expect(s.action.matched).toMatchObject({ correct: 1, predicted: 2, gold: 2, precision: 0.5, recall: 0.5 });
    expect(s.action.endToEnd.precision).toBeCloseTo(1 / 3); // the unmatched extracted statement's action is wrong
    expect(s.action.endToEnd.recall).toBeCloseTo(1 / 3); // the unmatched gold statement's action is missed
    expect(s.condition.matched).toMatchObject({ correct: 1, predicted: 1, gold: 1 });
    expect(s.condition.endToEnd).toMatchObject({ precision: 1, recall: 1 });
    expect(s.kind.microEndToEnd.precision).toBeCloseTo(1 / 3);
    expect(s.missedGold).toEqual([2]);
    expect(s.falsePositives).toEqual([2]);
  });
});

describe('parseGoldJsonl', () => {
  it('reads records and names the line of a bad one', () => {
    const line = JSON.stringify(gold('164.502(a)', 'prohibition', 'x'));
    expect(parseGoldJsonl(`${line}\n\n${line}\n`)).toHaveLength(2);
    expect(() => parseGoldJsonl(`${line}\n{"clause":"x","kind":"rule"}`)).toThrow(/gold line 2/);
  });
});

describe('gold scope', () => {
  it('defaults to the whole sections the gold has statements in', () => {
    expect(goldSectionsScope([{ clause: '164.510(a)(1)' }, { clause: '164.530(b)' }, { clause: '164.510' }])).toEqual([
      '164.510',
      '164.530',
    ]);
  });

  it('expands ranges of letters and numbers at the last designator', () => {
    expect(parseScope('164.510, 164.530(a)-(c)')).toEqual(['164.510', '164.530(a)', '164.530(b)', '164.530(c)']);
    expect(parseScope('3.2(b)(2)-(4)')).toEqual(['3.2(b)(2)', '3.2(b)(3)', '3.2(b)(4)']);
  });

  it('rejects what is not a reference or a range it cannot expand, naming the item', () => {
    expect(() => parseScope(' , ')).toThrow(/names no reference/);
    expect(() => parseScope('164.510, section five')).toThrow(/"section five" is not a legal reference/);
    expect(() => parseScope('164.530(f)-(a)')).toThrow(/"164.530\(f\)-\(a\)": a range runs/);
    expect(() => parseScope('164.530(ii)-(iv)')).toThrow(/a range runs/);
  });

  it('takes a reference, and what lies beneath it, into scope', () => {
    const scope = parseScope('164.510,164.530(a)-(f)');
    expect(inScope('164.510', scope)).toBe(true);
    expect(inScope('164.510(b)(1)(ii)', scope)).toBe(true);
    expect(inScope('164.530(f)', scope)).toBe(true);
    expect(inScope('164.530(e)(1)', scope)).toBe(true);
    expect(inScope('164.530(g)(1)', scope)).toBe(false);
    expect(inScope('164.530', scope)).toBe(false);
    expect(inScope('164.512(a)', scope)).toBe(false);
    expect(inScope('', scope)).toBe(false);
  });
});
