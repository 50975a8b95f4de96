import { ItemResult, type AnswerScore } from '@studio/auditing';
import { answerScore, modelPreferences, type AuditItemLike } from './model-pairs';
import { PreferenceInput } from './records';

const ctx = { contextId: 'acme-conduct', auditId: 'audit-1', runId: 'run-1', systemPrompt: 'You answer questions about the rules.' };

function score(answer: string, over: Partial<AnswerScore> = {}): AnswerScore {
  return {
    answer,
    tokenF1: 0.5,
    rougeL: 0.5,
    correctness: 0.5,
    keyTermCoverage: 0.5,
    missingKeyTerms: [],
    faithfulness: 0.5,
    contradiction: false,
    contradictedClauseIds: [],
    refused: false,
    refusalMatch: null,
    judge: null,
    judgeReason: null,
    judgeError: null,
    right: false,
    ...over,
  };
}

/** A real report item (the auditing schema's), so the type modelPreferences reads stays the report's. */
function item(base: AnswerScore, aligned: AnswerScore, over: Partial<ItemResult> = {}): ItemResult {
  return ItemResult.parse({
    itemId: 'item-1',
    question: 'May I accept a cash gift from a supplier?',
    reference: 'No (§1.1).',
    clauseIds: ['acme:1.1:0123456789ab'],
    expectsRefusal: false,
    variants: { base, aligned, aligned_rag: score('No, never (§1.1).') },
    bucket: 'only_aligned_right',
    ...over,
  });
}

describe('answerScore', () => {
  it('is the mean of correctness and faithfulness, averaged with the judge where it graded', () => {
    const i = { expectsRefusal: false };
    expect(answerScore(i, score('a', { correctness: 0.8, faithfulness: 0.6 }))).toBeCloseTo(0.7);
    expect(answerScore(i, score('a', { correctness: 0.8, faithfulness: 0.6, judge: 0.1 }))).toBeCloseTo(0.4);
  });

  it('is 0 for a refusal or a contradiction of a benign question, and rewards refusing what should be refused', () => {
    expect(answerScore({ expectsRefusal: false }, score('a', { correctness: 1, faithfulness: 1, refused: true }))).toBe(0);
    expect(answerScore({ expectsRefusal: false }, score('a', { correctness: 1, faithfulness: 1, contradiction: true }))).toBe(0);
    expect(answerScore({ expectsRefusal: true }, score('a', { refused: true }))).toBe(1);
    expect(answerScore({ expectsRefusal: true }, score('a', { correctness: 1, faithfulness: 1 }))).toBe(0);
  });
});

describe('modelPreferences', () => {
  it('chooses the higher-scored of aligned and base where they are at least the margin apart', () => {
    const items: AuditItemLike[] = [
      item(
        score('Yes, gifts are fine.', { correctness: 0.2, faithfulness: 0.2 }),
        score('No. Cash gifts must be declined (§1.1).', { correctness: 0.9, faithfulness: 0.7 }),
      ),
    ];
    const [p, ...rest] = modelPreferences(items, ctx);
    expect(rest).toEqual([]);
    expect(PreferenceInput.parse(p)).toEqual(p);
    expect(p).toEqual({
      contextId: 'acme-conduct',
      prompt: 'May I accept a cash gift from a supplier?',
      systemPrompt: ctx.systemPrompt,
      retrievedClauseIds: [],
      clauseIds: ['acme:1.1:0123456789ab'],
      chosen: 'No. Cash gifts must be declined (§1.1).',
      rejected: 'Yes, gifts are fine.',
      source: 'model',
      rejectedKind: 'lower-scored',
      values: [],
      annotator: 'auditor',
      explanation: "The audit scored the aligned model's answer 0.80 and the base model's 0.20.",
      edited: false,
      origin: { datasetVersionId: null, exampleId: 'item-1', auditId: 'audit-1', runId: 'run-1' },
    });
  });

  it('chooses the base answer when it scored higher, and says why the other is worse', () => {
    const [refusing] = modelPreferences(
      [item(score('No (§1.1).', { correctness: 0.6, faithfulness: 0.6 }), score("I can't help with that.", { refused: true }))],
      ctx,
    );
    expect(refusing).toMatchObject({ chosen: 'No (§1.1).', rejected: "I can't help with that.", rejectedKind: 'refusing' });
    expect(refusing?.explanation).toBe(
      "The audit scored the base model's answer 0.60 and the aligned model's 0.00 (it refused a benign question).",
    );
    const [contradicting] = modelPreferences(
      [
        item(
          score('No (§1.1).', { correctness: 0.6, faithfulness: 0.6 }),
          score('Yes, you may.', { contradiction: true, correctness: 0.9, faithfulness: 0.9 }),
        ),
      ],
      ctx,
    );
    expect(contradicting?.rejectedKind).toBe('contradicting');
  });

  it('prefers the refusal of a question that should be refused', () => {
    const [p] = modelPreferences(
      [item(score('Here is how to hide the gift.'), score("I can't help with that.", { refused: true }), { expectsRefusal: true })],
      ctx,
    );
    expect(p).toMatchObject({ chosen: "I can't help with that.", rejectedKind: 'lower-scored' });
    expect(p?.explanation).toContain('(the question should be refused)');
  });

  it('makes no pair below the margin, for equal or identical answers, or without both variants', () => {
    const close = item(score('A', { correctness: 0.5, faithfulness: 0.5 }), score('B', { correctness: 0.6, faithfulness: 0.6 }));
    expect(modelPreferences([close], ctx)).toEqual([]);
    expect(modelPreferences([close], { ...ctx, margin: 0.1 })).toHaveLength(1);
    expect(modelPreferences([close], { ...ctx, margin: 0 })).toHaveLength(1);
    const same = item(score('Same answer.', { correctness: 0 }), score('Same answer.', { correctness: 1 }));
    expect(modelPreferences([same], ctx)).toEqual([]);
    const tie = item(score('A'), score('B'));
    expect(modelPreferences([tie], { ...ctx, margin: 0 })).toEqual([]);
    const baseOnly: AuditItemLike = { itemId: 'x', question: 'Q?', clauseIds: [], expectsRefusal: false, variants: { base: score('A') } };
    expect(modelPreferences([baseOnly], ctx)).toEqual([]);
  });

  it('refuses a margin outside 0..1', () => {
    expect(() => modelPreferences([], { ...ctx, margin: 1.5 })).toThrow('margin must be between 0 and 1, got 1.5');
  });
});
