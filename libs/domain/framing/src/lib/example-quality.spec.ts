// Quality of the template-generated examples of the shipped example context
// (examples/northwind-conduct): checks written independently of the generator's own filters.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateExamplesWithReport } from './generate';
import { parseDocument } from './parse';
import { extractStatements } from './statements';
import { ContextValues } from './values';

const dir = join(__dirname, '..', '..', '..', '..', '..', 'examples', 'northwind-conduct');
const read = (file: string): string => readFileSync(join(dir, file), 'utf8');

/** Template openers whose "it" is not a reference ("Is it mandatory …", "It is not known …"). */
const EXPLETIVE_IT = /\b(?:is it|it is|would it|was it|if it helped|assuming it was)\b/gi;

describe('example context: quality of the generated examples', () => {
  const values = ContextValues.parse(JSON.parse(read('values.json')));
  const tree = parseDocument(read('policy.md'), { documentId: 'northwind-bcg' });
  const statements = extractStatements(tree);
  const { examples, report } = generateExamplesWithReport(tree, statements, { seed: 20240314, values });
  const templated = examples.filter((e) => e.source === 'template');

  it('prints what quality filtering dropped and changed', () => {
    console.log(
      `northwind-conduct examples: ${examples.length} kept (${templated.length} from templates) of ${report.drafts} template drafts; ` +
        `dropped ${report.droppedDanglingReference} with a dangling reference, ${report.droppedDuplicate} duplicates; ` +
        `${report.resolvedReferences} statements had a reference resolved from their clause`,
    );
    expect(report.drafts).toBe(templated.length + report.droppedDanglingReference + report.droppedDuplicate);
    expect(templated.length).toBeGreaterThan(600);
  });

  it('has no doubled words', () => {
    const doubled = examples.flatMap((e) => [e.question, e.answer]).filter((t) => /\b([A-Za-z]+)\s+\1\b/i.test(t));
    expect(doubled).toEqual([]);
  });

  it('starts every question with a capital and ends it with "?"', () => {
    expect(examples.filter((e) => !/^[A-Z"]/.test(e.question)).map((e) => e.question)).toEqual([]);
    expect(examples.filter((e) => !/\?\s*$/.test(e.question)).map((e) => e.question)).toEqual([]);
  });

  it('asks no question that refers to something it does not name', () => {
    const offending = templated
      .map((e) => e.question)
      .filter((q) => {
        if (/\b(?:that|such|this) (?:an? )?(?:period|request|persons|messages)\b/i.test(q)) return true;
        if (/\bany of these questions\b/i.test(q)) return true;
        // "explain why they are making it": an "it" with no non-person thing named in the question.
        const rest = q.replace(EXPLETIVE_IT, ' ');
        return /\bmaking it\b/.test(rest) || (/\bestimate its\b/.test(rest) && !/\ba Gift\b/.test(rest));
      });
    expect(offending).toEqual([]);
  });

  it('renders no condition with a doubled connective or a double negation', () => {
    const texts = examples.flatMap((e) => [e.question, e.answer]);
    expect(texts.filter((t) => /\bonly (?:only|if only|when only)\b/i.test(t))).toEqual([]);
    expect(texts.filter((t) => /\bwhether [^.?]*\b(?:is|are) not known\b/i.test(t))).toEqual([]);
  });

  it('cites a clause number in every reference answer', () => {
    expect(examples.filter((e) => !/§\s*\d/.test(e.answer)).map((e) => e.answer)).toEqual([]);
    const citations = new Map(tree.clauses.map((c) => [c.id, c.citation]));
    for (const e of templated) expect(e.answer).toContain(`(${citations.get(e.clauseIds[0] as string) as string})`);
  });
});
