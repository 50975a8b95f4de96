import { coverageOfTerms, extractKeyTerms, extractKeyTermsOfAll, keyTermCoverage } from './key-terms';

const CLAUSE = 'Employees must not accept gifts worth more than $100 from suppliers, and must report them within 30 business days.';

describe('extractKeyTerms', () => {
  it('extracts content words and amounts in order of first occurrence', () => {
    const terms = extractKeyTerms(CLAUSE);
    expect(terms.map((t) => t.text)).toEqual(['employees', 'accept', 'gifts', 'worth', '$100', 'suppliers', 'report', '30 business days']);
    expect(terms.find((t) => t.text === '$100')).toEqual({ text: '$100', kind: 'amount', tokens: ['100'] });
    expect(terms.find((t) => t.text === '30 business days')).toEqual({
      text: '30 business days',
      kind: 'amount',
      tokens: ['30', 'business', 'days'],
    });
  });

  it('is deterministic and deduplicates plural variants', () => {
    expect(extractKeyTerms('A gift. Two gifts. The gift.').map((t) => t.text)).toEqual(['gift', 'two']);
    expect(extractKeyTerms(CLAUSE)).toEqual(extractKeyTerms(CLAUSE));
  });

  it('attaches units and currency, and keeps bare numbers', () => {
    expect(extractKeyTerms('Keep records for 7 years, pay 5 percent, see section 4.2, limit €1,500.').map((t) => t.text)).toEqual([
      'keep',
      'records',
      '7 years',
      'pay',
      '5 percent',
      'see',
      'section',
      '4.2',
      'limit',
      '€1500',
    ]);
  });

  it('skips stop words, modal verbs, negations and short words', () => {
    expect(extractKeyTerms('You must not, and should never, do it or go.')).toEqual([]);
  });

  it('merges several clauses without duplicates', () => {
    expect(extractKeyTermsOfAll(['Report gifts.', 'Gifts need approval.']).map((t) => t.text)).toEqual(['report', 'gifts', 'approval']);
  });
});

describe('keyTermCoverage', () => {
  it('is the share of key terms the answer contains (hand-computed)', () => {
    const answer = 'You cannot accept gifts over $100 from a supplier; report them within 30 business days.';
    const coverage = keyTermCoverage(answer, CLAUSE);
    // found: accept, gifts, $100, suppliers (plural folded), report, 30 business days; missing: employees, worth.
    expect(coverage.missing.map((t) => t.text)).toEqual(['employees', 'worth']);
    expect(coverage.coverage).toBeCloseTo(6 / 8, 10);
  });

  it('requires a multi-token amount to appear contiguously', () => {
    expect(keyTermCoverage('Report it within 30 days', 'Report within 30 days.').coverage).toBe(1);
    expect(keyTermCoverage('report within 30 calendar days', 'Report within 30 days.').coverage).toBeCloseTo(1 / 2, 10);
    expect(keyTermCoverage('a day', 'Report within 30 days.').coverage).toBe(0);
  });

  it('matches amounts regardless of the currency symbol and of thousands separators', () => {
    expect(keyTermCoverage('up to 1000 dollars', 'Limit: $1,000.').found.map((t) => t.text)).toEqual(['$1000']);
  });

  it('is 1 when there are no key terms, 0 for an empty answer', () => {
    expect(coverageOfTerms('anything', []).coverage).toBe(1);
    expect(keyTermCoverage('', CLAUSE).coverage).toBe(0);
  });
});
