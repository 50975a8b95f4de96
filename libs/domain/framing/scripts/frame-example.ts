// Frames an example context and prints its counts.
//   cd libs/domain/framing && node -r @swc-node/register scripts/frame-example.ts [context folder] [--seed N] [--held-out R] [--out DIR]
// The folder defaults to examples/northwind-conduct. With --out, writes train/held-out
// conversational and preference JSON lines there.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ContextValues, frameContext, toConversationalJsonl, toPreferenceJsonl } from '../src/index';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const seed = Number(option('--seed') ?? 20240314);
const heldOutRatio = Number(option('--held-out') ?? 0.1);
const out = option('--out');
const dir = resolve(args[0] ?? join(__dirname, '..', '..', '..', '..', 'examples', 'northwind-conduct'));

const values = ContextValues.parse(JSON.parse(readFileSync(join(dir, 'values.json'), 'utf8')));
const doc = values.context.documents[0];
if (!doc) throw new Error(`${join(dir, 'values.json')} lists no documents`);
const result = frameContext({
  contextId: values.context.id,
  documentId: doc.id,
  document: readFileSync(join(dir, doc.path)),
  mediaType: doc.mediaType,
  seedsJsonl: readFileSync(join(dir, 'seeds.jsonl'), 'utf8'),
  values,
  seed,
  heldOutRatio,
});

console.log(`context ${values.context.id}, document ${doc.id} (${doc.path})`);
console.log(JSON.stringify({ datasetVersion: result.version.id, sha256: result.version.sha256, ...result.counts }, null, 2));

if (out) {
  mkdirSync(out, { recursive: true });
  const { version } = result;
  writeFileSync(join(out, 'train.jsonl'), toConversationalJsonl(version.train, version.systemPrompt));
  writeFileSync(join(out, 'held-out.jsonl'), toConversationalJsonl(version.heldOut, version.systemPrompt));
  writeFileSync(join(out, 'train.preference.jsonl'), toPreferenceJsonl(version.train));
  writeFileSync(join(out, 'held-out.preference.jsonl'), toPreferenceJsonl(version.heldOut));
  console.log(`wrote ${out}/{train,held-out}{,.preference}.jsonl`);
}
