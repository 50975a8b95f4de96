import { faithfulness } from './faithfulness';

const gifts = { id: 'c-gifts', text: 'Employees must not accept gifts worth more than $100.' };
const report = { id: 'c-report', text: 'Employees must report gifts within 30 days.' };

describe('faithfulness', () => {
  it('is the key-term coverage when nothing is contradicted', () => {
    // terms: employees, accept, gifts, worth, $100 → answer has accept, gifts, 100: 3/5.
    const f = faithfulness('You cannot accept gifts above $100.', [gifts]);
    expect(f.coverage).toBeCloseTo(3 / 5, 10);
    expect(f.contradiction).toBe(false);
    expect(f.faithfulness).toBeCloseTo(3 / 5, 10);
    expect(f.missingKeyTerms.map((t) => t.text)).toEqual(['employees', 'worth']);
  });

  it('subtracts the penalty when the answer contradicts a cited clause, never below 0', () => {
    const f = faithfulness('Yes, employees may accept gifts worth more than $100.', [gifts]);
    expect(f.coverage).toBe(1);
    expect(f.contradiction).toBe(true);
    expect(f.contradictions).toEqual([
      { clauseId: 'c-gifts', clauseStances: ['forbid'], answerStances: ['permit'], contradicted: ['forbid'] },
    ]);
    expect(f.faithfulness).toBeCloseTo(0.5, 10);
    expect(faithfulness('You may.', [gifts]).faithfulness).toBe(0);
    expect(faithfulness('Yes, employees may accept gifts worth more than $100.', [gifts], 0.2).faithfulness).toBeCloseTo(0.8, 10);
  });

  it('pools the key terms of several clauses and names the contradicted one', () => {
    // terms: employees, accept, gifts, worth, $100, report, 30 days (7); answer has gifts, report: 2/7.
    const f = faithfulness("You don't have to report gifts.", [gifts, report]);
    expect(f.coverage).toBeCloseTo(2 / 7, 10);
    expect(f.contradictions.map((c) => c.clauseId)).toEqual(['c-report']);
    expect(f.faithfulness).toBe(0);
  });

  it('rejects a penalty outside [0, 1]', () => {
    expect(() => faithfulness('x', [gifts], 2)).toThrow(/within \[0, 1\]/);
  });
});
