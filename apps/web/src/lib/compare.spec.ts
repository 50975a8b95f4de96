import { readCompare } from './compare';

describe('readCompare', () => {
  it('reads variants under answers, with scores beside them, and the retrieved clauses', () => {
    const view = readCompare({
      prompt: 'May I accept a gift?',
      answers: {
        base: 'Yes.',
        aligned: { answer: 'Only under 50 dollars (§1.1).', scores: { correctness: 0.9 } },
        aligned_rag: { text: 'No (§1).' },
      },
      scores: { aligned_rag: { correctness: 0.8, faithfulness: 1, refused: false } },
      retrieved: [{ clauseId: 'c1', numbering: '1.1', text: 'Gifts…', score: 0.83 }],
      reference: 'Gifts under 50 dollars may be accepted (§1.1).',
    });
    expect(view.sides).toEqual([
      { variant: 'base', answer: 'Yes.', scores: {} },
      { variant: 'aligned', answer: 'Only under 50 dollars (§1.1).', scores: { correctness: 0.9 } },
      { variant: 'aligned_rag', answer: 'No (§1).', scores: { correctness: 0.8, faithfulness: 1, refused: false } },
    ]);
    expect(view.retrieved).toHaveLength(1);
    expect(view.question).toBe('May I accept a gift?');
    expect(view.reference).toMatch(/50 dollars/);
  });

  it('reads variants at the top level and camelCase alignedRag', () => {
    const view = readCompare({ base: { content: 'a' }, aligned: { content: 'b' }, alignedRag: { content: 'c', correctness: 0.5 } });
    expect(view.sides.map((s) => [s.variant, s.answer])).toEqual([
      ['base', 'a'],
      ['aligned', 'b'],
      ['aligned_rag', 'c'],
    ]);
    expect(view.sides[2]?.scores).toEqual({ correctness: 0.5 });
  });
});
