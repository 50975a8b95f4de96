import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * deploy/local/infra.sh keeps a pid file per server. After a reboot or a kill -9 a pid file can
 * name a pid that now belongs to another process, even a process of the same program (another
 * data folder's Redis): `status` must not report it as ours and `down` must not signal it.
 */
const INFRA = join(__dirname, '..', '..', '..', 'deploy', 'local', 'infra.sh');

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

describe('deploy/local pid files', () => {
  let dataDir: string;
  let impostor: ChildProcess;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'infra-pids-'));
    mkdirSync(join(dataDir, 'local', 'run'), { recursive: true });
    // A process whose command line says redis-server, started elsewhere than this data folder.
    impostor = spawn('bash', ['-c', 'exec -a redis-server sleep 60'], { cwd: tmpdir(), stdio: 'ignore' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    writeFileSync(join(dataDir, 'local', 'run', 'redis.pid'), `${impostor.pid}\n`);
    env = {
      ...process.env,
      STUDIO_DATA_DIR: dataDir,
      KAFKA_PORT: String(await freePort()),
      KAFKA_CONTROLLER_PORT: String(await freePort()),
      MONGO_PORT: String(await freePort()),
      REDIS_PORT: String(await freePort()),
      QDRANT_PORT: String(await freePort()),
      INFRA_STOP_GRACE: '2',
    };
  });

  afterAll(() => {
    impostor.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('status does not take a reused pid of the same program for its server', () => {
    let out = '';
    try {
      out = execFileSync('bash', [INFRA, 'status'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      out = (err as { stdout: string }).stdout; // exit 1: the servers are down
    }
    expect(out).toMatch(/^redis\s+down\s+\S+\s+pid -$/m);
  });

  it('down leaves that process alone', async () => {
    execFileSync('bash', [INFRA, 'down'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise((resolve) => setTimeout(resolve, 500)); // lets an exit, if any, be reported
    expect({ exitCode: impostor.exitCode, signal: impostor.signalCode }).toEqual({ exitCode: null, signal: null });
  });
});
