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

  it('reads the compare answer of the gateway (answers as strings, scores per variant of a held-out item, its bucket)', () => {
    const view = readCompare({
      contextId: 'c',
      runId: 'r',
      question: 'Q?',
      heldOutItem: { id: 'h1', kind: 'qa', question: 'Q?', reference: 'R.', clauseIds: ['c1'] },
      models: { base: 'tiny', adapter: 'a1' },
      retrieved: [{ clauseId: 'c1', numbering: '1.1', citation: '1.1', text: 'T', score: 0.5 }],
      answers: { base: 'b', aligned: 'a', aligned_rag: 'ar' },
      scores: {
        variants: {
          base: { correctness: 0.1, right: false },
          aligned: { correctness: 0.9, right: true },
          aligned_rag: { correctness: 0.8, right: true },
        },
        bucket: 'only_aligned_right',
        itemPass: 0.5,
      },
    });
    expect(view.sides.map((s) => [s.variant, s.answer, s.scores['correctness'], s.scores['right']])).toEqual([
      ['base', 'b', 0.1, false],
      ['aligned', 'a', 0.9, true],
      ['aligned_rag', 'ar', 0.8, true],
    ]);
    expect(view).toMatchObject({ bucket: 'only_aligned_right', reference: 'R.', question: 'Q?' });
    expect(view.retrieved[0]).toMatchObject({ numbering: '1.1', score: 0.5 });
  });
});
