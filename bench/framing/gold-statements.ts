// Normative statements of the framer against a hand-marked gold sample.
//   npm run bench:framing-gold [-- <corpus folder>] [--gold <file.jsonl>] [--scope <references>]
//   npm run bench:framing-heldout   (the held-out sample in bench/framing/heldout)
// The folder (default: bench/corpora/hipaa-privacy, the repository's copy of the corpus) holds the
// regulation (45cfr164-subpart-e.md) and, unless --gold names another file, the gold file
// (statements.sample.jsonl). --scope limits scoring to the paragraphs the gold file was marked over,
// as comma-separated legal references with an optional range at the last designator
// ("164.510,164.530(a)-(f)"); without it the scope is every section the gold file has a statement
// in, whole. The regulation is framed as the product frames it (parseDocument + extractStatements);
// statements in the scope are matched one-to-one to gold statements by legal reference and text
// overlap (sets of normalised content words): the same paragraph with an overlap coefficient
// |A∩B|/min ≥ 0.5, or an ancestor/descendant paragraph with a mutual overlap |A∩B|/max ≥ 0.8 (the
// same text anchored at another level), and scored:
// - kind: end to end, a statement is right when it is paired with a gold statement of the same kind
//   (macro: mean over the kinds of per-kind precision and recall; micro: over all statements);
// - actor / action / condition spans, over the matched pairs: a span is correct when the F1 of its
//   normalised tokens with the gold span is >= SPAN_MATCH_F1 (0.5); precision = correct / pairs with a
//   predicted span, recall = correct / pairs with a gold span; also end to end (unmatched statements
//   count as wrong / missed spans) and as mean token precision and recall;
// - clause coverage of the regulation and of the example context (examples/northwind-conduct): the
//   share of paragraphs and list items that carry a statement or definition, or whose rule is carried
//   by their items (a lead-in) or folded into their lead-in's condition (statementCoverage).
// A measurement: it exits 0 whatever the figures.
import '../event-bus/register-paths';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  DEFAULT_MATCH_OPTIONS,
  SPAN_MATCH_F1,
  predictedActor,
  predictedAction,
  statementCoverage,
  KINDS,
  clauseReferences,
  clauseRelation,
  extractStatements,
  goldSectionsScope,
  inScope,
  parseScope,
  parseDocument,
  parseGoldJsonl,
  predictedCondition,
  statementSources,
  scoreAgainstGold,
  spanScore,
  normaliseSpan,
  textOverlap,
  type GoldStatement,
  type ReferencedStatement,
  type SpanSummary,
} from '@studio/framing';

const REGULATION = '45cfr164-subpart-e.md';
const GOLD = 'statements.sample.jsonl';
const root = join(__dirname, '..', '..');
/** The development corpus kept in the repository (a copy of the public-domain HIPAA Privacy Rule corpus). */
const CORPUS = join(root, 'bench', 'corpora', 'hipaa-privacy');
function fail(message: string): never {
  console.error(message);
  process.exit(2);
}
function cli(): { positionals: string[]; values: { gold?: string; scope?: string } } {
  try {
    return parseArgs({ options: { gold: { type: 'string' }, scope: { type: 'string' } }, allowPositionals: true });
  } catch (e) {
    fail(`${(e as Error).message}\nusage: gold-statements.ts [<corpus folder>] [--gold <file.jsonl>] [--scope <references>]`);
  }
}
const args = cli();
if (args.positionals.length > 1) fail(`one corpus folder expected, got: ${args.positionals.join(' ')}`);
const folder = resolve(args.positionals[0] ?? CORPUS);
const goldFile = args.values.gold === undefined ? join(folder, GOLD) : resolve(args.values.gold);

if (!existsSync(join(folder, REGULATION))) fail(`missing ${join(folder, REGULATION)} (give the corpus folder as the first argument)`);
if (!existsSync(goldFile))
  fail(
    `missing gold file ${goldFile} (${args.values.gold === undefined ? 'give the corpus folder as the first argument' : 'check --gold'})`,
  );

const text = readFileSync(join(folder, REGULATION), 'utf8');
let gold: GoldStatement[];
let scope: string[];
try {
  gold = parseGoldJsonl(readFileSync(goldFile, 'utf8'));
  scope = args.values.scope === undefined ? goldSectionsScope(gold) : parseScope(args.values.scope);
} catch (e) {
  fail(`${goldFile}: ${(e as Error).message}`);
}
if (gold.length === 0) fail(`${goldFile} holds no gold statements`);
const outside = gold.filter((g) => !inScope(g.clause, scope));
if (outside.length > 0) fail(`gold statements outside the scope ${scope.join(', ')}: ${outside.map((g) => g.clause).join(', ')}`);
const tree = parseDocument(text, { documentId: 'hipaa-privacy', mediaType: 'text/markdown' });
const statements = extractStatements(tree);
const refs = clauseReferences(tree);
const byId = new Map(tree.clauses.map((c) => [c.id, c]));

const allReferenced: ReferencedStatement[] = statements.map((statement) => ({
  statement,
  reference: refs.get(statement.clauseId)?.reference ?? '',
}));
const predicted = allReferenced.filter((p) => inScope(p.reference, scope));
// "protected health information" and "PHI" are the same words only where the gold abbreviates.
const goldUsesPhi = gold.some((g) => /\bPHI\b/.test(`${g.actor} ${g.action}`));
const score = scoreAgainstGold(gold, predicted, { ...DEFAULT_MATCH_OPTIONS, phi: goldUsesPhi });

const f = (x: number): string => x.toFixed(3);
const pad = (s: string | number, n: number): string => String(s).padEnd(n);
const lpad = (s: string | number, n: number): string => String(s).padStart(n);
const cut = (s: string | null, n = 110): string => (s === null ? '∅' : s.length > n ? `${s.slice(0, n - 1)}…` : s);

const clausesInScope = tree.clauses.filter((c) => inScope(refs.get(c.id)?.reference ?? '', scope));

console.log(`Gold benchmark: normative statements (${folder})`);
console.log(`  gold: ${goldFile}`);
console.log(`  scope: ${scope.map((s) => `§ ${s}`).join(', ')}`);
console.log(`  clauses framed in it: ${clausesInScope.length}; statements in the whole document: ${statements.length}`);
console.log(
  `  matching: one-to-one, best first; same paragraph and content-word overlap coefficient >= ${DEFAULT_MATCH_OPTIONS.threshold}, or ancestor/descendant paragraph and mutual overlap >= ${DEFAULT_MATCH_OPTIONS.relatedThreshold}`,
);
console.log('');
console.log(`gold statements                 ${score.gold}`);
console.log(`extracted in the scope          ${score.predicted}`);
console.log(
  `matched pairs                   ${score.matched} (same paragraph ${score.sameClause}, ancestor/descendant ${score.matched - score.sameClause})`,
);
console.log('');
const row = (name: string, x: { precision: number; recall: number; f1: number }): string =>
  `| ${name} | ${f(x.precision)} | ${f(x.recall)} | ${f(x.f1)} |`;
console.log(`Headline (target >= 0.9 each): kinds end to end; spans matched when token F1 >= ${SPAN_MATCH_F1}, over matched pairs`);
console.log('');
console.log('| measure | precision | recall | F1 |');
console.log('|---|---:|---:|---:|');
console.log(row('statement kind, macro over kinds, end to end', score.kind.macroEndToEnd));
console.log(row('statement kind, micro, end to end', score.kind.microEndToEnd));
console.log(row('actor span', score.actor.matched));
console.log(row('action span', score.action.matched));
console.log(row('condition span', score.condition.matched));
console.log('');
console.log('| more measures | precision | recall | F1 |');
console.log('|---|---:|---:|---:|');
console.log(`| statement detection | ${f(score.detection.precision)} | ${f(score.detection.recall)} | ${f(score.detection.f1)} |`);
console.log(row('actor span, end to end', score.actor.endToEnd));
console.log(row('action span, end to end', score.action.endToEnd));
console.log(row('condition span, end to end', score.condition.endToEnd));
console.log(
  `| kind, macro, matched pairs | ${f(score.kind.macroMatched.precision)} | ${f(score.kind.macroMatched.recall)} | ${f(score.kind.macroMatched.f1)} |`,
);
const spanRow = (name: string, s: SpanSummary): string =>
  `| ${name} span, token overlap (matched pairs) | ${f(s.precision)} | ${f(s.recall)} | ${f(s.f1)} |`;
console.log(spanRow('actor', score.actor));
console.log(spanRow('action', score.action));
console.log(spanRow('condition', score.condition));
console.log('');
console.log(`kind accuracy on matched pairs  ${f(score.kind.accuracy)}`);
console.log(
  `strict span match (normalised: lower-case, punctuation and '*' removed, a/an/the dropped${goldUsesPhi ? ', "protected health information" = "PHI" (the gold abbreviates it)' : ''}): actor ${f(score.actor.exact)}, action ${f(score.action.exact)}, condition ${f(score.condition.exact)}`,
);
console.log(
  `(predicted actor = the party the statement binds (NormativeStatement.party), else the head of its subject; predicted action = the framer's action, with the subject and cue in front where the subject is not the party (a definition's term, "This requirement does not apply to …"); tokens are compared after a crude stemming (-ing, -ed, -ure, -es, -s, -e); predicted condition = what restricts the subject ("that has agreed to …"), the framer's condition and its exception, joined by "; "; an absent condition on both sides counts as agreement)`,
);
console.log(
  `span matching: actor ${score.actor.matched.correct}/${score.actor.matched.predicted} predicted, /${score.actor.matched.gold} gold; action ${score.action.matched.correct}/${score.action.matched.predicted}, /${score.action.matched.gold}; condition ${score.condition.matched.correct}/${score.condition.matched.predicted}, /${score.condition.matched.gold}`,
);
console.log('');
console.log('| kind | gold | extracted | P (end to end) | R (end to end) | P (matched) | R (matched) |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const k of KINDS) {
  const e = score.kind.endToEnd[k];
  const m = score.kind.matched[k];
  console.log(`| ${k} | ${e.gold} | ${e.predicted} | ${f(e.precision)} | ${f(e.recall)} | ${f(m.precision)} | ${f(m.recall)} |`);
}
console.log('');
console.log('Confusion of kinds (rows: gold, columns: extracted; "missed": gold without a match; last row: extracted without a match)');
const w = 12;
console.log(`${pad('', w)}${KINDS.map((k) => lpad(k.slice(0, 11), w)).join('')}${lpad('missed', w)}`);
const missedByKind = (k: string): number => score.missedGold.filter((i) => (gold[i] as GoldStatement).kind === k).length;
for (const g of KINDS) {
  console.log(`${pad(g.slice(0, 11), w)}${KINDS.map((p) => lpad(score.kind.confusion[g][p], w)).join('')}${lpad(missedByKind(g), w)}`);
}
const spuriousByKind = (k: string): number =>
  score.falsePositives.filter((i) => (predicted[i] as ReferencedStatement).statement.kind === k).length;
console.log(`${pad('unmatched', w)}${KINDS.map((k) => lpad(spuriousByKind(k), w)).join('')}`);

// Why gold statements were missed, judged at the clause framed with the gold reference.
const clauseByReference = new Map(tree.clauses.map((c) => [refs.get(c.id)?.reference ?? '', c]));
const sources = new Set(statementSources(tree).map((c) => c.id));
const reasons = {
  'no framed clause has the reference': 0,
  'clause not read for statements (an unnumbered paragraph to the framer)': 0,
  'clause read, no statement extracted': 0,
  'statements extracted there, none paired (text overlap too low, or paired with another gold statement)': 0,
};
for (const i of score.missedGold) {
  const g = gold[i] as GoldStatement;
  const clause = clauseByReference.get(g.clause);
  if (!clause) reasons['no framed clause has the reference'] += 1;
  else if (!sources.has(clause.id)) reasons['clause not read for statements (an unnumbered paragraph to the framer)'] += 1;
  else if (!statements.some((s) => s.clauseId === clause.id)) reasons['clause read, no statement extracted'] += 1;
  else reasons['statements extracted there, none paired (text overlap too low, or paired with another gold statement)'] += 1;
}
console.log('');
console.log(`Gold statements without a match, by what the framer did at their clause:`);
for (const [k, v] of Object.entries(reasons)) console.log(`  ${lpad(v, 3)}  ${k}`);

const related = (g: GoldStatement): ReferencedStatement[] => predicted.filter((p) => clauseRelation(g.clause, p.reference) !== null);
const spread = <T>(xs: readonly T[], n: number): T[] =>
  xs.length <= n ? [...xs] : Array.from({ length: n }, (_, k) => xs[Math.floor((k * xs.length) / n)] as T);

console.log('');
console.log(
  `${Math.min(10, score.missedGold.length)} of ${score.missedGold.length} gold statements without a match (spread over the file):`,
);
for (const i of spread(score.missedGold, 10)) {
  const g = gold[i] as GoldStatement;
  const near = related(g)
    .map((p) => ({ p, o: textOverlap(g.text, p.statement.sentence).coefficient }))
    .sort((a, b) => b.o - a.o)[0];
  console.log(`- ${g.clause} [${g.kind}] actor=${g.actor} | "${cut(g.text)}"`);
  console.log(
    near
      ? `    nearest extracted: ${near.p.reference} [${near.p.statement.kind}, "${near.p.statement.modality}"] overlap coefficient ${f(near.o)}: "${cut(near.p.statement.sentence)}"`
      : '    nothing extracted at this paragraph or around it',
  );
}
console.log('');
console.log(
  `${Math.min(10, score.falsePositives.length)} of ${score.falsePositives.length} extracted statements without a gold match (spread over the document):`,
);
for (const i of spread(score.falsePositives, 10)) {
  const p = predicted[i] as ReferencedStatement;
  const s = p.statement;
  const clause = byId.get(statements.find((x) => x === s)?.clauseId ?? '');
  console.log(
    `- ${p.reference} (framer ${s.clauseNumbering}${clause ? `, L${clause.lineStart}` : ''}) [${s.kind}, "${s.modality}"] actor=${cut(s.actor, 40)}`,
  );
  console.log(`    action: "${cut(s.action, 80)}"; condition: "${cut(predictedCondition(s), 80)}"`);
  console.log(`    sentence: "${cut(s.sentence)}"`);
}

// Matched pairs whose spans do not match, a few per field (all with FRAMING_GOLD_SHOW=<n>).
const SHOW = Number(process.env.FRAMING_GOLD_SHOW ?? 8);
for (const [field, get, goldOf] of [
  ['actor', (x: ReferencedStatement['statement']) => predictedActor(x), (g: GoldStatement) => g.actor],
  ['action', (x: ReferencedStatement['statement']) => predictedAction(x), (g: GoldStatement) => g.action],
  ['condition', (x: ReferencedStatement['statement']) => predictedCondition(x), (g: GoldStatement) => g.condition],
] as const) {
  const wrong = score.pairs.filter((pair) => {
    const p = get((predicted[pair.predicted] as ReferencedStatement).statement);
    const g = goldOf(gold[pair.gold] as GoldStatement);
    const sp = spanScore(p, g, { phi: goldUsesPhi });
    return !(sp.f1 >= SPAN_MATCH_F1 || (normaliseSpan(p) === '' && normaliseSpan(g) === ''));
  });
  console.log('');
  console.log(`${Math.min(SHOW, wrong.length)} of ${wrong.length} matched pairs whose ${field} span does not match:`);
  for (const pair of spread(wrong, SHOW)) {
    const g = gold[pair.gold] as GoldStatement;
    console.log(
      `- ${g.clause}: gold "${cut(goldOf(g), 90)}" | extracted "${cut(get((predicted[pair.predicted] as ReferencedStatement).statement), 90)}"`,
    );
  }
}

// Clause coverage: the regulation, and the example context the product ships with.
const example = join(root, 'examples', 'northwind-conduct', 'policy.md');
console.log('');
console.log(
  'Clause coverage (paragraphs and list items carrying a statement or definition, or carried by their items / folded into their lead-in):',
);
const coverageRow = (name: string, c: ReturnType<typeof statementCoverage>): void => {
  console.log(
    `  ${name}: ${f(c.coverage)} (${c.covered} of ${c.counted}); not covered: ${c.uncovered.slice(0, 12).join(', ')}${c.uncovered.length > 12 ? ', …' : ''}`,
  );
};
coverageRow('HIPAA corpus', statementCoverage(tree));
if (existsSync(example)) {
  const exampleTree = parseDocument(readFileSync(example, 'utf8'), { documentId: 'northwind-conduct' });
  coverageRow('example context', statementCoverage(exampleTree));
}
