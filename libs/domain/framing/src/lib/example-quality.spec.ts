// Quality of the generated examples of the shipped example context (examples/northwind-conduct)
// and of a real regulation (the HIPAA Privacy Rule corpus beside the repository): checks written
// independently of the generator's own filters.
import nlp from 'compromise';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { documentName, generateExamplesWithReport } from './generate';
import { Example } from './model';
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
    console.log(describeReport('northwind-conduct', examples.length, report));
    const dropped = Object.values(report.dropped).reduce((a, b) => a + b, 0);
    expect(report.drafts).toBe(examples.length + dropped);
    expect(report.kept).toBe(examples.length);
    expect(report.wellFormedRate).toBeGreaterThanOrEqual(0.95);
    expect(templated.length).toBeGreaterThan(500);
  });

  it('names the document as it names itself, and no one it does not name', () => {
    const name = documentName(tree.title);
    expect(name).not.toBe('the rules');
    // Apart from the document's own name and its own sentences, no "company policy" or "conduct guidelines" wording.
    const policy = read('policy.md').replace(/\s+/g, ' ');
    const own = examples
      .flatMap((e) => [e.question, e.answer, e.rejected ?? ''])
      .join('\n')
      .split(name.replace(/^the /, ''))
      .join(' ')
      .match(/[^.?;\n]{0,40}(?:company policy|conduct guidelines)/gi);
    expect((own ?? []).filter((phrase) => !policy.includes(phrase.trim().replace(/^(?:an?y?|the)\s+/i, '')))).toEqual([]);
    expect(foreignNames(examples, read('policy.md'))).toEqual([]);
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

/** The figures a data report shows, in one line. */
function describeReport(name: string, kept: number, report: ReturnType<typeof generateExamplesWithReport>['report']): string {
  const dropped = Object.entries(report.dropped)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
  return (
    `${name}: ${kept} examples kept of ${report.drafts} drafts; well-formed ${(report.wellFormedRate * 100).toFixed(1)} % before dropping; ` +
    `dropped: ${dropped || 'none'}; statements not rendered: ${JSON.stringify(report.notRendered)}; ` +
    `document examples: ${JSON.stringify(report.documentExamples)}`
  );
}

/**
 * People, places, organisations and roles named in the examples that the document does not name:
 * compromise finds people, places and organisations; roles are the words it tags as actors
 * ("employee", "engineer", "manager") and the subject of every scenario (the words before its
 * first verb). Each must occur in the document (case-insensitively, singular or plural).
 */
function foreignNames(examples: readonly Example[], document: string): string[] {
  // Both sides without punctuation: "Drug Administration (FDA)" is found in "… Food and Drug Administration (FDA) …".
  const plain = (text: string): string =>
    text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s'-]/gu, ' ')
      .replace(/\s+/g, ' ')
      .trim();
  const doc = plain(document);
  const inDocument = (phrase: string): boolean => {
    const p = plain(phrase);
    if (!p) return true;
    const singular = nlp(p).nouns().toSingular().text().toLowerCase();
    return doc.includes(p) || (singular.length > 0 && doc.includes(singular)) || (p.endsWith('s') && doc.includes(p.slice(0, -1)));
  };
  const found = new Set<string>();
  for (const e of examples) {
    for (const text of [e.question, e.answer]) {
      const d = nlp(text);
      for (const name of [...d.people().out('array'), ...d.places().out('array'), ...d.organizations().out('array')] as string[]) {
        if (!inDocument(name)) found.add(name);
      }
      // Role nouns: terms compromise tags as actors both in the sentence and in its lexicon ("employee", "manager").
      for (const actor of d.match('#Actor').not('#ProperNoun').out('array') as string[]) {
        const word = actor.replace(/[^\p{L}'-]/gu, '');
        if (word && nlp(word.toLowerCase()).has('#Actor') && !inDocument(word)) found.add(word);
      }
    }
    if (e.kind === 'scenario' && e.source === 'template') {
      for (const role of scenarioRoles(e.question)) if (!inDocument(role)) found.add(role);
    }
  }
  return [...found].sort();
}

/**
 * Who a scenario is about: its opening noun phrase, up to the first verb (past forms included) or
 * comma ("A covered entity disclosed …" → "covered entity"), and an appositive after that comma up to
 * its first preposition ("Priya, a sales engineer in the Lyon office, …" → "Priya", "sales engineer").
 */
function scenarioRoles(question: string): string[] {
  const terms = nlp(question).terms().json() as Array<{ text: string; terms: Array<{ normal: string; tags: string[] }> }>;
  const phrases: string[][] = [[]];
  let commas = 0;
  for (const t of terms) {
    const term = t.terms[0];
    const current = phrases[phrases.length - 1] as string[];
    const isVerb = term !== undefined && (term.tags.includes('Verb') || term.tags.includes('Adverb') || /ed$/.test(term.normal));
    const isPreposition = term !== undefined && term.tags.includes('Preposition');
    if (commas === 0 && isVerb) break;
    if (commas === 1 && (isVerb || isPreposition)) break;
    current.push(t.text.replace(/[,;:]$/, ''));
    if (/,$/.test(t.text)) {
      commas += 1;
      if (commas > 1) break;
      phrases.push([]);
    }
  }
  return phrases
    .map((p) =>
      p
        .join(' ')
        .replace(/^(?:an?|the)\s+/i, '')
        .trim(),
    )
    .filter(Boolean);
}

/** The HIPAA corpus kept in the repository (bench/corpora/hipaa-privacy, a copy of the public-domain development corpus). */
function hipaaCorpus(): string {
  const path = resolve(__dirname, '..', '..', '..', '..', '..', 'bench', 'corpora', 'hipaa-privacy', '45cfr164-subpart-e.md');
  if (!existsSync(path)) throw new Error(`the HIPAA corpus is missing: looked for ${path}`);
  return readFileSync(path, 'utf8');
}

describe('HIPAA Privacy Rule corpus: generated examples name only what the regulation supplies', () => {
  const text = hipaaCorpus();
  const tree = parseDocument(text, { documentId: 'hipaa-privacy' });
  const statements = extractStatements(tree);
  const { examples, report } = generateExamplesWithReport(tree, statements, { seed: 20240314 });

  it('generates examples, at least 95 % of the drafts well-formed before the gate drops any', () => {
    console.log(describeReport('hipaa-privacy', examples.length, report));
    expect(examples.length).toBeGreaterThan(100);
    expect(report.wellFormedRate).toBeGreaterThanOrEqual(0.95);
    expect(new Set(examples.filter((e) => e.kind === 'scenario').map((e) => e.label)).size).toBeGreaterThanOrEqual(2);
  });

  it('names no person, place, organisation or role the regulation does not name', () => {
    expect(foreignNames(examples, text)).toEqual([]);
  });

  it('the check finds the persona, place and role of an invented scenario', () => {
    const invented = Example.parse({
      ...(examples.find((e) => e.kind === 'scenario') as Example),
      question:
        'Priya, a sales engineer in the Lyon office, plans to disclose protected health information. Does this comply with company policy?',
    });
    expect(foreignNames([invented], text)).toEqual(expect.arrayContaining(['Priya', 'Lyon', 'sales engineer']));
  });

  it('never speaks of company policy or guidelines the regulation does not have', () => {
    const all = examples.flatMap((e) => [e.question, e.answer, e.rejected ?? '']).join('\n');
    expect(all).not.toMatch(/company policy|guidelines|the company\b|business conduct/i);
  });

  it('passes every kept example through the gate: questions end with "?", answers cite their clause', () => {
    expect(examples.filter((e) => !/\?\s*$/.test(e.question)).map((e) => e.question)).toEqual([]);
    for (const e of examples.filter((x) => x.source === 'template')) expect(e.answer).toContain(`(§`);
  });
});
