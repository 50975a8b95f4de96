import { clauseCoverage, detectLeakage, jaccard, nearDuplicates, questionTokens, type Question } from './data-audit';

describe('clauseCoverage', () => {
  it('counts clauses cited by at least one example and lists the rest', () => {
    const report = clauseCoverage(
      ['c1', 'c2', 'c3', 'c4'],
      [{ clauseIds: ['c1', 'c1'] }, { clauseIds: ['c3', 'c1'] }, { clauseIds: ['c9'] }],
    );
    expect(report).toEqual({
      clauses: 4,
      covered: 2,
      coverage: 0.5,
      uncovered: ['c2', 'c4'],
      unknownCited: ['c9'],
      citations: [
        { clauseId: 'c1', examples: 2 },
        { clauseId: 'c2', examples: 0 },
        { clauseId: 'c3', examples: 1 },
        { clauseId: 'c4', examples: 0 },
      ],
    });
  });

  it('is 0 with no clauses and ignores duplicate clause ids', () => {
    expect(clauseCoverage([], [{ clauseIds: ['c1'] }]).coverage).toBe(0);
    expect(clauseCoverage(['c1', 'c1'], [{ clauseIds: ['c1'] }])).toMatchObject({ clauses: 1, covered: 1, coverage: 1 });
  });
});

describe('jaccard over question tokens', () => {
  it('uses normalised content tokens (hand-computed)', () => {
    // {accept, gift, supplier} vs {accept, gift, client}: 2 / 4.
    expect(jaccard(questionTokens('Can I accept a gift from a supplier?'), questionTokens('May I accept the gift from a client?'))).toBe(
      0.5,
    );
    expect(jaccard(questionTokens('Gift?'), questionTokens('gift'))).toBe(1);
    expect(jaccard(new Set(), new Set())).toBe(0);
  });
});

describe('nearDuplicates', () => {
  const questions: Question[] = [
    { id: 'q1', question: 'Can I accept a gift from a supplier?' },
    { id: 'q2', question: 'How do I report a conflict of interest?' },
    { id: 'q3', question: 'can I ACCEPT gift from supplier' },
    { id: 'q4', question: 'May I accept the gift from a supplier?' },
    { id: 'q5', question: 'Can I accept a gift from a client?' },
    { id: 'q6', question: '???' },
    { id: 'q7', question: '!!!' },
  ];

  it('finds pairs at or above the threshold and groups them', () => {
    const report = nearDuplicates(questions, 0.9);
    expect(report.pairs).toEqual([
      { a: 'q1', b: 'q3', similarity: 1 },
      { a: 'q1', b: 'q4', similarity: 1 },
      { a: 'q3', b: 'q4', similarity: 1 },
    ]);
    expect(report.groups).toEqual([['q1', 'q3', 'q4']]);
  });

  it('includes looser matches with a lower threshold (q5 shares 2 of 4 tokens)', () => {
    const report = nearDuplicates(questions, 0.5);
    expect(report.pairs.filter((p) => p.similarity < 1)).toEqual([
      { a: 'q1', b: 'q5', similarity: 0.5 },
      { a: 'q3', b: 'q5', similarity: 0.5 },
      { a: 'q4', b: 'q5', similarity: 0.5 },
    ]);
    expect(report.groups).toEqual([['q1', 'q3', 'q4', 'q5']]);
  });

  it('rejects a threshold outside (0, 1]', () => {
    expect(() => nearDuplicates(questions, 0)).toThrow(/within \(0, 1\]/);
    expect(() => nearDuplicates(questions, 1.1)).toThrow(/within \(0, 1\]/);
  });

  it('agrees with brute force on random questions', () => {
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const vocabulary = ['gift', 'supplier', 'report', 'manager', 'cash', 'travel', 'expense', 'policy', 'client', 'data'];
    const generated: Question[] = Array.from({ length: 150 }, (_, i) => ({
      id: `g${i}`,
      question: Array.from({ length: 1 + Math.floor(random() * 5) }, () => vocabulary[Math.floor(random() * vocabulary.length)]).join(' '),
    }));
    for (const threshold of [0.5, 0.6, 0.75, 0.9, 1]) {
      const expected: string[] = [];
      for (let i = 0; i < generated.length; i += 1) {
        for (let j = i + 1; j < generated.length; j += 1) {
          const s = jaccard(questionTokens(generated[i]?.question ?? ''), questionTokens(generated[j]?.question ?? ''));
          if (s >= threshold) expected.push(`g${i}-g${j}`);
        }
      }
      const found = nearDuplicates(generated, threshold).pairs.map((p) => `${p.a}-${p.b}`);
      expect(found.sort()).toEqual(expected.sort());
      expect(expected.length).toBeGreaterThan(0);
    }
  });
});

describe('detectLeakage', () => {
  const train: Question[] = [
    { id: 't1', question: 'Can I accept a gift from a supplier?' },
    { id: 't2', question: 'How do I book travel?' },
    { id: 't3', question: 'Gift from supplier: can I accept it?' },
  ];
  const heldOut: Question[] = [
    { id: 'h1', question: 'can i accept a gift from a supplier' },
    { id: 'h2', question: 'Who approves expenses?' },
    { id: 'h3', question: 'How do I book my travel tickets?' },
  ];

  it('finds held-out questions that also appear in train, flagging identical ones', () => {
    const report = detectLeakage(train, heldOut);
    expect(report).toEqual({
      threshold: 0.9,
      heldOut: 3,
      leakedHeldOutIds: ['h1'],
      leakageRate: 1 / 3,
      matches: [
        { heldOutId: 'h1', trainId: 't1', similarity: 1, exact: true },
        { heldOutId: 'h1', trainId: 't3', similarity: 1, exact: false },
      ],
    });
  });

  it('catches paraphrases with a lower threshold', () => {
    // {book, travel} vs {book, travel, tickets}: 2/3.
    const report = detectLeakage(train, heldOut, 0.6);
    expect(report.leakedHeldOutIds).toEqual(['h1', 'h3']);
    expect(report.matches.find((m) => m.heldOutId === 'h3')).toEqual({ heldOutId: 'h3', trainId: 't2', similarity: 2 / 3, exact: false });
  });

  it('handles an empty held-out set', () => {
    expect(detectLeakage(train, [])).toMatchObject({ heldOut: 0, leakageRate: 0, matches: [] });
  });
});
