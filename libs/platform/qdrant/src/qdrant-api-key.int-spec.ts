import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describeWithServers, eventually, localInfraDir, uniqueName } from '@studio/testing';
import { QdrantError, QdrantVectorIndex } from './qdrant-vector-index';

const WORKSPACE_ROOT = join(__dirname, '..', '..', '..', '..');
const KEY = `qdrant-key-${Math.random().toString(36).slice(2)}-0123456789`;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * The Qdrant API stand-in of deploy/local started with an API key (as Qdrant's service.api_key):
 * the client without the key is refused, with it served. Its own process on a free port, from the
 * venv `infra.sh up` installs (present wherever QDRANT_URL is).
 */
describeWithServers(['QDRANT_URL'], 'Qdrant with an API key', () => {
  const python = join(localInfraDir(), 'cache', 'qdrant-venv', 'bin', 'python');
  let child: ChildProcess | undefined;
  let url = '';
  let output = '';

  beforeAll(async () => {
    if (!existsSync(python)) throw new Error(`the Qdrant stand-in's venv is missing (${python}): run deploy/local/infra.sh up`);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    child = spawn(python, ['-m', 'qdrant_api', '--host', '127.0.0.1', '--port', String(port), '--storage', ':memory:'], {
      env: { ...process.env, PYTHONPATH: join(WORKSPACE_ROOT, 'deploy', 'local', 'qdrant-api'), QDRANT__SERVICE__API_KEY: KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    await eventually(async () => (await fetch(`${url}/healthz`).catch(() => null))?.ok, 30_000, 100).catch((err: Error) => {
      throw new Error(`the stand-in did not start: ${err.message}\n${output}`);
    });
  }, 40_000);

  afterAll(() => {
    child?.kill('SIGTERM');
  });

  it('refuses the client without the key, and with a wrong one: 401', async () => {
    for (const options of [{ url }, { url, apiKey: 'not-the-key' }]) {
      const index = new QdrantVectorIndex(options);
      const refused = await index.ensureCollection({ name: uniqueName('keyed'), denseSize: 4 }).then(
        () => null,
        (err: unknown) => err,
      );
      expect(refused).toBeInstanceOf(QdrantError);
      expect((refused as QdrantError).status).toBe(401);
    }
    // Scrolling every tenant's clause text, as an attacker on the network would, is refused too.
    const scroll = await fetch(`${url}/collections/clauses/points/scroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ limit: 100, with_payload: true }),
    });
    expect(scroll.status).toBe(401);
  });

  it('serves the client that sends the key', async () => {
    const index = new QdrantVectorIndex({ url, apiKey: KEY });
    const name = uniqueName('keyed');
    await index.ensureCollection({ name, denseSize: 4 });
    await index.upsert(name, [{ id: 'c1', dense: [1, 0, 0, 0], payload: { tenantId: 'acme', contextId: 'ctx', text: 'Gifts' } }]);
    const hits = await index.query(name, { tenantId: 'acme', contextId: 'ctx', dense: [1, 0, 0, 0], limit: 1 });
    expect(hits.map((h) => h.id)).toEqual(['c1']);
  });
});
