import { SeedImportError } from './errors';
import { clauseMatcher, importInstructLabQna, looksLikeInstructLabQna, parseInstructLabQna, stemWord } from './instructlab';
import { parseDocument } from './parse';
import { checkSeeds, importSeedsWithReport, SeedsJsonl, seedsFormat } from './seed-sources';

const tree = parseDocument(
  [
    '# Travel and Expenses',
    '',
    '## 1. Booking',
    '',
    '**1.1** Staff must book flights through the approved travel agency at least fourteen days before departure.',
    '',
    '**1.2** Business class is permitted only on flights longer than eight hours.',
    '',
    '## 2. Claims',
    '',
    '**2.1** Expense claims must be submitted within thirty days, with an itemised receipt for every item above $25.',
    '',
    '**2.2** Alcohol is never reimbursed.',
    '',
  ].join('\n'),
  { documentId: 'travel' },
);
const idOf = (n: string): string => tree.clauses.find((c) => c.numbering === n)?.id as string;

const knowledge = `version: 3
domain: corporate travel
created_by: a-contributor
seed_examples:
  - context: |
      Staff must book flights through the approved travel agency at least
      fourteen days before departure. Business class is permitted only on
      flights longer than eight hours.
    questions_and_answers:
      - question: How early must flights be booked?
        answer: At least fourteen days before departure, through the approved travel agency.
      - question: When may staff fly business class?
        answer: Only on flights longer than eight hours.
      - question: Who won the 1998 football world cup?
        answer: France.
  - context: |
      Expense claims must be submitted within thirty days, with an itemised
      receipt for every item above $25.
    questions_and_answers:
      - question: What is the deadline?
        answer: Claims go in within thirty days.
document_outline: The travel and expenses rules of a company.
document:
  repo: https://example.org/travel-docs.git
  commit: 0123456789abcdef
  patterns:
    - travel.md
`;

const skill = `version: 2
task_description: Answer questions about expense rules.
created_by: a-contributor
seed_examples:
  - question: Is a bottle of wine with a client dinner reimbursed?
    answer: No. Alcohol is never reimbursed.
  - context: |
      A receipt for a $40 taxi ride was lost. The claim is submitted after
      ten days.
    question: Can this taxi ride be claimed?
    answer: Not without an itemised receipt, which every item above $25 needs.
`;

describe('parseInstructLabQna', () => {
  it('reads a knowledge file (version 3): one pair per question and answer, with its passage', () => {
    const { kind, pairs } = parseInstructLabQna(knowledge);
    expect(kind).toBe('knowledge');
    expect(pairs).toHaveLength(4);
    expect(pairs[0]).toMatchObject({
      id: '1-1',
      path: 'seed_examples.0.questions_and_answers.0',
      line: 10,
      question: 'How early must flights be booked?',
      answer: 'At least fourteen days before departure, through the approved travel agency.',
    });
    expect(pairs[0]?.context).toMatch(/^Staff must book flights .* eight hours\.$/s);
    expect(pairs[3]).toMatchObject({ id: '2-1', path: 'seed_examples.1.questions_and_answers.0' });
  });

  it('reads a compositional skill (version 2): the context, when there is one, comes before the question', () => {
    const { kind, pairs } = parseInstructLabQna(skill);
    expect(kind).toBe('compositional-skill');
    expect(pairs[0]).toMatchObject({ id: '1', question: 'Is a bottle of wine with a client dinner reimbursed?', context: null });
    expect(pairs[1]?.question).toBe(
      'A receipt for a $40 taxi ride was lost. The claim is submitted after\nten days.\n\nCan this taxi ride be claimed?',
    );
    expect(pairs[1]?.line).toBe(7);
  });

  it('refuses a malformed file, naming the line, the field and the problem', () => {
    const fails = (text: string): SeedImportError => {
      try {
        parseInstructLabQna(text);
      } catch (error) {
        expect(error).toBeInstanceOf(SeedImportError);
        return error as SeedImportError;
      }
      throw new Error('expected a SeedImportError');
    };
    expect(fails('version: 3\ncreated_by: me\ndomain: x\n').message).toMatch(/^seeds line 1: qna\.yaml seed_examples: /);
    expect(fails('version: 2\ncreated_by: me\nseed_examples: many\n').message).toMatch(
      /^seeds line 3: qna\.yaml seed_examples: .*expected array/i,
    );
    expect(fails('version: 2\ncreated_by: me\nseed_examples:\n  - question: Why?\n    answer: 42\n').message).toMatch(
      /^seeds line 5: qna\.yaml seed_examples\.0\.answer: .*expected string/i,
    );
    expect(fails('version: 2\ncreated_by: me\nseed_examples:\n  - question: Why?\n    answer: "  "\n').message).toBe(
      'seeds line 5: qna.yaml seed_examples.0.answer: must not be empty',
    );
    expect(
      fails(
        'version: 3\ncreated_by: me\nseed_examples:\n  - context: text\n    questions_and_answers:\n      - question: Q?\n        answer:\n',
      ).message,
    ).toMatch(/^seeds line 7: qna\.yaml seed_examples\.0\.questions_and_answers\.0\.answer: /);
    expect(fails('version: 3\ncreated_by: me\nseed_examples:\n  - question: Q?\n    answer: A.\n').message).toMatch(
      /qna\.yaml seed_examples\.0\.context: /,
    );
    expect(fails('version: 7\ncreated_by: me\nseed_examples: []\n').message).toBe(
      'seeds line 1: qna.yaml version: expected 3 (knowledge) or 2 (compositional skill), got 7',
    );
    expect(fails('version: 2\nseed_examples:\n  - question: Q?\n    answer: A.\n').message).toMatch(/qna\.yaml created_by: /);
    expect(fails('version: 2\ncreated_by: me\nseed_examples:\n  - question: "Q?\n').message).toMatch(/not valid YAML/);
    expect(fails('version: 2\ncreated_by: me\nseed_examples: []\n').message).toMatch(/needs at least one seed example/);
  });
});

describe('importInstructLabQna', () => {
  it('turns each knowledge pair into a Q&A seed linked to the clauses it matches, and reports a pair that matches none', () => {
    const { examples, report } = importInstructLabQna(knowledge, tree);
    expect(examples.map((e) => e.clauseRefs)).toEqual([['1.1'], ['1.2'], ['2.1']]);
    expect(examples[0]).toMatchObject({
      id: 'seed-travel-qna-1-1',
      kind: 'qa',
      source: 'seed',
      label: null,
      question: 'How early must flights be booked?',
      answer: 'At least fourteen days before departure, through the approved travel agency.',
      clauseIds: [idOf('1.1')],
    });
    expect(report).toEqual({
      format: 'instructlab-knowledge',
      read: 4,
      kept: 3,
      dropped: { 'no-matching-clause': 1 },
      droppedPairs: [
        {
          path: 'seed_examples.0.questions_and_answers.2',
          line: 14,
          question: 'Who won the 1998 football world cup?',
          reason: 'no-matching-clause',
        },
      ],
    });
  });

  it('turns a compositional skill into Q&A seeds, with and without context', () => {
    const { examples, report } = importInstructLabQna(skill, tree);
    expect(report).toMatchObject({ format: 'instructlab-compositional-skill', read: 2, kept: 2, dropped: {} });
    expect(examples[0]).toMatchObject({ kind: 'qa', clauseRefs: ['2.2'], answer: 'No. Alcohol is never reimbursed.' });
    expect(examples[1]?.question).toMatch(/^A receipt for a \$40 taxi ride .*\n\nCan this taxi ride be claimed\?$/s);
    expect(examples[1]?.clauseRefs).toEqual(['2.1']);
  });
});

describe('clauseMatcher', () => {
  it('needs shared content words, not stop words', () => {
    const match = clauseMatcher(tree);
    expect(match('What is the answer to this, and where are they?')).toEqual([]);
    expect(match('receipts for items above $25').map((c) => c.numbering)).toEqual(['2.1']);
  });

  it('folds word forms, so that a paraphrase still matches', () => {
    expect(['approval', 'approved', 'approve', 'writing', 'written', 'days', 'business'].map(stemWord)).toEqual([
      'approv',
      'approv',
      'approv',
      'writ',
      'writ',
      'day',
      'business',
    ]);
    expect(clauseMatcher(tree)(['Within eight hours?', 'Business class flights']).map((c) => c.numbering)).toEqual(['1.2']);
  });
});

describe('seeds in either format', () => {
  it('tells a qna.yaml from JSON lines by content', () => {
    expect(looksLikeInstructLabQna(knowledge)).toBe(true);
    expect(looksLikeInstructLabQna('# a comment\n---\nversion: 2\n')).toBe(true);
    expect(looksLikeInstructLabQna('{"id":"s1"}\n')).toBe(false);
    expect(seedsFormat('not json at all')).toBe('jsonl');
    expect(seedsFormat(skill)).toBe('instructlab-qna');
  });

  it('checks both formats without a document, and imports both with a report', () => {
    expect(checkSeeds(knowledge)).toBe('instructlab-qna');
    expect(SeedsJsonl.safeParse(skill).success).toBe(true);
    const bad = SeedsJsonl.safeParse('version: 2\ncreated_by: me\nseed_examples:\n  - question: Q?\n');
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toMatch(/^seeds line 4: qna\.yaml seed_examples\.0\.answer: /);

    const jsonl = JSON.stringify({ id: 's1', kind: 'qa', question: 'Is wine reimbursed?', answer: 'No (§2.2).', clause_refs: ['2.2'] });
    expect(importSeedsWithReport(jsonl, tree).report).toEqual({ format: 'jsonl', read: 1, kept: 1, dropped: {}, droppedPairs: [] });
    expect(importSeedsWithReport(skill, tree).examples).toHaveLength(2);
  });
});
