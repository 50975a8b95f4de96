import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where integration tests find their servers: the environment first (KAFKA_BROKERS, MONGO_URL,
 * REDIS_URL, QDRANT_URL), then the file `deploy/local` writes when it is up
 * (`.data/local/env.sh`). In CI (CI=true) a missing server is an error, never a skip.
 */
export type ServerVar = 'KAFKA_BROKERS' | 'MONGO_URL' | 'REDIS_URL' | 'QDRANT_URL';

const workspaceRoot = join(__dirname, '..', '..', '..', '..');

/** Credentials of the local servers that `deploy/local` makes and writes beside their URLs. */
export type ServerSecretVar = 'QDRANT_API_KEY';

function fromLocalInfra(name: ServerVar | ServerSecretVar): string | undefined {
  const file = join(localInfraDir(), 'env.sh');
  if (!existsSync(file)) return undefined;
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`export ${name}=`));
  return line?.slice(`export ${name}=`.length).replace(/^["']|["']$/g, '');
}

export function serverUrl(name: ServerVar): string | undefined {
  return process.env[name] || fromLocalInfra(name);
}

/** A server's credential (e.g. QDRANT_API_KEY): the environment first, then `.data/local/env.sh`; undefined when the server has none. */
export function serverSecret(name: ServerSecretVar): string | undefined {
  return process.env[name] || fromLocalInfra(name);
}

/** Where `deploy/local/infra.sh` keeps its data (and its installed tools, under `cache/`). */
export function localInfraDir(): string {
  return join(process.env['STUDIO_DATA_DIR'] ?? join(workspaceRoot, '.data'), 'local');
}

export class MissingServerError extends Error {
  constructor(name: ServerVar) {
    super(`${name} is not set and deploy/local is not up: start the servers with \`npm run infra:up\``);
    this.name = 'MissingServerError';
  }
}

/** The server's URL, or throws in CI; locally returns undefined so the suite can say why it skips. */
export function requireServer(name: ServerVar): string | undefined {
  const url = serverUrl(name);
  if (url) return url;
  if (process.env['CI'] === 'true') throw new MissingServerError(name);
  console.warn(`[integration] ${name} unavailable: these tests are skipped locally (they fail in CI)`);
  return undefined;
}

/** `describe` when the server is there, `describe.skip` otherwise (never in CI: requireServer throws). */
export function describeWithServers(names: ServerVar[], title: string, body: (urls: Record<ServerVar, string>) => void) {
  const urls = {} as Record<ServerVar, string>;
  let missing = false;
  for (const name of names) {
    const url = requireServer(name);
    if (url) urls[name] = url;
    else missing = true;
  }
  (missing ? describe.skip : describe)(title, () => body(urls));
}

/** Polls until `probe` resolves truthy or the deadline passes. */
export async function eventually<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ''}`);
}

/** A name unique to this test run, for topics, databases, collections and queues. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
