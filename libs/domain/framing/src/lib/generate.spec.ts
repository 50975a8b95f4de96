import { citedRefs } from './citation';
import { contradict, generateExamples } from './generate';
import { Example } from './model';
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
