import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { RuntimeProgressV1, type TrainingJobV1 } from '@studio/contracts';
import { LoraAdapterLoader } from '@studio/llm';
import type { AdapterLoader, ModelTrainer } from '@studio/pipeline';

/** Where the Python model runtime's command line lives (its virtual environment). */
export function runtimeExecutable(root: string): string {
  return resolve(root, 'apps/model-runtime/.venv/bin/studio-runtime');
}

export function assertRuntimeInstalled(executable: string): void {
  if (!existsSync(executable)) {
    throw new Error(`the model runtime is not installed (${executable} is missing): run "bash scripts/setup.sh"`);
  }
}

/** A free TCP port on 127.0.0.1, chosen by the operating system. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Children still running, killed when this process exits or is interrupted. */
const children = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of children) c.kill('SIGKILL');
  });
}

/** Sends SIGTERM, then SIGKILL after `graceMs`; resolves when the child has exited. */
export async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((done) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });
}

/** Keeps the last `max` characters written to it (a child's stderr, for error messages). */
class Tail {
  private text = '';
  constructor(private readonly max = 4_000) {}
  push(chunk: string): void {
    this.text = (this.text + chunk).slice(-this.max);
  }
  toString(): string {
    return this.text.trim();
  }
}

export interface RuntimeServerOptions {
  executable: string;
  baseModel: string;
  /** The runtime's log (stderr and stdout) is appended here. */
  logFile: string;
  /** Give up when /v1/models does not answer within this time (model loading included). */
  startTimeoutMs?: number;
  maxBatchSize?: number;
  env?: NodeJS.ProcessEnv;
  /** The only folder the server loads adapters from (`--artifact-dir`); unset: it loads none. */
  artifactDir?: string;
}

/**
 * `studio-runtime serve` as a child process on a free port: started, awaited until
 * `/v1/models` answers, stopped with `stop()` (and killed if this process exits first).
 */
export class RuntimeServer implements AdapterLoader {
  private constructor(
    private readonly child: ChildProcess,
    readonly baseUrl: string,
    readonly baseModel: string,
    /** The key this server was started with (a fresh random one): every call but /health sends it as a Bearer token. */
    readonly apiKey: string,
  ) {}

  static async start(options: RuntimeServerOptions): Promise<RuntimeServer> {
    assertRuntimeInstalled(options.executable);
    const port = await freePort();
    await mkdir(join(options.logFile, '..'), { recursive: true });
    const log = createWriteStream(options.logFile, { flags: 'a' });
    const tail = new Tail();
    const args = ['serve', '--host', '127.0.0.1', '--port', String(port), '--base-model', options.baseModel];
    if (options.maxBatchSize) args.push('--max-batch-size', String(options.maxBatchSize));
    if (options.artifactDir) args.push('--artifact-dir', options.artifactDir);
    // Even on loopback the server is not open to other local users: a key of its own, passed in
    // the environment (arguments show in ps).
    const apiKey = randomBytes(24).toString('base64url');
    const child = spawn(options.executable, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env, STUDIO_MODEL_SERVER_API_KEY: apiKey },
    });
    track(child);
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        log.write(chunk);
        tail.push(chunk);
      });
    }
    child.once('exit', () => log.end());
    const server = new RuntimeServer(child, `http://127.0.0.1:${port}/v1`, options.baseModel, apiKey);
    const deadline = Date.now() + (options.startTimeoutMs ?? 300_000);
    let exited: string | null = null;
    child.once('exit', (code, signal) => (exited = `exited with ${signal ?? `code ${code}`}`));
    for (;;) {
      if (exited)
        throw new Error(`the model runtime server ${exited} before it was ready: ${tail.toString().split('\n').slice(-5).join(' | ')}`);
      if (Date.now() > deadline) {
        await stopChild(child);
        throw new Error(
          `the model runtime server did not answer /v1/models within ${options.startTimeoutMs ?? 300_000} ms (log: ${options.logFile})`,
        );
      }
      try {
        const response = await fetch(`${server.baseUrl}/models`, {
          headers: { authorization: `Bearer ${apiKey}` },
          signal: AbortSignal.timeout(2_000),
        });
        if (response.ok) return server;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async loadAdapter(name: string, path: string): Promise<void> {
    await new LoraAdapterLoader(this.baseUrl, { apiKey: this.apiKey }).loadAdapter(name, path);
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
  }
}

export interface SubprocessTrainerOptions {
  executable: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs `studio-runtime train sft --config <job.json>` and yields each stdout line parsed with the
 * `RuntimeProgressV1` contract. The job JSON and the runtime's log (`train.log`) go into the
 * job's output folder. Aborting the signal stops the process.
 */
export class SubprocessTrainer implements ModelTrainer {
  constructor(private readonly options: SubprocessTrainerOptions) {}

  async *train(job: TrainingJobV1, signal: AbortSignal): AsyncIterable<RuntimeProgressV1> {
    assertRuntimeInstalled(this.options.executable);
    await mkdir(job.output_dir, { recursive: true });
    const config = join(job.output_dir, 'job.json');
    await writeFile(config, `${JSON.stringify(job, null, 2)}\n`);
    const logFile = join(job.output_dir, 'train.log');
    const log = createWriteStream(logFile, { flags: 'a' });
    const tail = new Tail();
    const child = spawn(this.options.executable, ['train', job.method, '--config', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...this.options.env },
    });
    track(child);
    const onAbort = () => void stopChild(child);
    signal.addEventListener('abort', onAbort, { once: true });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      log.write(chunk);
      tail.push(chunk);
    });
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.once('exit', (code, sig) => done({ code, signal: sig })),
    );
    let terminal = false;
    try {
      for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
        log.write(`${line}\n`);
        const trimmed = line.trim();
        if (!trimmed.startsWith('{')) continue;
        let json: unknown;
        try {
          json = JSON.parse(trimmed);
        } catch {
          continue;
        }
        const parsed = RuntimeProgressV1.safeParse(json);
        if (!parsed.success) {
          throw new Error(
            `the model runtime wrote a progress line that violates runtime/progress.v1: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
          );
        }
        if (parsed.data.event === 'completed' || parsed.data.event === 'failed') terminal = true;
        yield parsed.data;
      }
      const { code, signal: sig } = await exit;
      if (signal.aborted) throw new Error('training was cancelled');
      if (!terminal && code !== 0) {
        throw new Error(
          `studio-runtime train ${sig ? `was killed by ${sig}` : `exited with code ${code}`}: ${tail.toString().split('\n').slice(-3).join(' | ')} (log: ${logFile})`,
        );
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      await stopChild(child);
      log.end();
    }
  }
}
