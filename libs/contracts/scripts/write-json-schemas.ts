// Regenerates libs/contracts/json-schema/** from the zod schemas: `npm run contracts:schemas`.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { jsonSchemas } from '../src/json-schema';

const root = join(__dirname, '..', 'json-schema');
for (const entry of readdirSync(root, { withFileTypes: true })) {
  if (entry.isDirectory()) rmSync(join(root, entry.name), { recursive: true });
}
for (const [file, schema] of Object.entries(jsonSchemas())) {
  const path = join(root, file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(schema, null, 2) + '\n');
}
console.log(`wrote ${Object.keys(jsonSchemas()).length} schemas to ${root}`);
