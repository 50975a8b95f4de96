import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const WORKSPACE_ROOT = join(__dirname, '..', '..', '..');

/** The NestJS services, as their app folders are named. */
export const SERVICES = ['gateway', 'framer', 'ontology', 'instructor', 'reward-model', 'auditor'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A service started the way `nx serve <name>` starts it: `node -r @swc-node/register apps/<name>/src/main.ts`. */
export class ServiceProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  private out = '';
  private err = '';

  constructor(
    readonly name: ServiceName,
    env: Record<string, string>,
  ) {
    this.child = spawn(process.execPath, ['-r', '@swc-node/register', `apps/${name}/src/main.ts`], {
      cwd: WORKSPACE_ROOT,
      env: { PATH: process.env['PATH'] ?? '', SWC_NODE_PROJECT: `apps/${name}/tsconfig.json`, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (chunk: Buffer) => (this.out += chunk.toString()));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.err += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get stdout(): string {
    return this.out;
  }

  get stderr(): string {
    return this.err;
  }

  /** The last lines of output, for failure messages. */
  tail(lines = 15): string {
    return `${this.name} stdout:\n${this.out.split('\n').slice(-lines).join('\n')}\n${this.name} stderr:\n${this.err.split('\n').slice(-lines).join('\n')}`;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the exit, or rejects when it takes longer than `timeoutMs`. */
  async exitWithin(timeoutMs: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.name} did not exit within ${timeoutMs} ms\n${this.tail()}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.running) this.child.kill(signal);
  }
}

/** Ports this test process has handed out: the kernel may offer a released port again, and two servers of one stack must not share one. */
const handedOut = new Set<number>();

/**
 * A free loopback port, never one handed out before in this process. Two servers given the same port
 * would not both start, and a test could talk to the wrong one (a model server answering 404 where the
 * gateway should answer).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        const port = typeof address === 'object' && address ? address.port : 0;
        server.close(() => resolve(port));
      });
    });
    if (port > 0 && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free loopback port that was not handed out before, after 50 tries');
}

/**
 * The service credential of the test runs (SERVICE_TOKEN): every service is given it, the services
 * refuse HTTP requests without it in the `x-studio-service-token` header, and tests that call a
 * service directly send it (`serviceHeaders`).
 */
export const E2E_SERVICE_TOKEN = `e2e-service-token-${randomBytes(16).toString('hex')}`;
export const SERVICE_TOKEN_HEADER = 'x-studio-service-token';

/** Headers of a direct call to an internal service: the service credential and the tenant. */
export function serviceHeaders(tenant: string, extra: Record<string, string> = {}): Record<string, string> {
  return { [SERVICE_TOKEN_HEADER]: E2E_SERVICE_TOKEN, 'x-tenant-id': tenant, ...extra };
}

/** The API key of the model servers the tests start (`studio-runtime serve`, STUDIO_MODEL_SERVER_API_KEY); services send it as LLM_API_KEY. */
export const E2E_MODEL_SERVER_API_KEY = `e2e-model-key-${randomBytes(16).toString('hex')}`;

/** The services with job queues: they read QUEUE_PREFIX. */
const QUEUE_SERVICES: readonly ServiceName[] = ['framer', 'instructor', 'auditor'];

/**
 * The BullMQ key prefix of a test run's queues (QUEUE_PREFIX of its services and training worker):
 * runs sharing one Redis never take each other's jobs.
 */
export function runQueuePrefix(run: string): string {
  return `${run}.bull`;
}

/**
 * What every service of a test run is started with: its port, quiet logs, a short shutdown, the
 * run's Kafka topics and group, the service credential, and (services with queues) the run's
 * queue prefix.
 */
export function serviceRunEnv(run: string, name: ServiceName, port: number, kafkaBrokers: string): Record<string, string> {
  return {
    SERVICE_TOKEN: E2E_SERVICE_TOKEN,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    SHUTDOWN_TIMEOUT_MS: '8000',
    KAFKA_BROKERS: kafkaBrokers,
    KAFKA_TOPIC_PREFIX: `${run}.`,
    KAFKA_GROUP_ID: `${run}.${name}`,
    ...(QUEUE_SERVICES.includes(name) ? { QUEUE_PREFIX: runQueuePrefix(run) } : {}),
  };
}
