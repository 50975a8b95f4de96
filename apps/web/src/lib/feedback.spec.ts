import type { CompareView } from './compare';
import { EMPTY_JUDGEMENT, feedbackBody, pairProblem, shortcutOf, shuffledPair, type JudgedComparison, type ShownAnswer } from './feedback';

const comparison: CompareView = {
  sides: [
    { variant: 'base', answer: 'Yes, go ahead.', scores: {} },
    { variant: 'aligned', answer: 'No: only with consent (§4.2).', scores: {} },
    { variant: 'aligned_rag', answer: 'No (§4.2).', scores: {} },
  ],
  bucket: null,
  retrieved: [],
  reference: null,
  question: 'May I share an address?',
};

const judged = (pair: [ShownAnswer, ShownAnswer], heldOut = false): JudgedComparison => ({
  question: 'May I share an address?',
  systemPrompt: 'You answer questions about the rules.',
  pair,
  retrievedClauseIds: ['c-4.2'],
  heldOutItem: heldOut ? { id: 'ho-1', clauseIds: ['c-4.2', 'c-4.3'] } : null,
  runId: 'run-1',
  datasetVersionId: 'ds-1',
});

describe('shuffledPair', () => {
  it('puts the pair in a random order, A first', () => {
    expect(shuffledPair(comparison, 'base-aligned', () => 0.1)).toEqual([
      { source: 'base', text: 'Yes, go ahead.' },
      { source: 'aligned', text: 'No: only with consent (§4.2).' },
    ]);
    expect(shuffledPair(comparison, 'base-aligned', () => 0.9)).toEqual([
      { source: 'aligned', text: 'No: only with consent (§4.2).' },
      { source: 'base', text: 'Yes, go ahead.' },
    ]);
  });

  it('says when the comparison lacks one side (no reference without a held-out item)', () => {
    expect(shuffledPair(comparison, 'reference-aligned', () => 0.1)).toMatch(/no reference answer/);
    const withReference = shuffledPair({ ...comparison, reference: 'Only with consent.' }, 'reference-aligned', () => 0.1);
    expect(withReference).toEqual([
      { source: 'reference', text: 'Only with consent.' },
      { source: 'aligned', text: 'No: only with consent (§4.2).' },
    ]);
  });
});

describe('pairProblem', () => {
  it('refuses an empty answer and the same answer twice', () => {
    expect(
      pairProblem([
        { source: 'base', text: ' ' },
        { source: 'aligned', text: 'x' },
      ]),
    ).toMatch(/answer A is empty/);
    expect(
      pairProblem([
        { source: 'base', text: 'same' },
        { source: 'aligned', text: 'same ' },
      ]),
    ).toMatch(/the same/);
    expect(
      pairProblem([
        { source: 'base', text: 'a' },
        { source: 'aligned', text: 'b' },
      ]),
    ).toBeNull();
  });
});

describe('feedbackBody', () => {
  const pair: [ShownAnswer, ShownAnswer] = [
    { source: 'aligned_rag', text: 'No (§4.2).' },
    { source: 'base', text: 'Yes, go ahead.' },
  ];

  it('needs a choice', () => {
    expect(feedbackBody(judged(pair), EMPTY_JUDGEMENT)).toMatch(/choose the better answer/);
  });

  it('sends the answers as shown, the choice, the retrieved clauses of a RAG answer and where they came from', () => {
    const body = feedbackBody(judged(pair, true), { ...EMPTY_JUDGEMENT, choice: 0, explanation: '  cites the rule ', values: ['privacy'] });
    expect(body).toEqual({
      prompt: 'May I share an address?',
      systemPrompt: 'You answer questions about the rules.',
      retrievedClauseIds: ['c-4.2'],
      clauseIds: ['c-4.2', 'c-4.3'],
      answers: ['No (§4.2).', 'Yes, go ahead.'],
      choice: 0,
      explanation: 'cites the rule',
      values: ['privacy'],
      origin: { runId: 'run-1', datasetVersionId: 'ds-1', exampleId: 'ho-1' },
    });
  });

  it('sends no retrieved clauses when neither answer used them', () => {
    const plain = feedbackBody(
      judged([
        { source: 'base', text: 'a' },
        { source: 'aligned', text: 'b' },
      ]),
      { ...EMPTY_JUDGEMENT, choice: 1 },
    );
    expect(plain).toMatchObject({ retrievedClauseIds: [], clauseIds: [], choice: 1 });
    expect(plain).not.toHaveProperty('explanation');
  });

  it('sends an edit only when it changes the chosen answer, and refuses an empty one or the rejected answer', () => {
    const choice = { ...EMPTY_JUDGEMENT, choice: 0 as const };
    expect(feedbackBody(judged(pair), { ...choice, edited: 'No: only with consent (§4.2).' })).toMatchObject({
      editedChosen: 'No: only with consent (§4.2).',
    });
    expect(feedbackBody(judged(pair), { ...choice, edited: 'No (§4.2).' })).not.toHaveProperty('editedChosen');
    expect(feedbackBody(judged(pair), { ...choice, edited: '  ' })).toMatch(/edited answer is empty/);
    expect(feedbackBody(judged(pair), { ...choice, edited: 'Yes, go ahead.' })).toMatch(/is the rejected answer/);
  });

  it('refuses a pair that cannot be judged', () => {
    expect(feedbackBody(judged([pair[0], { source: 'base', text: 'No (§4.2).' }]), { ...EMPTY_JUDGEMENT, choice: 0 })).toMatch(/the same/);
  });
});

describe('shortcutOf', () => {
  const key = (k: string, target: { tagName?: string; type?: string } | null = { tagName: 'BODY' }, mods = {}) =>
    shortcutOf({ key: k, ctrlKey: false, metaKey: false, altKey: false, target, ...mods });

  it('maps the labelling keys on the page', () => {
    expect(['1', '2', 'e', 'x', 'v', 'Enter', 'n', 'q'].map((k) => key(k))).toEqual([
      'choose-a',
      'choose-b',
      'edit',
      'explain',
      'values',
      'submit',
      'next',
      null,
    ]);
  });

  it('leaves typing alone, where Ctrl+Enter submits; leaves modified keys and Enter on a button alone', () => {
    expect(key('e', { tagName: 'TEXTAREA' })).toBeNull();
    expect(key('1', { tagName: 'INPUT', type: 'text' })).toBeNull();
    expect(key('Enter', { tagName: 'TEXTAREA' }, { ctrlKey: true })).toBe('submit');
    expect(key('1', { tagName: 'BODY' }, { ctrlKey: true })).toBeNull();
    expect(key('Enter', { tagName: 'BUTTON' })).toBeNull();
    expect(key('2', { tagName: 'INPUT', type: 'checkbox' })).toBe('choose-b');
    expect(key('Enter', { tagName: 'INPUT', type: 'checkbox' })).toBe('submit');
  });
});
