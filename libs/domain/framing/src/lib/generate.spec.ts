import { citedRefs } from './citation';
import { contradict, documentExampleScenario, documentName, generateExamples, generateExamplesWithReport, renderActor } from './generate';
import { Clause, DocumentTree, Example } from './model';
import { seededRandom } from './prng';
import { parseDocument } from './parse';
import { extractStatements } from './statements';
import { normaliseQuestion } from './text';
import { ContextValues } from './values';

const DOC = `# Policy

## 1. Gifts

**1.1** Employees may accept gifts up to $100.

**1.2** Employees must not accept any gift above $500 unless the Ethics Office has approved it in writing.

**1.3** Employees must record every gift in the register.

**1.4** Employees are not required to record promotional items.

**1.5** "Gift" means anything of value given without charge.

**1.6** The thresholds do not apply to gifts between colleagues.

**1.7** Cash gifts are prohibited.

> **Q&A**
> **Q:** Can I keep a $60 bottle of wine?
> **A:** Yes. It is under the limit (§1.1), but record it (§1.3).
`;

const VALUES = ContextValues.parse({
  context: { id: 'c', name: 'C', documents: [{ id: 'p', path: 'p.md', mediaType: 'text/markdown' }] },
  values: [
    { name: 'legal_compliance', priority: 1, description: 'law', sections: ['1'] },
    { name: 'helpfulness', priority: 2, description: 'help', sections: [] },
  ],
  audit: { min_aligned_correctness: 0.8, min_faithfulness: 0.8, max_benign_refusal_rate: 0.1 },
});

describe('generateExamples', () => {
  const tree = parseDocument(DOC, { documentId: 'p' });
  const statements = extractStatements(tree);
  const examples = generateExamples(tree, statements, { seed: 42, values: VALUES, qaPerStatement: 3, scenariosPerStatement: 3 });
  const clauseIds = new Set(tree.clauses.map((c) => c.id));

  it('is deterministic for a seed and varies with the seed', () => {
    expect(generateExamples(tree, statements, { seed: 42, values: VALUES, qaPerStatement: 3, scenariosPerStatement: 3 })).toEqual(examples);
    const other = generateExamples(tree, statements, { seed: 43, values: VALUES, qaPerStatement: 3, scenariosPerStatement: 3 });
    expect(other.map((e) => e.question)).not.toEqual(examples.map((e) => e.question));
  });

  it('produces valid examples that cite existing clauses in their answers', () => {
    for (const e of examples) {
      expect(() => Example.parse(e)).not.toThrow();
      expect(e.clauseIds.every((id) => clauseIds.has(id))).toBe(true);
      expect(e.clauseRefs.some((ref) => e.answer.includes(`§${ref}`))).toBe(true);
      if (e.source === 'template') expect(e.answer).toContain(`(§${e.clauseRefs[0]})`);
      expect(e.values).toEqual(['legal_compliance']);
    }
  });

  it('covers every statement kind with Q&A and labels scenarios compliant, violating and ambiguous', () => {
    const kinds = new Set(examples.filter((e) => e.kind === 'qa').map((e) => e.statementKind));
    expect(kinds).toEqual(new Set(['permission', 'prohibition', 'obligation', 'definition', 'exception', null]));
    const labels = new Set(examples.filter((e) => e.kind === 'scenario').map((e) => e.label));
    expect(labels).toEqual(new Set(['compliant', 'violating', 'ambiguous']));
  });

  it('uses different templates for one statement, so questions are not duplicates', () => {
    const keys = examples.map((e) => normaliseQuestion(e.question));
    expect(new Set(keys).size).toBe(keys.length);
    const forGiftLimit = examples.filter((e) => e.clauseRefs[0] === '1.2' && e.kind === 'qa');
    expect(forGiftLimit.length).toBeGreaterThanOrEqual(3);
    const openings = new Set(forGiftLimit.map((e) => e.question.split(' ').slice(0, 2).join(' ')));
    expect(openings.size).toBeGreaterThanOrEqual(2);
  });

  it('grounds the answer in the clause and makes the rejected answer contradict it', () => {
    const prohibitionQa = examples.filter((e) => e.statementKind === 'prohibition' && e.kind === 'qa');
    expect(prohibitionQa.length).toBeGreaterThan(0);
    for (const e of prohibitionQa) {
      // the reference answer restates the prohibition; the rejected one never does
      expect(e.answer).toMatch(/must not|are prohibited/);
      expect(e.rejected).not.toMatch(/must not|prohibited/);
      expect(e.rejected).toMatch(/^Yes|no rule|without exception|allowed|acceptable|permit/);
    }
    const exceptionAware = examples.find((e) => e.clauseRefs[0] === '1.2' && e.kind === 'scenario' && e.label === 'ambiguous');
    expect(exceptionAware?.question).toMatch(/It is not known whether the Ethics Office has approved it in writing/);
    expect(exceptionAware?.answer).toMatch(/more information is needed/);
    const definition = examples.find((e) => e.statementKind === 'definition');
    expect(definition?.answer).toBe('"Gift" means anything of value given without charge (§1.5).');
  });

  it('turns Q&A call-outs into examples citing the call-out and the clauses it references', () => {
    const callout = examples.find((e) => e.source === 'callout');
    expect(callout?.question).toBe('Can I keep a $60 bottle of wine?');
    expect(callout?.clauseRefs).toEqual(['1.q1', '1.1', '1.3']);
    expect(callout?.rejected).toBe(contradict('Yes.'));
    expect(callout?.rejected).toBe('No. The rules do not allow this.');
  });

  it('rejects statements that point to clauses outside the document', () => {
    const stray = { ...(statements[0] as (typeof statements)[number]), clauseId: 'other:1:000000000000' };
    expect(() => generateExamples(tree, [stray], { seed: 1 })).toThrow(/not in document p/);
  });
});

describe('citedRefs', () => {
  it('reads section references, including lettered sub-clauses', () => {
    expect(citedRefs('See (§3.2.1), §3.1.4(b) and § 2.10; also §3.1.4.a and §3.2.1 again.')).toEqual([
      '3.2.1',
      '3.1.4(b)',
      '2.10',
      '3.1.4(a)',
    ]);
  });
});

describe('scenarios from the context', () => {
  const tree = parseDocument(DOC, { documentId: 'p' });
  const statements = extractStatements(tree);
  const { examples, report } = generateExamplesWithReport(tree, statements, { seed: 42, qaPerStatement: 3, scenariosPerStatement: 3 });

  it('puts only the actors the statements bind in scenarios, with no name, role or place of its own', () => {
    const scenarios = examples.filter((e) => e.kind === 'scenario' && e.source === 'template');
    expect(scenarios.length).toBeGreaterThan(3);
    // Every statement of DOC binds "Employees": every scenario is about an employee, and names nothing else.
    for (const e of scenarios) expect(e.question).toMatch(/^An employee (?!,)/);
    // Any capitalised word inside a scenario (a name, a place, an organisation) is one the document uses.
    const named = scenarios.flatMap((e) => e.question.match(/(?<=[a-z,;]\s)[A-Z][\w-]*/g) ?? []);
    expect(named.filter((w) => !DOC.includes(w))).toEqual([]);
  });

  it('calls the document "the rules" when its title is no usable name, and never "company policy" or "the guidelines"', () => {
    const text = examples.flatMap((e) => [e.question, e.answer, e.rejected ?? '']).join('\n');
    expect(text).not.toMatch(/company policy|the guidelines|conduct guidelines/i);
    expect(text).toMatch(/the rules/);
  });

  it('conjugates with compromise: past-tense facts in scenarios, "did not" for the violation', () => {
    const recorded = examples.find((e) => e.kind === 'scenario' && /^An employee recorded every gift in the register\./.test(e.question));
    expect(recorded?.label).toBe('compliant');
    const violating = examples.find((e) => e.label === 'violating' && /did not record every gift/.test(e.question));
    expect(violating?.answer).toMatch(/^No, this violates the rules/);
  });

  it('reports drafts, kept and dropped by reason, and the well-formedness rate', () => {
    const dropped = Object.values(report.dropped).reduce((a, b) => a + b, 0);
    expect(report.drafts).toBe(report.kept + dropped);
    expect(report.kept).toBe(examples.length);
    expect(report.wellFormedRate).toBeCloseTo(report.wellFormed / report.drafts);
    expect(Object.keys(report.dropped).sort()).toEqual(
      [
        'cut-abbreviation',
        'dangling-reference',
        'duplicate',
        'fragment',
        'glued-opener',
        'modal-or-number-subject',
        'not-a-question',
      ].sort(),
    );
  });
});

describe('documentName', () => {
  it.each([
    ['Northwind Dynamics Business Conduct Guidelines', 'the Northwind Dynamics Business Conduct Guidelines'],
    ['The Travel Rules', 'the Travel Rules'],
    ['Code of Conduct', 'the rules'],
    ['CFR Part 164, Subpart E — Privacy of Individually Identifiable Health Information', 'the rules'],
    [null, 'the rules'],
  ])('%s → %s', (title, name) => {
    expect(documentName(title)).toBe(name);
  });
});

describe('renderActor', () => {
  it.each([
    ['A covered entity', 'a covered entity', 'a covered entity'],
    ['Employees', 'employees', 'an employee'],
    ['In accordance with § 164.514(f)(1), the covered entity', 'the covered entity', 'a covered entity'],
    ['Implementation specifications: Training. (i) A covered entity', 'a covered entity', 'a covered entity'],
    [
      'A covered entity that has agreed to a restriction',
      'a covered entity that has agreed to a restriction',
      'a covered entity that has agreed to a restriction',
    ],
  ])('%s → %s / %s', (raw, np, one) => {
    expect(renderActor(raw)).toEqual({ np, one });
  });

  it.each([
    'A person who',
    'a statement that the covered entity',
    'the covered entity reasonably believes the personal representative',
    'Nothing in this paragraph',
    null,
  ])('%s renders no actor', (raw) => {
    expect(renderActor(raw)).toBeNull();
  });
});

describe("the document's own worked examples and notes", () => {
  // A clause as the parser makes it, so that the hand-built ones carry every field the model has.
  const parsed = parseDocument('# Gifts\n\n## 1. Gifts\n\n**1.1** An employee may accept small gifts.\n', { documentId: 'd' })
    .clauses[0] as Clause;
  const parent: Clause = {
    ...parsed,
    id: 'd:1.b:000000000001',
    numbering: '1.b',
    kind: 'paragraph',
    numbered: true,
    parentId: null,
    text: 'An employee may accept unsolicited gifts having an aggregate market value of $20 or less per source per occasion.',
  };
  const example = (n: number, text: string, kind: Clause['kind'] = 'example'): Clause => ({
    ...parent,
    id: `d:1.b.x${n}:00000000000${n}`,
    numbering: `1.b.x${n}`,
    kind,
    numbered: false,
    parentId: parent.id,
    text,
    lineStart: 4 + n,
    lineEnd: 4 + n,
  });
  const cases = {
    may: example(1, 'Example 1 to paragraph (b): A contractor offers an employee a pen worth $10. The employee may accept the pen.'),
    wouldViolate: example(
      2,
      'Example 2 to paragraph (b): An employee is offered concert tickets worth $300 by a contractor. Accepting the tickets would violate this section.',
    ),
    wouldNot: example(
      3,
      'Example 3 to paragraph (b): An employee receives a $15 book from a publisher. Keeping the book would not violate this section.',
    ),
    depends: example(
      4,
      'Note to paragraph (b): A relative asks a covered entity for an X-ray. The answer depends on whether the relative is involved in the care.',
      'note',
    ),
    undecided: example(5, 'Example 5 to paragraph (b): An employee attends a trade fair in June. The fair is held every year.'),
    mixed: example(
      6,
      'Example 6 to paragraph (b): An employee is offered two gifts. She may accept the pen but may not accept the tickets.',
    ),
    hypothetical: example(
      7,
      'Example 7 to paragraph (b): An employee is offered lunch. If the lunch were worth $50, she could not accept it.',
    ),
  };

  it.each([
    ['may', 'compliant', /^Yes, this is consistent with the rules\. The employee may accept the pen\. \(§1\.b\)$/],
    ['wouldViolate', 'violating', /^No, this would violate the rules\. Accepting the tickets would violate this section\. \(§1\.b\)$/],
    ['wouldNot', 'compliant', /^Yes, this is consistent with the rules\./],
    ['depends', 'ambiguous', /^It depends, and more information is needed\. The answer depends on/],
  ] as const)('%s → %s', (key, label, answer) => {
    const made = documentExampleScenario(cases[key], 'the rules', '(§1.b)', seededRandom(1));
    if (!('draft' in made)) throw new Error(`expected a scenario, got: ${made.undecided}`);
    expect(made.draft.label).toBe(label);
    expect(made.draft.answer).toMatch(answer);
    expect(made.draft.question).not.toMatch(/^Example|^Note/);
    expect(made.draft.question).toMatch(/\?$/);
  });

  it.each(['undecided', 'mixed', 'hypothetical'] as const)('leaves %s out rather than guess a label', (key) => {
    expect(documentExampleScenario(cases[key], 'the rules', '(§1.b)', seededRandom(1))).toHaveProperty('undecided');
  });

  it('makes them scenario items linked to their clause, and counts those left out', () => {
    const tree: DocumentTree = {
      documentId: 'd',
      mediaType: 'text/markdown',
      title: null,
      sha256: '0'.repeat(64),
      lineCount: 12,
      sections: [],
      clauses: [parent, ...Object.values(cases)],
    };
    const { examples, report } = generateExamplesWithReport(tree, [], { seed: 3 });
    expect(report.documentExamples).toEqual({ found: 7, used: 4, undecided: 3 });
    const fromDocument = examples.filter((e) => e.source === 'document-example');
    expect(fromDocument.map((e) => e.label).sort()).toEqual(['ambiguous', 'compliant', 'compliant', 'violating']);
    for (const e of fromDocument) {
      expect(e.kind).toBe('scenario');
      expect(e.clauseIds[0]).toBe(parent.id);
      expect(e.clauseRefs[0]).toBe('1.b');
      expect(e.clauseIds).toHaveLength(2);
    }
  });
});
