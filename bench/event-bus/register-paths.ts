// Resolves the workspace's `@studio/*` aliases (tsconfig.base.json "paths") for scripts run with
// `node -r @swc-node/register`, which reads no tsconfig outside the working directory's own.
import Module from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const base = JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8')) as { compilerOptions: { paths: Record<string, string[]> } };
const aliases = new Map(
  Object.entries(base.compilerOptions.paths).flatMap(([alias, [target]]) => (target ? [[alias, join(root, target)]] : [])),
);

type Resolve = (request: string, ...rest: unknown[]) => string;
const mod = Module as unknown as { _resolveFilename: Resolve };
const original = mod._resolveFilename;
mod._resolveFilename = function (request: string, ...rest: unknown[]) {
  return original.call(this, aliases.get(request) ?? request, ...rest);
};
