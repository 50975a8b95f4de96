import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/**
 * FerretDB (deploy/local, built with ferretdb/patches) creates a database's SQLite file, then its
 * metadata table. A file left without that table (stopped in between, or an empty file) made it
 * refuse to start for good; it must start and serve such a file as an empty database.
 */
const ROOT = join(__dirname, '..', '..', '..');
const INFRA = join(ROOT, 'deploy', 'local', 'infra.sh');
const DATA = resolve(process.env['STUDIO_DATA_DIR'] ?? join(ROOT, '.data'));
const FERRETDB = join(DATA, 'local', 'cache', 'ferretdb', 'ferretdb-local');

async function freePort(): Promise<number> {
  return new Promise((done, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('FerretDB of deploy/local with a database file that has no metadata table', () => {
  jest.setTimeout(600_000); // the first run may build FerretDB
  let dir: string;
  let server: ChildProcess | undefined;
  let output = '';

  beforeAll(() => {
    execFileSync('bash', [INFRA, 'install', 'mongo'], { stdio: ['ignore', 'pipe', 'pipe'] });
    dir = mkdtempSync(join(tmpdir(), 'ferretdb-empty-'));
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'empty.sqlite'), ''); // an empty file
    const half = new DatabaseSync(join(dir, 'data', 'half.sqlite')); // a database file, no tables
    half.exec('PRAGMA journal_mode=wal');
    half.close();
  });

  afterAll(() => {
    server?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts and answers ping and listDatabases', async () => {
    const port = await freePort();
    server = spawn(FERRETDB, ['-listen', `127.0.0.1:${port}`, '-data-dir', join(dir, 'data')], { stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));

    const uri = `mongodb://127.0.0.1:${port}/`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (server.exitCode !== null) throw new Error(`FerretDB exited with ${server.exitCode}:\n${output}`);
      try {
        execFileSync(FERRETDB, ['-probe', uri], { stdio: 'pipe' });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`FerretDB did not answer: ${(err as Error).message}\n${output}`);
        await new Promise((done) => setTimeout(done, 250));
      }
    }
    expect(output).not.toMatch(/no such table/);
  });
});
