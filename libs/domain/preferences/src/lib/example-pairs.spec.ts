// Synthetic pairs from the shipped example context (examples/northwind-conduct), framed with the
// framing library: properties every pair must have, whatever the document. Only this test reads files.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRefusal, polarityOf } from '@studio/auditing';
import {
  ContextValues,
  citedRefs,
  extractStatements,
  generateExamplesWithReport,
  importSeedsWithReport,
  parseDocument,
  type Example,
} from '@studio/framing';
import { normaliseText } from './aggregate';
import { PreferenceInput } from './records';
import { reversedVerdict, syntheticPreferences } from './synthetic';

const dir = join(__dirname, '..', '..', '..', '..', '..', 'examples', 'northwind-conduct');
const read = (file: string): string => readFileSync(join(dir, file), 'utf8');

describe('synthetic pairs of the example context', () => {
  const values = ContextValues.parse(JSON.parse(read('values.json')));
  const tree = parseDocument(read('policy.md'), { documentId: 'northwind-bcg', mediaType: 'text/markdown' });
  const generated = generateExamplesWithReport(tree, extractStatements(tree), { seed: 42, values }).examples;
  const seeds = importSeedsWithReport(read('seeds.jsonl'), tree, { values }).examples;
  const examples: Example[] = [...seeds, ...generated];
  const prefs = syntheticPreferences(examples, {
    contextId: values.context.id,
    datasetVersionId: 'dv-example',
    systemPrompt: 'You answer questions.',
    values,
  });
  const byExample = new Map(examples.map((e) => [e.id, e]));
  const rank = new Map(values.values.map((v) => [v.name, v.priority]));

  it('prints the pairs by kind', () => {
    const counts: Record<string, number> = {};
    for (const p of prefs) counts[p.rejectedKind ?? 'none'] = (counts[p.rejectedKind ?? 'none'] ?? 0) + 1;
    console.log(`northwind-conduct: ${examples.length} examples → ${prefs.length} synthetic pairs ${JSON.stringify(counts)}`);
    for (const kind of ['violating', 'contradicting', 'ungrounded', 'refusing']) expect(counts[kind]).toBeGreaterThan(20);
  });

  it('are valid preferences whose chosen answer is the example’s grounded, cited answer and differs from the rejected one', () => {
    for (const p of prefs) {
      expect(PreferenceInput.safeParse(p).success).toBe(true);
      const e = byExample.get(p.origin.exampleId as string) as Example;
      expect(p.chosen).toBe(e.answer.trim());
      expect(citedRefs(p.chosen).length).toBeGreaterThan(0);
      expect(normaliseText(p.rejected)).not.toBe(normaliseText(p.chosen));
      expect(p.clauseIds).toEqual(e.clauseIds);
      expect(p.values).toEqual([...e.values].sort((a, b) => (rank.get(a) ?? 0) - (rank.get(b) ?? 0)));
    }
  });

  it('have ungrounded answers that cite nothing and come from the answer, and refusals that are refusals', () => {
    for (const p of prefs.filter((x) => x.rejectedKind === 'ungrounded')) {
      expect(p.rejected).not.toMatch(/§/);
      const words = normaliseText(p.chosen);
      for (const w of normaliseText(p.rejected)
        .split(/[^a-z0-9$]+/)
        .filter(Boolean))
        expect(words).toContain(w);
    }
    for (const p of prefs.filter((x) => x.rejectedKind === 'refusing')) expect(isRefusal(p.rejected)).toBe(true);
    for (const p of prefs.filter((x) => x.rejectedKind !== 'ungrounded' && x.rejectedKind !== 'refusing')) {
      expect([byExample.get(p.origin.exampleId as string)?.rejected?.trim(), reversedVerdict(p.chosen)]).toContain(p.rejected);
    }
  });

  it('have reversed verdicts that keep the chosen answer’s citations and differ from it in the verdict alone', () => {
    const reversed = prefs.filter((p) => p.rejected === reversedVerdict(p.chosen));
    expect(reversed.length).toBeGreaterThan(100);
    for (const p of reversed) {
      expect(polarityOf(p.rejected)).not.toBeNull();
      expect(polarityOf(p.rejected)).not.toBe(polarityOf(p.chosen));
      expect(citedRefs(p.rejected)).toEqual(citedRefs(p.chosen));
      // Everything from the first sentence's end on is the chosen answer's own text.
      const rest = (text: string): string => text.slice(text.search(/[.:](?:\s|$)/));
      expect(rest(p.rejected)).toBe(rest(p.chosen));
    }
  });
});
