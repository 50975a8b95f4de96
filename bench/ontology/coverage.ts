// Concept coverage of generated datasets, with and without a coverage target.
//   npm run bench:coverage [-- --target 0.9 --qa 2 --scenarios 2]
// For the example context (examples/northwind-conduct: policy, seeds, values) and the HIPAA Privacy
// Rule corpus (../shared/corpora/hipaa-privacy, or --hipaa <file>): builds the documents' ontology,
// generates the examples as the framer's frameTree does (the seeds counted first, then the templates,
// steered by the ontology when the values file sets a target) once without a target, once with
// `min_concept_coverage` set to --target and once with 1, and prints the share of concepts and of
// governed (concept, kind) pairs the examples exercise, the examples, and what the steering pass added.
// --qa / --scenarios set the templates per statement of the usual pass (the framer's default is 2 and 2;
// fewer is a smaller generation budget, where steering has more to do).
// --teacher-clauses <k> (default 20) also shows the teacher's clause budget (maxClauses): which k of the
// clauses that carry a statement a teacher would be prompted about, the first k in document order
// without a target and those the CoverageTracker chooses with one, and the coverage the dataset would
// have if one example on each prompted clause were kept (a projection: no teacher model is called).
// A measurement: it exits 0.
import '../event-bus/register-paths';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ContextValues,
  extractStatements,
  generateExamplesWithReport,
  importSeeds,
  normaliseQuestion,
  parseDocument,
  type DocumentTree,
  type Example,
  type NormativeStatement,
} from '@studio/framing';
import { synthesisClauses } from '@studio/pipeline';
import { buildOntology, CoverageTracker, datasetCoverage, type ExtractedGraph } from '@studio/ontology';

const root = resolve(__dirname, '..', '..');
const { values: flags } = parseArgs({
  options: {
    target: { type: 'string', default: '0.9' },
    qa: { type: 'string', default: '2' },
    scenarios: { type: 'string', default: '2' },
    'teacher-clauses': { type: 'string', default: '20' },
    hipaa: { type: 'string', default: resolve(root, '..', '..', 'shared/corpora/hipaa-privacy/45cfr164-subpart-e.md') },
  },
});
const target = Number(flags.target);
if (!(target >= 0 && target <= 1)) throw new Error(`--target must be a share within [0, 1], got "${flags.target}"`);
const perStatement = (name: string, text: string | undefined): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number >= 0, got "${text}"`);
  return n;
};
const qaPerStatement = perStatement('qa', flags.qa);
const scenariosPerStatement = perStatement('scenarios', flags.scenarios);
const teacherClauses = perStatement('teacher-clauses', flags['teacher-clauses']);

interface Corpus {
  name: string;
  tree: DocumentTree;
  values: ContextValues;
  seedsJsonl: string | null;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;

function measure(corpus: Corpus, statements: readonly NormativeStatement[], graph: ExtractedGraph, share: number | null): Example[] {
  const began = performance.now();
  const seeds = corpus.seedsJsonl ? importSeeds(corpus.seedsJsonl, corpus.tree, { values: corpus.values }) : [];
  const steering = share === null ? null : new CoverageTracker(graph, share);
  steering?.add(seeds);
  const { examples: generated, report } = generateExamplesWithReport(corpus.tree, statements, {
    seed: 42,
    values: corpus.values,
    qaPerStatement,
    scenariosPerStatement,
    steering,
  });
  // As frameTree: a seed wins over a template example with the same question.
  const asked = new Set(seeds.map((e) => normaliseQuestion(e.question)));
  const examples = [...seeds, ...generated.filter((e) => !asked.has(normaliseQuestion(e.question)))];
  const coverage = datasetCoverage(graph, examples);
  const ms = performance.now() - began;
  const steered = report.steered;
  console.log(
    `  ${share === null ? 'no target     ' : `target ${pct(share).padStart(7)}`}: concepts ${coverage.concepts.covered}/${coverage.concepts.total} (${pct(coverage.concepts.share)}), ` +
      `pairs ${coverage.pairs.covered}/${coverage.pairs.total} (${pct(coverage.pairs.share)}), ${examples.length} examples` +
      (steered
        ? `; steering: ${steered.statements} statements, +${steered.kept} examples, target ${steered.met ? 'met' : 'not met'}`
        : '') +
      ` [${(ms / 1000).toFixed(1)} s]`,
  );
  return examples;
}

/** The teacher's clause budget: the clauses it would be prompted about, and the coverage if one example on each were kept. */
function projectTeacher(
  corpus: Corpus,
  statements: readonly NormativeStatement[],
  graph: ExtractedGraph,
  existing: readonly Example[],
  share: number | null,
): void {
  const clauses = synthesisClauses(corpus.tree, statements);
  const tracker = new CoverageTracker(graph, share);
  tracker.add(existing);
  const chosen = tracker.chooseClauses(clauses, teacherClauses);
  const kindOf = new Map(statements.map((s) => [s.clauseId, s.kind]));
  const projected = chosen.map((c) => ({
    id: `teacher-${c.id}`,
    question: '',
    answer: '',
    clauseIds: [c.id],
    statementKind: kindOf.get(c.id) ?? null,
  }));
  const coverage = datasetCoverage(graph, [...existing, ...projected]);
  console.log(
    `  teacher, ${chosen.length} of ${clauses.length} clauses, ${share === null ? 'no target' : `target ${pct(share)}`}: ` +
      `concepts ${coverage.concepts.covered}/${coverage.concepts.total} (${pct(coverage.concepts.share)}), pairs ${coverage.pairs.covered}/${coverage.pairs.total} (${pct(coverage.pairs.share)})`,
  );
}

function main(): void {
  const example = join(root, 'examples/northwind-conduct');
  const corpora: Corpus[] = [
    {
      name: 'northwind-conduct',
      tree: parseDocument(readFileSync(join(example, 'policy.md')), { documentId: 'northwind-bcg', mediaType: 'text/markdown' }),
      values: ContextValues.parse(JSON.parse(readFileSync(join(example, 'values.json'), 'utf8'))),
      seedsJsonl: readFileSync(join(example, 'seeds.jsonl'), 'utf8'),
    },
  ];
  if (existsSync(flags.hipaa as string)) {
    corpora.push({
      name: 'hipaa-privacy',
      tree: parseDocument(readFileSync(flags.hipaa as string), { documentId: 'hipaa-privacy', mediaType: 'text/markdown' }),
      values: ContextValues.parse({
        context: {
          id: 'hipaa-privacy',
          name: 'HIPAA Privacy Rule',
          documents: [{ id: 'hipaa', path: 'hipaa.md', mediaType: 'text/markdown' }],
        },
        values: [{ name: 'privacy', priority: 1, description: 'Protect health information.' }],
        audit: { min_aligned_correctness: 0.5, min_faithfulness: 0.5, max_benign_refusal_rate: 0.1 },
      }),
      seedsJsonl: null,
    });
  } else console.log(`(no HIPAA corpus at ${flags.hipaa}: pass --hipaa <file>)`);
  console.log(`templates per statement: ${qaPerStatement} Q&A, ${scenariosPerStatement} scenarios`);
  for (const corpus of corpora) {
    const began = performance.now();
    const statements = extractStatements(corpus.tree);
    const graph = buildOntology([
      { documentId: corpus.tree.documentId, sha256: corpus.tree.sha256, version: 1, tree: corpus.tree, statements },
    ]);
    console.log(
      `${corpus.name}: ${corpus.tree.clauses.length} clauses, ${statements.length} statements, ${graph.concepts.length} concepts, ` +
        `${graph.relations.filter((r) => r.type === 'governs').length} governs relations [graph ${((performance.now() - began) / 1000).toFixed(1)} s]`,
    );
    const usual = measure(corpus, statements, graph, null);
    measure(corpus, statements, graph, target);
    measure(corpus, statements, graph, 1);
    if (teacherClauses > 0) {
      projectTeacher(corpus, statements, graph, usual, null);
      projectTeacher(corpus, statements, graph, usual, 1);
    }
  }
}

main();
