// Frames examples/northwind-conduct as `npm run align -- --until frame` would (seed 42, held-out 0.1)
// and writes {split, example} JSON lines plus the clauses, for the DPO experiment.
import '../event-bus/register-paths';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ContextValues, toConversationalJsonl } from '@studio/framing';
import { aggregatePreferences, preferenceId, syntheticPreferences, toTrlJsonl, type PreferenceRecord } from '@studio/preferences';
import { frameDocument } from '@studio/pipeline';

const root = join(__dirname, '..', '..');
const dir = join(root, 'examples', 'northwind-conduct');
const read = (f: string) => readFileSync(join(dir, f), 'utf8');
const values = ContextValues.parse(JSON.parse(read('values.json')));
const r = frameDocument({
  contextId: values.context.id,
  documentId: 'northwind-bcg',
  mediaType: 'text/markdown',
  content: new TextEncoder().encode(read('policy.md')),
  seedsJsonl: read('seeds.jsonl'),
  values,
  seed: 42,
  heldOutRatio: 0.1,
});
const out = process.argv[2] ?? '/tmp/f10rt';
const lines = [
  ...r.version.train.map((e) => JSON.stringify({ split: 'train', example: e })),
  ...r.version.heldOut.map((e) => JSON.stringify({ split: 'heldOut', example: e })),
];
writeFileSync(join(out, 'examples.jsonl'), lines.join('\n') + '\n');
writeFileSync(join(out, 'sft-train.jsonl'), toConversationalJsonl(r.version.train, r.version.systemPrompt));
writeFileSync(join(out, 'clauses.json'), JSON.stringify(r.tree.clauses.map((c) => ({ id: c.id, text: c.text, numbering: c.numbering }))));
writeFileSync(join(out, 'system-prompt.txt'), r.version.systemPrompt);
// The synthetic preference pairs of the train split, weighted as the reward-model service weighs them.
const inputs = syntheticPreferences([...r.version.train], {
  contextId: values.context.id,
  datasetVersionId: r.version.sha256.slice(0, 16),
  systemPrompt: r.version.systemPrompt,
  values,
});
const records: PreferenceRecord[] = inputs.map((p) => ({ ...p, id: preferenceId(p), createdAt: '2026-01-01T00:00:00.000Z' }));
const { pairs } = aggregatePreferences(records, values);
writeFileSync(join(out, 'synthetic-prefs.jsonl'), toTrlJsonl(records, new Map(pairs.map((p) => [p.preferenceId, p.weight]))));
const label = new Map(r.version.train.map((e) => [e.id, e.label ?? e.kind]));
writeFileSync(
  join(out, 'synthetic-kinds.json'),
  JSON.stringify(
    Object.fromEntries(records.map((p) => [p.id, { kind: p.rejectedKind, label: label.get(p.origin.exampleId ?? '') ?? null }])),
  ),
);
const byKind: Record<string, number> = {};
for (const p of records) byKind[`${p.rejectedKind}`] = (byKind[`${p.rejectedKind}`] ?? 0) + 1;
console.log(r.version.sha256, r.version.train.length, r.version.heldOut.length, JSON.stringify(byKind));
