// Frames the shipped example context (examples/northwind-conduct) with the pipeline's framing.
// Only this test reads files; the domain code receives bytes and text.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ContextValues,
  NormativeKind,
  normaliseClauseRef,
  normaliseQuestion,
  numberingKey,
  resolveClauseRef,
  SeedLine,
  valuesByPriority,
} from '@studio/framing';
import { frameDocument } from './frame';

const dir = join(__dirname, '..', '..', '..', '..', '..', 'examples', 'northwind-conduct');
const read = (file: string): string => readFileSync(join(dir, file), 'utf8');

describe('example context: Northwind Dynamics business conduct', () => {
  const values = ContextValues.parse(JSON.parse(read('values.json')));
  const policy = read('policy.md');
  const seedsJsonl = read('seeds.jsonl');
  const frame = (seed: number) =>
    frameDocument({
      contextId: values.context.id,
      documentId: 'northwind-bcg',
      mediaType: 'text/markdown',
      content: new TextEncoder().encode(policy),
      seedsJsonl,
      values,
      seed,
      heldOutRatio: 0.1,
    });
  const result = frame(20240314);
  const { tree, statements } = result;
  const clausesByKind: Record<string, number> = {};
  for (const clause of tree.clauses) clausesByKind[clause.kind] = (clausesByKind[clause.kind] ?? 0) + 1;
  const counts = {
    sections: tree.sections.length,
    clauses: tree.clauses.length,
    clausesByKind,
    statements: statements.length,
    statementsByKind: result.statementsByKind,
    clauseCoverage: result.version.clauseCoverage ?? 0,
  };

  it('prints the counts', () => {
    const words = policy.split(/\s+/).filter(Boolean).length;
    console.log(`northwind-conduct: ${words} words\n${JSON.stringify(counts, null, 2)}`);
    expect(words).toBeGreaterThanOrEqual(7000);
  });

  it('has at least 10 sections and 120 clauses, with Q&A and example call-outs', () => {
    expect(tree.sections.filter((s) => /^\d+$/.test(s.numbering)).length).toBeGreaterThanOrEqual(10);
    expect(counts.sections).toBeGreaterThanOrEqual(10);
    expect(counts.clauses).toBeGreaterThanOrEqual(120);
    expect(counts.clausesByKind['qa']).toBeGreaterThanOrEqual(10);
    expect(counts.clausesByKind['example']).toBeGreaterThanOrEqual(3);
  });

  it('finds statements of every kind', () => {
    for (const kind of NormativeKind.options) expect(counts.statementsByKind[kind]).toBeGreaterThan(0);
    expect(counts.statements).toBeGreaterThanOrEqual(150);
    const s = statements.find((x) => x.clauseNumbering === '3.2.3');
    expect(s).toMatchObject({ kind: 'prohibition', exception: 'unless the Ethics Office has approved it in writing in advance' });
  });

  it('resolves every seed clause ref', () => {
    const lines = seedsJsonl.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(20);
    for (const line of lines) {
      for (const ref of SeedLine.parse(JSON.parse(line)).clause_refs)
        // "3.1.4.a" names the clause numbered "3.1.4(a)".
        expect([ref, numberingKey(resolveClauseRef(tree, ref)?.numbering ?? '')]).toEqual([ref, normaliseClauseRef(ref)]);
    }
    expect(result.seeds).toHaveLength(lines.length);
    const kinds = new Set(result.seeds.map((e) => e.label ?? e.kind));
    expect(kinds).toEqual(new Set(['qa', 'compliant', 'violating', 'ambiguous']));
  });

  it('cites only existing clause ids, and every seed answer cites its clauses', () => {
    const ids = new Set(tree.clauses.map((c) => c.id));
    for (const e of [...result.seeds, ...result.generated]) {
      expect(e.clauseIds.length).toBeGreaterThan(0);
      for (const id of e.clauseIds) expect(ids.has(id)).toBe(true);
      expect(e.answer).toMatch(/§\d/);
    }
    expect(counts.clauseCoverage).toBeGreaterThan(0.7);
  });

  it('keeps held-out questions out of training', () => {
    const train = new Set(result.version.train.map((e) => normaliseQuestion(e.question)));
    expect(result.version.heldOut.length).toBeGreaterThan(0);
    expect(result.version.heldOut.filter((e) => train.has(normaliseQuestion(e.question)))).toEqual([]);
  });

  it('is reproducible: same inputs, same clause ids and dataset hash', () => {
    const again = frame(20240314);
    expect(again.tree.clauses.map((c) => c.id)).toEqual(tree.clauses.map((c) => c.id));
    expect(again.version.sha256).toBe(result.version.sha256);
  });

  it('gives the dataset version `studio align` has published for this example (seed 42): framing changes are deliberate', () => {
    // Update this hash only with a change that means to change the example's training data.
    expect(frame(42).version.sha256).toBe('82104c443aa729666e8350ccecc5b15c62fa337c1f70a4a6d2cc8ade5489096f');
  });

  it('declares values in priority order with audit thresholds', () => {
    expect(
      valuesByPriority(values)
        .map((v) => v.name)
        .slice(0, 3),
    ).toEqual(['legal_compliance', 'safety', 'confidentiality']);
    expect(values.audit.max_benign_refusal_rate).toBeLessThanOrEqual(0.2);
  });
});
