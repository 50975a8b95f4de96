import { ragSystemPrompt } from './audit';
import { citationsFor, groundedAnswer, groundedMessages, retrievalQuestion, sourcesSuffix } from './grounded-chat';
import type { RetrievedClause } from './index-clauses';

const clauses: RetrievedClause[] = [
  { clauseId: 'c-gifts', numbering: '3.2.1', text: 'Employees must not accept gifts above $100.', score: 0.9 },
  { clauseId: 'c-report', numbering: '164.502(a)(1)', text: 'A covered entity may disclose information as permitted.', score: 0.7 },
  { clauseId: 'c-none', numbering: '', text: 'A preamble without a number.', score: 0.1 },
];

describe('grounded chat', () => {
  it('retrieves for the last user message, with the previous user turn when the last one is a short follow-up', () => {
    expect(
      retrievalQuestion([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'May I accept a gift from a supplier worth $500?' },
        { role: 'assistant', content: 'No (§3.2.1).' },
        { role: 'user', content: 'And from a customer?' },
      ]),
    ).toBe('May I accept a gift from a supplier worth $500?\nAnd from a customer?');
    expect(
      retrievalQuestion([
        { role: 'user', content: 'Hello there' },
        { role: 'user', content: 'What does the policy say about conflicts of interest with family members?' },
      ]),
    ).toBe('What does the policy say about conflicts of interest with family members?');
    expect(retrievalQuestion([{ role: 'user', content: 'x'.repeat(5_000) }], 4_000)).toHaveLength(4_000);
    expect(() => retrievalQuestion([{ role: 'system', content: 'Be brief.' }])).toThrow(/no user message/);
    expect(() => retrievalQuestion([{ role: 'user', content: '   ' }])).toThrow(/no user message/);
  });

  it('prompts as the audit prompted its aligned+RAG variant, the caller’s messages after the grounding', () => {
    const messages = groundedMessages('You follow the policy.', clauses.slice(0, 2), [
      { role: 'system', content: 'Answer in French.' },
      { role: 'user', content: 'May I accept a gift?' },
    ]);
    expect(messages).toEqual([
      { role: 'system', content: ragSystemPrompt('You follow the policy.', clauses.slice(0, 2)) },
      { role: 'system', content: 'Answer in French.' },
      { role: 'user', content: 'May I accept a gift?' },
    ]);
    expect(messages[0]?.content).toContain('(§3.2.1) Employees must not accept gifts above $100.');
    expect(messages[0]?.content).toContain('(§164.502(a)(1)) A covered entity');
  });

  it('marks the clauses the answer cites: the clause itself, a clause it belongs to, or one inside it', () => {
    const cite = (answer: string) => citationsFor(clauses, answer).map((c) => c.cited);
    expect(cite('Gifts above $100 are refused (§3.2.1).')).toEqual([true, false, false]);
    expect(cite('See §3.2 on gifts.')).toEqual([true, false, false]);
    expect(cite('See § 164.502(a)(1)(ii).')).toEqual([false, true, false]);
    expect(cite('Section §3.2.10 is about travel.')).toEqual([false, false, false]);
    expect(cite('No reference at all.')).toEqual([false, false, false]);
    expect(citationsFor(clauses, '')[1]).toEqual({
      index: 2,
      clauseId: 'c-report',
      numbering: '164.502(a)(1)',
      citation: '§164.502(a)(1)',
      text: 'A covered entity may disclose information as permitted.',
      score: 0.7,
      cited: false,
    });
  });

  it('appends the sources of an answer that cites none of them, and nothing to one that cites one', () => {
    const plain = groundedAnswer(clauses, 'You may not.');
    expect(plain.suffix).toBe('\n\nSources: §3.2.1; §164.502(a)(1).');
    expect(plain.text).toBe('You may not.\n\nSources: §3.2.1; §164.502(a)(1).');
    expect(plain.citations.map((c) => c.clauseId)).toEqual(['c-gifts', 'c-report', 'c-none']);
    const cited = groundedAnswer(clauses, 'You may not (§3.2.1).');
    expect(cited).toMatchObject({ text: 'You may not (§3.2.1).', suffix: '' });
    expect(sourcesSuffix([])).toBe('');
    expect(sourcesSuffix(citationsFor([clauses[2] as RetrievedClause], 'x'))).toBe('');
  });
});
