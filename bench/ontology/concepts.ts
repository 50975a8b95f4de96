// The ontology of the example context and of the HIPAA corpus, for a reader to judge.
//   npm run bench:ontology [-- --corpus <folder>] [--seed <n>] [--sample <n>]
// Each document is framed as the product frames it (parseDocument + extractStatements of
// @studio/framing) and its graph built with buildOntology of @studio/ontology. Printed per corpus:
// - concepts by role and relations by type;
// - defined-term recall against the document's own definitions, read here independently of the
//   framer and of the extractor: (1) in every section whose heading says "definitions" (or
//   "glossary", "interpretation"), the leading term of each paragraph — the first quoted, bold or
//   italic span, else the words before "means" / "refers to" / "is defined as" / a colon; (2)
//   anywhere, a sentence whose subject is a short phrase followed by "means", "is defined as" or
//   "refers to" and a definiens (not "means of", "means to"), optionally after "For purposes of …,". A term is found when a concept with the
//   role `term` has its normalised label (or altLabel); the missed terms are listed;
// - a seeded random sample of concepts with their definition, governing clauses and broader concepts.
// A measurement: it exits 0 whatever the figures (2 on bad arguments or missing files).
import '../event-bus/register-paths';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CONCEPT_ROLES, type Concept } from '@studio/contracts';
import { extractStatements, parseDocument, seededRandom, type Clause } from '@studio/framing';
import { buildOntology, conceptId, normaliseLabel, relationCounts, type ExtractedGraph } from '@studio/ontology';

const root = join(__dirname, '..', '..');
function fail(message: string): never {
  console.error(message);
  process.exit(2);
}
function cli(): { corpus?: string; seed?: string; sample?: string } {
  try {
    return parseArgs({ options: { corpus: { type: 'string' }, seed: { type: 'string' }, sample: { type: 'string' } } }).values;
  } catch (e) {
    fail(`${(e as Error).message}\nusage: concepts.ts [--corpus <hipaa corpus folder>] [--seed <n>] [--sample <n>]`);
  }
}
const args = cli();
const seed = Number(args.seed ?? 12);
const sampleSize = Number(args.sample ?? 20);
if (!Number.isInteger(seed)) fail(`--seed must be an integer, got ${args.seed}`);
if (!Number.isInteger(sampleSize) || sampleSize < 0) fail(`--sample must be a non-negative integer, got ${args.sample}`);
const hipaaFolder = resolve(args.corpus ?? join(root, '..', '..', 'shared', 'corpora', 'hipaa-privacy'));
const hipaaFallback = join(root, 'bench', 'corpora', 'hipaa-privacy');
const hipaaFile = [join(hipaaFolder, '45cfr164-subpart-e.md'), join(hipaaFallback, '45cfr164-subpart-e.md')].find((f) => existsSync(f));
if (!hipaaFile) fail(`missing 45cfr164-subpart-e.md in ${hipaaFolder} (give the corpus folder with --corpus)`);
const exampleFile = join(root, 'examples', 'northwind-conduct', 'policy.md');
if (!existsSync(exampleFile)) fail(`missing ${exampleFile}`);

interface DefinedTerm {
  term: string;
  line: number;
  how: 'definitions section' | 'in-text';
}

const PRONOUNS = /^(?:it|this|that|these|those|they|he|she|which|what|there)$/i;
const CUE = String.raw`(?:means|is defined as|are defined as|refers to|shall mean)`;

/** The document's own defined terms, read from the Markdown source without the framer. */
function definedTerms(markdown: string): DefinedTerm[] {
  const lines = markdown.split(/\r?\n/);
  const out: DefinedTerm[] = [];
  const add = (term: string, line: number, how: DefinedTerm['how']): void => {
    const t = term
      .replace(/[*_"“”]/g, '')
      .replace(/\s+/g, ' ')
      .trim();
    if (!t || PRONOUNS.test(t) || t.split(' ').length > 6 || /^\d/.test(t)) return;
    if (!out.some((o) => o.term.toLowerCase() === t.toLowerCase())) out.push({ term: t, line, how });
  };
  let inDefinitions = false;
  lines.forEach((raw, i) => {
    const heading = /^#{1,6}\s+(.*)$/.exec(raw);
    if (heading) {
      inDefinitions = /\b(?:definitions?|glossary|interpretation|meaning of terms)\b/i.test(heading[1] as string);
      return;
    }
    // the line without its leading number or designators ("**2.1**", "(a)", "(*1*)").
    const line = raw.replace(/^\s*(?:[-*+]\s+)?(?:\*\*[\d.]+\*\*\s*|(?:\(\*?[A-Za-z0-9]{1,5}\*?\)\s*)+|\d+(?:\.\d+)*[.)]?\s+)/, '');
    if (inDefinitions && line.trim()) {
      const marked = /^\s*(?:\*\*([^*]+)\*\*|\*([^*]+)\*|["“]([^"”]+)["”])/.exec(line);
      const cue = new RegExp(String.raw`^\s*(?:the term\s+)?(?:an?\s+|the\s+)?([A-Za-z][\w' -]{0,60}?)\s*(?:${CUE}|:|\s[-–—]\s)`, 'i').exec(
        line,
      );
      const term = marked ? (marked[1] ?? marked[2] ?? marked[3]) : cue?.[1];
      if (term) add(term, i + 1, 'definitions section');
      return;
    }
    for (const sentence of line.split(/(?<=[.;])\s+(?=[A-Z(])/)) {
      const m = new RegExp(
        String.raw`^(?:[*(][^,]{0,80}?[*)]\s*)?(?:(?:for (?:the )?purposes? of|as used in|in this)[^,]{0,120},\s*)?(?:the term\s+)?(?:an?\s+|the\s+)?["“*]*([A-Za-z][\w' -]{0,60}?)["”*]*,?\s+${CUE}(?=[,:]|\s+(?!of\b|or\b|and\b|to\b)[a-z])`,
        'i',
      ).exec(sentence.trim());
      if (m) add(m[1] as string, i + 1, 'in-text');
    }
  });
  return out;
}

function frame(
  documentId: string,
  file: string,
): { graph: ExtractedGraph; clauses: Map<string, Clause>; markdown: string; statements: number } {
  const markdown = readFileSync(file, 'utf8');
  const tree = parseDocument(markdown, { documentId, mediaType: 'text/markdown' });
  const statements = extractStatements(tree);
  const started = performance.now();
  const graph = buildOntology([{ documentId, sha256: tree.sha256, version: 1, tree, statements }]);
  console.log(
    `  ${tree.clauses.length} clauses, ${statements.length} statements; graph built in ${Math.round(performance.now() - started)} ms`,
  );
  return { graph, clauses: new Map(tree.clauses.map((c) => [c.id, c])), markdown, statements: statements.length };
}

function report(name: string, documentId: string, file: string): void {
  console.log(`\n=== ${name} (${file.replace(`${root}/`, '')}) ===`);
  const { graph, clauses, markdown } = frame(documentId, file);
  const byId = new Map(graph.concepts.map((c) => [c.id, c]));
  console.log(`concepts: ${graph.concepts.length}`);
  for (const role of CONCEPT_ROLES) {
    const list = graph.concepts.filter((c) => c.roles.includes(role));
    console.log(
      `  ${role.padEnd(7)} ${String(list.length).padStart(4)}  e.g. ${list
        .slice(0, 12)
        .map((c) => c.prefLabel)
        .join('; ')}`,
    );
  }
  const withAlt = graph.concepts.filter((c) => c.altLabels.length > 0);
  console.log(`  with altLabels: ${withAlt.map((c) => `${c.prefLabel} = ${c.altLabels.join(', ')}`).join('; ') || 'none'}`);
  console.log(`relations: ${graph.relations.length}`);
  for (const [type, n] of Object.entries(relationCounts(graph.relations))) {
    const some = graph.relations.filter((r) => r.type === type).slice(0, 4);
    const show = (id: string): string => byId.get(id)?.prefLabel ?? clauses.get(id)?.citation ?? id;
    console.log(
      `  ${type.padEnd(13)} ${String(n).padStart(4)}  e.g. ${some.map((r) => `${show(r.from)} → ${show(r.to)}${r.statementKind ? ` (${r.statementKind})` : ''}`).join('; ')}`,
    );
  }

  const terms = definedTerms(markdown);
  const termIds = new Set(
    graph.concepts.filter((c) => c.roles.includes('term')).flatMap((c) => [c.id, ...c.altLabels.map((a) => conceptId(a))]),
  );
  const missed = terms.filter((t) => {
    const label = normaliseLabel(t.term);
    return !label || !termIds.has(conceptId(label));
  });
  const found = terms.length - missed.length;
  console.log(
    `defined-term recall: ${found}/${terms.length}${terms.length ? ` = ${((100 * found) / terms.length).toFixed(1)}%` : ''} ` +
      `(${terms.filter((t) => t.how === 'definitions section').length} from definitions sections, ${terms.filter((t) => t.how === 'in-text').length} in-text)`,
  );
  console.log(`  terms read: ${terms.map((t) => t.term).join('; ')}`);
  console.log(`  missed: ${missed.map((t) => `${t.term} (line ${t.line})`).join('; ') || 'none'}`);
  const extra = graph.concepts.filter(
    (c) => c.roles.includes('term') && !terms.some((t) => conceptId(normaliseLabel(t.term) || 'x') === c.id),
  );
  console.log(`  terms the extractor has beyond those: ${extra.map((c) => c.prefLabel).join('; ') || 'none'}`);

  const sample = seededRandom(seed).shuffle(graph.concepts).slice(0, sampleSize);
  console.log(`sample of ${sample.length} concepts (seed ${seed}):`);
  const cite = (id: string): string => clauses.get(id)?.citation ?? id;
  for (const c of sample as Concept[]) {
    const governs = graph.relations.filter((r) => r.type === 'governs' && r.to === c.id);
    const broader = graph.relations.filter((r) => r.type === 'broader' && r.from === c.id).map((r) => byId.get(r.to)?.prefLabel ?? r.to);
    const related = graph.relations
      .filter((r) => r.type === 'related' && (r.from === c.id || r.to === c.id))
      .map((r) => byId.get(r.from === c.id ? r.to : r.from)?.prefLabel ?? '?');
    console.log(`  - ${c.prefLabel} [${c.roles.join(', ')}]${c.altLabels.length ? ` alt: ${c.altLabels.join(', ')}` : ''}`);
    if (c.definition) console.log(`      definition (${cite(c.definition.clauseId)}): ${c.definition.text.slice(0, 160)}`);
    if (governs.length)
      console.log(
        `      governed by: ${governs
          .slice(0, 5)
          .map((r) => `${cite(r.from)} ${r.statementKind}`)
          .join('; ')}${governs.length > 5 ? `; … (${governs.length})` : ''}`,
      );
    const first = governs[0] ? clauses.get(governs[0].from) : undefined;
    if (first) console.log(`      e.g. "${first.text.slice(0, 150)}${first.text.length > 150 ? '…' : ''}"`);
    if (broader.length) console.log(`      broader: ${broader.join('; ')}`);
    if (related.length) console.log(`      related: ${related.join('; ')}`);
  }
}

report('example context: Northwind Dynamics Business Conduct Guidelines', 'northwind-conduct', exampleFile);
report('HIPAA Privacy Rule (45 CFR 164 Subpart E)', 'hipaa-privacy', hipaaFile);
