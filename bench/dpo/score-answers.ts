// Scores held-out answers of several adapters with the auditor's own functions (scoreAnswer, polarityOf).
//   node -r @swc-node/register bench/dpo/score-answers.ts <dir with examples.jsonl, clauses.json> name=answers.json ...
// answers.json: the output of apps/model-runtime/bench/dpo_experiment.py ({answers: {exampleId: text}, margins, ...}).
// Prints, per adapter: Q&A mean correctness and right rate; on the violating scenarios the share of answers that
// advise against the violation (open with "No", the reference's polarity), right rate and correctness; the same for
// all scenarios; the mean log-prob margin (reference vs rejected) per group; and, where answers.json has them, the
// mean minimal margin (reference vs itself with only its verdict reversed) and the share of items where it is positive.
import '../event-bus/register-paths';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EvalItem, polarityOf, scoreAnswer, type EvalClause } from '@studio/auditing';

interface Example {
  id: string;
  kind: string;
  label: string | null;
  question: string;
  answer: string;
  clauseIds: string[];
}

const [dir, ...specs] = process.argv.slice(2);
if (!dir || specs.length === 0) throw new Error('usage: score-answers.ts <dir> name=answers.json ...');
const held: Example[] = readFileSync(join(dir, 'examples.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { split: string; example: Example })
  .filter((r) => r.split === 'heldOut')
  .map((r) => r.example);
const clauses = new Map((JSON.parse(readFileSync(join(dir, 'clauses.json'), 'utf8')) as EvalClause[]).map((c) => [c.id, c]));
const mean = (xs: number[]) => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
const round = (x: number) => Math.round(x * 1000) / 1000;

const table: Record<string, Record<string, number>> = {};
for (const spec of specs) {
  const [name, file] = spec.split('=');
  if (!name || !file) throw new Error(`bad spec ${spec}: expected name=answers.json`);
  const result = JSON.parse(readFileSync(file, 'utf8')) as {
    answers: Record<string, string>;
    mean_margin: Record<string, number>;
    mean_minimal_margin?: Record<string, number>;
    minimal_positive?: Record<string, number>;
  };
  const groups: Record<string, { correctness: number[]; right: number[]; advisesNo: number[] }> = {};
  for (const e of held) {
    const answer = result.answers[e.id];
    if (answer === undefined) throw new Error(`${name}: no answer for ${e.id}`);
    const item = EvalItem.parse({ id: e.id, question: e.question, reference: e.answer, clauseIds: e.clauseIds });
    const cited = e.clauseIds.map((id) => clauses.get(id)).filter((c): c is EvalClause => c !== undefined);
    const s = scoreAnswer(item, answer, cited);
    for (const g of [e.label ?? e.kind, ...(e.kind === 'scenario' ? ['scenario'] : [])]) {
      const bucket = (groups[g] ??= { correctness: [], right: [], advisesNo: [] });
      bucket.correctness.push(s.correctness);
      bucket.right.push(s.right ? 1 : 0);
      bucket.advisesNo.push(polarityOf(answer) === 'no' ? 1 : 0);
    }
  }
  const row: Record<string, number> = {};
  for (const [g, b] of Object.entries(groups)) {
    row[`${g}.n`] = b.correctness.length;
    row[`${g}.correctness`] = round(mean(b.correctness));
    row[`${g}.right`] = round(mean(b.right));
    if (g === 'violating') row[`${g}.advises_against`] = round(mean(b.advisesNo));
  }
  for (const [g, m] of Object.entries(result.mean_margin)) row[`${g}.logp_margin`] = round(m);
  for (const [g, m] of Object.entries(result.mean_minimal_margin ?? {})) row[`${g}.minimal_margin`] = round(m);
  for (const [g, m] of Object.entries(result.minimal_positive ?? {})) row[`${g}.minimal_positive`] = round(m);
  table[name] = row;
}
const keys = [...new Set(Object.values(table).flatMap((r) => Object.keys(r)))].sort();
console.log(['metric', ...Object.keys(table)].join('\t'));
for (const k of keys) console.log([k, ...Object.values(table).map((r) => String(r[k] ?? ''))].join('\t'));
