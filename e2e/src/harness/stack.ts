import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPIC_NAMES, type CloudEvent, type DeadLetterRecordV1, type Topic } from '@studio/contracts';
import { InMemoryProcessedEventStore } from '@studio/inproc';
import type { EventBusLogger } from '@studio/ports';
import { KafkaDeadLetterReader, KafkaEventBus } from '@studio/kafka';
import type { ServerVar } from '@studio/testing';
import { eventually, serverSecret, uniqueName } from '@studio/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createConnection } from 'mongoose';
import { issueKey, TEST_ADMIN_API_KEY, type TestRole } from './keys';
import { RuntimeProcess } from './runtime-process';
import {
  E2E_MODEL_SERVER_API_KEY,
  E2E_SERVICE_TOKEN,
  freePort,
  SERVICE_TOKEN_HEADER,
  ServiceProcess,
  runQueuePrefix,
  serviceRunEnv,
  type ServiceName,
} from './service-process';

export type Json = Record<string, unknown>;

/** The observers' own logs are noise here (a broker outage is a test case): the services' logs tell. */
const QUIET: EventBusLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
export type RuntimeName = 'serve' | 'worker';

export interface StackOptions {
  servers: Record<ServerVar, string>;
  services: readonly ServiceName[];
  /** Which model runtime processes to run: the model server (tiny model) and the BullMQ training worker. */
  runtimes: readonly RuntimeName[];
  /**
   * The model server's base model (default `tiny`, a random model whose answers are often empty);
   * `smollm2-135m-instruct` where a test needs answers with words in them (slower).
   */
  serveModel?: 'tiny' | 'smollm2-135m-instruct';
  tenant: string;
  prefix: string;
  /** Extra variables per service; `stack` gives what is known once the stack has its ports (the model server's URL). */
  env?: (name: ServiceName, stack: { llmBaseUrl: string }) => Record<string, string>;
}

/**
 * The auditor's variables for a short audit (a test's, not a measurement): `items` held-out items,
 * four attacks, two benign probes, two general-ability items, answers of at most 48 tokens.
 */
export function smallAuditEnv(items: number): Record<string, string> {
  return {
    AUDIT_MAX_ITEMS: String(items),
    AUDIT_MAX_ATTACKS: '4',
    AUDIT_MAX_BENIGN: '2',
    AUDIT_MAX_GENERAL_ABILITY: '2',
    AUDIT_MAX_TOKENS: '48',
  };
}

/** Whose credential a gateway call carries: a key of that tenant and role, or none at all. */
export type CallAs = { tenant: string; role: TestRole } | 'anonymous';

export interface HttpAnswer {
  status: number;
  body: Json;
  text: string;
  type: string;
  headers: Headers;
}

/**
 * The distributed profile as processes on the local servers: the services (`node -r
 * @swc-node/register apps/<name>/src/main.ts`), the model runtime (`studio-runtime serve
 * --base-model tiny`, `studio-runtime worker`), an observer of every topic and of the dead-letter
 * topic. One run: a unique topic prefix, databases and artifact folder, removed by `stop()`.
 * Services and runtimes can be killed and started again with the same configuration.
 */
export class Stack {
  readonly run: string;
  /** The BullMQ key prefix of this run's queues (its services' and training worker's QUEUE_PREFIX). */
  readonly queuePrefix: string;
  readonly artifactDir: string;
  llmBaseUrl = '';
  private readonly services = new Map<ServiceName, { process: ServiceProcess; url: string; env: Record<string, string> }>();
  private readonly runtimes = new Map<RuntimeName, RuntimeProcess>();
  private readonly seen = new Map<Topic, CloudEvent<Json>[]>();
  readonly deadLetters: DeadLetterRecordV1[] = [];
  private observer: KafkaEventBus | null = null;
  private deadLetterReader: KafkaDeadLetterReader | null = null;
  private readonly jobIds = { training: new Set<string>(), evaluation: new Set<string>() };
  private readonly keys = new Map<string, Promise<string>>();

  private constructor(private readonly options: StackOptions) {
    this.run = uniqueName(options.prefix).replace(/-/g, '_');
    this.queuePrefix = runQueuePrefix(this.run);
    this.artifactDir = mkdtempSync(join(tmpdir(), `studio-${options.prefix}-artifacts-`));
  }

  static async start(options: StackOptions): Promise<Stack> {
    const stack = new Stack(options);
    await stack.boot();
    return stack;
  }

  private get urls(): Record<ServerVar, string> {
    return this.options.servers;
  }

  private async boot(): Promise<void> {
    const llmPort = await freePort();
    this.llmBaseUrl = `http://127.0.0.1:${llmPort}/v1`;
    // The model server loads while the services start.
    if (this.options.runtimes.includes('serve')) this.startRuntime('serve');
    if (this.options.runtimes.includes('worker')) this.startRuntime('worker');

    this.observer = new KafkaEventBus({
      clientId: `${this.run}-observer`,
      brokers: this.urls.KAFKA_BROKERS.split(','),
      groupId: `${this.run}.observer`,
      topicPrefix: `${this.run}.`,
      processedEvents: new InMemoryProcessedEventStore(),
      fromBeginning: true,
      logger: QUIET,
      kafkaLogLevel: 'nothing',
    });
    for (const topic of TOPIC_NAMES) {
      this.observer.subscribe(topic, async (event) => {
        this.seen.set(topic, [...(this.seen.get(topic) ?? []), event as CloudEvent<Json>]);
      });
    }
    await this.observer.start();
    this.deadLetterReader = new KafkaDeadLetterReader({
      clientId: `${this.run}-dead-letters`,
      brokers: this.urls.KAFKA_BROKERS.split(','),
      groupId: `${this.run}.dead-letters`,
      topicPrefix: `${this.run}.`,
      logger: QUIET,
      kafkaLogLevel: 'nothing',
    });
    await this.deadLetterReader.start(async ({ record }) => void this.deadLetters.push(record));

    // Ports first: the gateway, the auditor and the reward-model service are given the others' URLs.
    const ports = new Map<ServiceName, number>();
    for (const name of this.options.services) ports.set(name, await freePort());
    for (const name of this.options.services) {
      const port = ports.get(name) as number;
      const env = this.envFor(name, port, (other) => `http://127.0.0.1:${ports.get(other) ?? 0}`);
      this.services.set(name, { process: new ServiceProcess(name, env), url: `http://127.0.0.1:${port}`, env });
    }
    for (const name of this.options.services) await this.waitReady(name, 90_000);
    if (this.options.runtimes.includes('serve')) {
      await this.waitFor(
        'the model server did not answer /v1/models',
        async () => (await fetch(`${this.llmBaseUrl}/models`, { headers: { authorization: `Bearer ${E2E_MODEL_SERVER_API_KEY}` } })).ok,
        120_000,
        500,
      );
    }
  }

  /** The configuration of a service in this run. */
  private envFor(name: ServiceName, port: number, url: (other: ServiceName) => string): Record<string, string> {
    const env: Record<string, string> = serviceRunEnv(this.run, name, port, this.urls.KAFKA_BROKERS);
    // The consumers remember handled event ids in Redis here (services.int-spec covers the Mongo store).
    if (name !== 'gateway') {
      Object.assign(env, {
        MONGO_URL: this.urls.MONGO_URL,
        MONGO_DB: `${this.run}_${name.replace('-', '_')}`,
        DEDUP_REDIS_URL: this.urls.REDIS_URL,
      });
      env['STUDIO_ARTIFACT_DIR'] = this.artifactDir;
    }
    if (name === 'instructor' || name === 'auditor' || name === 'framer') env['REDIS_URL'] = this.urls.REDIS_URL;
    if (name === 'ontology' || name === 'auditor') {
      Object.assign(env, { LLM_BASE_URL: this.llmBaseUrl, LLM_API_KEY: E2E_MODEL_SERVER_API_KEY, QDRANT_URL: this.urls.QDRANT_URL });
      // The local Qdrant's key, when it has one (deploy/local makes one: QDRANT_API_KEY in its env.sh).
      const qdrantKey = serverSecret('QDRANT_API_KEY');
      if (qdrantKey) env['QDRANT_API_KEY'] = qdrantKey;
    }
    if (name === 'auditor') Object.assign(env, { FRAMER_URL: url('framer'), INSTRUCTOR_URL: url('instructor') });
    // The reward-model service makes preference pairs from dataset versions (the framer's) and audits (the auditor's).
    if (name === 'reward-model') Object.assign(env, { FRAMER_URL: url('framer'), AUDITOR_URL: url('auditor') });
    // The teacher of synthesis: the run's model server (the tiny model).
    if (name === 'framer')
      Object.assign(env, { TEACHER_BASE_URL: this.llmBaseUrl, TEACHER_MODEL: 'tiny', STUDIO_TEACHER_API_KEY: E2E_MODEL_SERVER_API_KEY });
    if (name === 'gateway')
      Object.assign(env, {
        // API keys and the audit log; the rate-limit windows.
        MONGO_URL: this.urls.MONGO_URL,
        MONGO_DB: `${this.run}_gateway`,
        REDIS_URL: this.urls.REDIS_URL,
        ADMIN_API_KEY: TEST_ADMIN_API_KEY,
        // The pipeline tests poll uploads and run requests; access.int-spec tests the limits themselves.
        RATE_LIMIT_UPLOADS_PER_MINUTE: '600',
        RATE_LIMIT_RUNS_PER_MINUTE: '600',
        FRAMER_URL: url('framer'),
        ONTOLOGY_URL: url('ontology'),
        INSTRUCTOR_URL: url('instructor'),
        AUDITOR_URL: url('auditor'),
        REWARD_MODEL_URL: url('reward-model'),
      });
    // The chat endpoint's model server: the run's (tiny model).
    if (name === 'gateway' && this.options.runtimes.includes('serve'))
      Object.assign(env, { LLM_BASE_URL: this.llmBaseUrl, LLM_API_KEY: E2E_MODEL_SERVER_API_KEY });
    return { ...env, ...(this.options.env?.(name, { llmBaseUrl: this.llmBaseUrl }) ?? {}) };
  }

  private startRuntime(name: RuntimeName): RuntimeProcess {
    const args =
      name === 'serve'
        ? ['serve', '--host', '127.0.0.1', '--port', new URL(this.llmBaseUrl).port, '--base-model', this.options.serveModel ?? 'tiny']
        : ['worker', '--redis-url', this.urls.REDIS_URL, '--queue', 'training'];
    // The model server requires its key and loads adapters only from the run's artifact folder;
    // the worker takes jobs from this run's queue only.
    const env: Record<string, string> =
      name === 'serve'
        ? { STUDIO_MODEL_SERVER_API_KEY: E2E_MODEL_SERVER_API_KEY, STUDIO_ARTIFACT_DIR: this.artifactDir }
        : { QUEUE_PREFIX: this.queuePrefix };
    const runtime = new RuntimeProcess(`studio-runtime ${name}`, args, env);
    this.runtimes.set(name, runtime);
    return runtime;
  }

  url(name: ServiceName): string {
    return this.services.get(name)?.url ?? '';
  }

  /** The environment a service of this run was started with. */
  envOf(name: ServiceName): Record<string, string> {
    return { ...(this.services.get(name)?.env ?? {}) };
  }

  /** The events of this run on `topic`, in the order the observer received them. */
  events(topic: Topic): CloudEvent<Json>[] {
    return this.seen.get(topic) ?? [];
  }

  /** Jobs this run queued, removed from Redis by `stop()`. */
  rememberJob(queue: 'training' | 'evaluation', jobId: string): void {
    this.jobIds[queue].add(jobId);
  }

  diagnostics(): string {
    return [...[...this.services.values()].map((s) => s.process.tail(40)), ...[...this.runtimes.values()].map((r) => r.tail(15))].join(
      '\n',
    );
  }

  /**
   * An API key of `tenant` with `role`, issued once through the gateway's platform bootstrap
   * endpoint (x-admin-key) and cached for the run.
   */
  keyFor(tenant: string, role: TestRole): Promise<string> {
    const name = `${tenant}\u0000${role}`;
    let key = this.keys.get(name);
    if (!key) {
      const adminKey = this.services.get('gateway')?.env['ADMIN_API_KEY'] ?? TEST_ADMIN_API_KEY;
      key = issueKey(this.url('gateway'), tenant, role, adminKey);
      key.catch(() => this.keys.delete(name));
      this.keys.set(name, key);
    }
    return key;
  }

  /**
   * One HTTP request to a service. To the gateway it carries `Authorization: Bearer <key>`: a key
   * of the run's tenant with role admin, or of `as` (`'anonymous'`: no credential); an
   * `authorization` in `headers` is sent as given. To the other services it carries the run's
   * tenant in x-tenant-id (unless `headers` names another) and the service credential (x-studio-service-token).
   */
  async call(
    method: string,
    path: string,
    body?: unknown,
    service: ServiceName = 'gateway',
    headers: Record<string, string> = {},
    as?: CallAs,
  ): Promise<HttpAnswer> {
    const own = Object.keys(headers).some((h) => h.toLowerCase() === 'authorization');
    let identity: Record<string, string> = {};
    // A direct call to an internal service carries the service credential (and the run's tenant).
    if (service !== 'gateway') identity = { 'x-tenant-id': this.options.tenant, [SERVICE_TOKEN_HEADER]: E2E_SERVICE_TOKEN };
    else if (!own && as !== 'anonymous')
      identity = { authorization: `Bearer ${await this.keyFor(as?.tenant ?? this.options.tenant, as?.role ?? 'admin')}` };
    const res = await fetch(`${this.url(service)}${path}`, {
      method,
      headers: {
        ...identity,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    // JSON, not JSON lines (an export): those are read from `text`.
    const json = type.includes('json') && !type.includes('jsonl');
    return { status: res.status, text, type, headers: res.headers, body: json && text ? (JSON.parse(text) as Json) : {} };
  }

  /** Polls `probe` like `eventually`, but gives up at once when a process that should run has exited. */
  async waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs: number, everyMs = 250): Promise<T> {
    const result = await eventually(
      async () => {
        const exited =
          [...this.services.values()].find((s) => !s.process.running)?.process.name ??
          [...this.runtimes.values()].find((r) => !r.running)?.name ??
          null;
        if (exited) return { exited } as const;
        const value = await probe();
        return value ? ({ value } as const) : null;
      },
      timeoutMs,
      everyMs,
    ).catch((err: Error) => {
      throw new Error(`${what}: ${err.message}\n${this.diagnostics()}`);
    });
    if ('exited' in result) throw new Error(`${what}: ${result.exited} exited\n${this.diagnostics()}`);
    return result.value;
  }

  async waitForEvent(
    topic: Topic,
    what: string,
    match: (event: CloudEvent<Json>) => boolean,
    timeoutMs: number,
  ): Promise<CloudEvent<Json>> {
    return this.waitFor(`waiting for ${topic} (${what})`, async () => this.events(topic).find(match), timeoutMs);
  }

  /** `/ready` of a service: 200 or not (a refused connection is not ready). */
  async isReady(name: ServiceName): Promise<boolean> {
    try {
      return (await fetch(`${this.url(name)}/ready`, { signal: AbortSignal.timeout(5_000) })).status === 200;
    } catch {
      return false;
    }
  }

  async waitReady(name: ServiceName, timeoutMs: number): Promise<void> {
    await this.waitFor(`${name} did not become ready`, () => this.isReady(name), timeoutMs);
  }

  /** kill -9 a service. */
  kill(name: ServiceName): void {
    this.services.get(name)?.process.kill('SIGKILL');
  }

  /** Starts a killed service again with its configuration and waits until it is ready. */
  async restart(name: ServiceName): Promise<void> {
    const entry = this.services.get(name);
    if (!entry) throw new Error(`${name} is not part of this stack`);
    entry.process.kill('SIGKILL');
    await entry.process.exited;
    entry.process = new ServiceProcess(name, entry.env);
    await this.waitReady(name, 90_000);
  }

  /** kill -9 a model runtime process. */
  async killRuntime(name: RuntimeName): Promise<void> {
    const runtime = this.runtimes.get(name);
    if (!runtime) return;
    runtime.child.kill('SIGKILL');
    await new Promise<void>((resolve) => (runtime.running ? runtime.child.once('exit', () => resolve()) : resolve()));
  }

  restartRuntime(name: RuntimeName): void {
    this.startRuntime(name);
  }

  async stop(): Promise<void> {
    for (const { process: service } of this.services.values()) service.kill('SIGTERM');
    await Promise.all(
      [...this.services.values()].map(({ process: service }) => service.exitWithin(12_000).catch(() => service.kill('SIGKILL'))),
    );
    await Promise.all([...this.runtimes.values()].map((r) => r.stop()));
    await this.observer?.stop().catch(() => undefined);
    await this.deadLetterReader?.stop().catch(() => undefined);
    // The run's jobs, the services' event cursors and their processed event ids leave Redis with it.
    const redis = new Redis(this.urls.REDIS_URL, { maxRetriesPerRequest: 3 });
    for (const [queue, ids] of Object.entries(this.jobIds)) {
      const q = new Queue(queue, { connection: redis, prefix: this.queuePrefix });
      for (const id of ids) await q.remove(id).catch(() => undefined);
      await q.close();
    }
    const keys = [
      // Whatever else the run's queues left: their metadata, event streams and the services' event cursors.
      ...(await redis.keys(`${this.queuePrefix}:*`)),
      ...(await redis.keys(`studio:processed:${this.run}.*`)),
      ...(await redis.keys(`studio:attempts:${this.run}.*`)),
      ...(await redis.keys(`studio:ratelimit:${this.run}.*`)),
    ];
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    const mongo = await createConnection(this.urls.MONGO_URL).asPromise();
    for (const name of this.services.keys())
      await mongo
        .useDb(`${this.run}_${name.replace('-', '_')}`)
        .dropDatabase()
        .catch(() => undefined);
    await mongo.close();
    rmSync(this.artifactDir, { recursive: true, force: true });
  }
}
