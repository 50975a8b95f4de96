import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { INestApplication } from '@nestjs/common';
import { TRAIN_JOB } from '@studio/contracts';
import type { Env, EnvSchema } from '@studio/config';
import {
  createServiceApp,
  EmbeddedPlatform,
  HealthRegistry,
  loadServiceConfig,
  ServiceLogger,
  startServiceApp,
  type ServiceDefinition,
} from '@studio/nest';
import { InProcessJobWorker } from '@studio/inproc';
import { z } from 'zod';
// `studio view` is the composition root of the embedded profile: it runs the services' own
// definitions (the same modules as their main.ts) in this process, so it imports the apps.
/* eslint-disable @nx/enforce-module-boundaries */
import { auditorService } from '../../auditor/src/auditor.service';
import { framerService } from '../../framer/src/framer.service';
import { ApiKeyService, type CreatedKey } from '../../gateway/src/auth/api-key.service';
import { gatewayService } from '../../gateway/src/gateway.service';
import { instructorService } from '../../instructor/src/instructor.service';
import { ontologyService } from '../../ontology/src/ontology.service';
import { rewardModelService } from '../../reward-model/src/reward-model.service';
/* eslint-enable @nx/enforce-module-boundaries */
import { freePort, RuntimeServer, runtimeExecutable, SubprocessTrainer } from './adapters/runtime-process';
import { runtimeTrainHandler } from './adapters/runtime-worker';
import { InputError } from './cli/args';

export const VIEW_DEFAULTS = {
  host: '127.0.0.1',
  port: 3000,
  dataDir: '.data/studio-view',
  model: 'tiny',
  tenant: 'local',
  logLevel: 'warn',
} as const;

export const VIEW_USAGE = `usage: studio view [options]

Starts the whole studio in this one process, on the embedded profile: the gateway (the public API
and the web app) and the framer, ontology, instructor, auditor and reward-model services on
in-process adapters (event bus, job queues, vector index, SQLite databases) — no Kafka, MongoDB,
Redis or Qdrant — with the model runtime as a child process (\`studio-runtime serve\`) and
training jobs run by \`studio-runtime train\`. Prints the URL and a freshly minted admin API key;
Ctrl-C stops everything. The services' own settings (e.g. RATE_LIMIT_RUNS_PER_MINUTE,
AUDIT_MAX_ITEMS, MAX_DOCUMENT_BYTES) are read from the environment as usual.

What survives a restart (under --data-dir): contexts, documents, clauses, datasets, runs, adapters
and audits (one SQLite file per service), the clause index, the artifacts, API keys and the audit
log. A new admin key is minted at each start (the one printed before is revoked; keys made through
the keys API stay). What lives only as long as the process: rate-limit windows and queued jobs (a
training run or audit interrupted by Ctrl-C is not resumed: request it again).

options:
  --port <n>            the gateway's port (default: ${VIEW_DEFAULTS.port}; 0: any free port)
  --host <address>      the gateway's interface (default: ${VIEW_DEFAULTS.host}; the services
                        always listen on 127.0.0.1)
  --data-dir <dir>      where the data is kept (default: ${VIEW_DEFAULTS.dataDir})
  --model <name|path>   the base model served and trained: ${VIEW_DEFAULTS.model} (default, a small random
                        model for trying the studio out), smollm2-135m-instruct, or a model folder
  --tenant <id>         the tenant of the admin key (default: ${VIEW_DEFAULTS.tenant})
  --log-level <level>   the services' log level: fatal, error, warn, info, debug (default: ${VIEW_DEFAULTS.logLevel})`;

export const ViewArgs = z.object({
  host: z.string().regex(/^[A-Za-z0-9.:-]+$/, '--host must be a host name or IP address'),
  port: z.coerce
    .number({ error: '--port must be a number' })
    .int('--port must be a whole number')
    .min(0, '--port must be 0-65535')
    .max(65535, '--port must be 0-65535'),
  dataDir: z.string().min(1, '--data-dir must not be empty'),
  model: z.string().min(1, '--model must not be empty'),
  tenant: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, '--tenant must be 1-128 letters, digits, ".", "_", "-" or ":"'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug'], { error: '--log-level must be fatal, error, warn, info or debug' }),
});
export type ViewArgs = z.infer<typeof ViewArgs>;

/** Parses `studio view`'s options (after the command); throws InputError naming the problem. */
export function parseViewArgs(argv: readonly string[]): ViewArgs {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: false,
      strict: true,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'data-dir': { type: 'string' },
        model: { type: 'string' },
        tenant: { type: 'string' },
        'log-level': { type: 'string' },
      },
    });
  } catch (error) {
    throw new InputError((error as Error).message);
  }
  const v = parsed.values as Record<string, string | undefined>;
  const result = ViewArgs.safeParse({
    host: v['host'] ?? VIEW_DEFAULTS.host,
    port: v['port'] ?? VIEW_DEFAULTS.port,
    dataDir: v['data-dir'] ?? VIEW_DEFAULTS.dataDir,
    model: v['model'] ?? VIEW_DEFAULTS.model,
    tenant: v['tenant'] ?? VIEW_DEFAULTS.tenant,
    logLevel: v['log-level'] ?? VIEW_DEFAULTS.logLevel,
  });
  if (!result.success) throw new InputError(result.error.issues.map((i) => i.message).join('; '));
  return result.data;
}

export interface ViewIo {
  stdout: { write(text: string): unknown };
  /** The repository root (where apps/model-runtime and apps/web live). */
  root: string;
  env?: NodeJS.ProcessEnv;
}

/** The running studio: its public URL, the admin key, and stop(). */
export interface RunningStudio {
  url: string;
  adminKey: string;
  webApp: boolean;
  stop(): Promise<void>;
}

/** How long the job workers let a running job finish at shutdown before aborting it (as the services' own workers). */
const JOB_GRACE_MS = 5_000;

async function closeApp(app: INestApplication): Promise<void> {
  app.get(HealthRegistry).markShuttingDown();
  await app.close().catch(() => undefined);
}

interface StartedService {
  name: string;
  app: INestApplication;
  url: string;
}

/**
 * The environment every service of the studio gets: the embedded profile on one data folder
 * (so they share one event broker, job queue and vector index, each with its own SQLite file),
 * the artifact folder, loopback, and a service credential of this process.
 */
export function embeddedEnv(dataDir: string, logLevel: string, serviceToken: string): Env {
  return {
    STUDIO_PROFILE: 'embedded',
    STUDIO_DATA_DIR: dataDir,
    STUDIO_ARTIFACT_DIR: join(dataDir, 'artifacts'),
    HOST: '127.0.0.1',
    LOG_LEVEL: logLevel,
    // The service credential of the service-to-service contract (SERVICE_TOKEN, checked by every
    // service but the gateway, sent by its callers): one random token per studio process.
    SERVICE_TOKEN: serviceToken,
  };
}

/**
 * Creates and starts one service. Every application of the process logs through one logger:
 * Nest's static Logger (used by the services' classes) is process-wide and would otherwise name
 * the last application created on every line.
 */
async function startService<S extends EnvSchema>(
  definition: ServiceDefinition<S>,
  env: Env,
  logger: ServiceLogger,
): Promise<StartedService> {
  const config = loadServiceConfig(definition, env);
  const app = await createServiceApp(definition, config, logger);
  try {
    const url = await startServiceApp(app, config);
    return { name: definition.name, app, url };
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
}

/**
 * `studio view`: the model runtime server, then the services and last the gateway, each a Nest
 * application of this process on the embedded profile; a training worker on the shared
 * in-process queue; an admin key minted through the gateway's own key service.
 */
export async function startView(args: ViewArgs, io: ViewIo): Promise<RunningStudio> {
  const dataDir = resolve(args.dataDir);
  mkdirSync(join(dataDir, 'artifacts'), { recursive: true });
  const executable = runtimeExecutable(io.root);
  const started: StartedService[] = [];
  let runtime: RuntimeServer | null = null;
  let worker: InProcessJobWorker | null = null;
  const platform = EmbeddedPlatform.of(dataDir);

  const stop = async (): Promise<void> => {
    // The gateway first (no new requests), then the services in reverse order, the worker, the runtime.
    const services = started.splice(0).reverse();
    const gateway = services[0]?.name === gatewayService.name ? services.shift() : undefined;
    if (gateway) await closeApp(gateway.app);
    // A job still running when its worker's grace period (5 s) ends has its signal aborted; an audit
    // waits on the model server, so the server stops then, and the job ends (back to its queue, which
    // lives in memory: not resumed after a restart).
    const serverStop = setTimeout(() => void runtime?.stop(), JOB_GRACE_MS + 1_000);
    for (const service of services) await closeApp(service.app);
    await worker?.stop().catch(() => undefined);
    clearTimeout(serverStop);
    await runtime?.stop().catch(() => undefined);
    await platform.close();
  };

  try {
    runtime = await RuntimeServer.start({
      executable,
      baseModel: args.model,
      logFile: join(dataDir, 'logs', 'runtime-server.log'),
      // Adapters load only from the artifact folder the services write (embeddedEnv's STUDIO_ARTIFACT_DIR).
      artifactDir: join(dataDir, 'artifacts'),
      ...(io.env ? { env: io.env } : {}),
    });
    // The services' other settings (RATE_LIMIT_*, AUDIT_*, MAX_DOCUMENT_BYTES...) may come from the environment.
    const common = { ...(io.env ?? process.env), ...embeddedEnv(dataDir, args.logLevel, randomBytes(32).toString('base64url')) };
    const port = async () => String(await freePort());
    const logger = new ServiceLogger('studio-view', args.logLevel);
    const framer = await startService(
      framerService,
      {
        ...common,
        PORT: await port(),
        TEACHER_BASE_URL: runtime.baseUrl,
        TEACHER_MODEL: args.model,
        // The runtime server's own key (every call but /health needs it).
        STUDIO_TEACHER_API_KEY: runtime.apiKey,
      },
      logger,
    );
    started.push(framer);
    const llm = { LLM_BASE_URL: runtime.baseUrl, LLM_API_KEY: runtime.apiKey };
    started.push(await startService(ontologyService, { ...common, PORT: await port(), ...llm }, logger));
    started.push(await startService(instructorService, { ...common, PORT: await port() }, logger));
    const url = (name: string) => started.find((s) => s.name === name)?.url ?? '';
    started.push(
      await startService(
        auditorService,
        { ...common, PORT: await port(), ...llm, FRAMER_URL: framer.url, INSTRUCTOR_URL: url('instructor') },
        logger,
      ),
    );
    started.push(
      await startService(
        rewardModelService,
        { ...common, PORT: await port(), FRAMER_URL: framer.url, AUDITOR_URL: url('auditor') },
        logger,
      ),
    );

    // What the model runtime's `worker` does on BullMQ: the training jobs the instructor queues.
    worker = new InProcessJobWorker(platform.jobs, { jobs: [TRAIN_JOB], shutdownGraceMs: JOB_GRACE_MS });
    worker.handle(TRAIN_JOB, runtimeTrainHandler(new SubprocessTrainer({ executable, ...(io.env ? { env: io.env } : {}) })));
    await worker.start();

    const webDist = join(io.root, 'apps', 'web', 'dist');
    const gateway = await startService(
      gatewayService,
      {
        ...common,
        HOST: args.host,
        PORT: String(args.port === 0 ? await freePort() : args.port),
        FRAMER_URL: url('framer'),
        ONTOLOGY_URL: url('ontology'),
        INSTRUCTOR_URL: url('instructor'),
        AUDITOR_URL: url('auditor'),
        REWARD_MODEL_URL: url('reward-model'),
        // Deployments load adapters into the model runtime; chat answers with them.
        ...llm,
        // The web app, served by the gateway at / when built (WEB_DIST, as the distributed gateway serves it).
        ...(existsSync(join(webDist, 'index.html')) ? { WEB_DIST: webDist } : {}),
      },
      logger,
    );
    started.push(gateway);
    const created = await localAdminKey(gateway.app.get(ApiKeyService), args.tenant);
    const publicUrl = gateway.url.replace('//0.0.0.0:', '//127.0.0.1:');
    const webApp = await servesWebApp(publicUrl);
    io.stdout.write(
      [
        '',
        'Alignment Studio is running (embedded profile: one process, no servers)',
        '',
        `  web app:   ${webApp ? `${publicUrl}/` : 'not built (build apps/web, then start again)'}`,
        `  API:       ${publicUrl}/v1   (OpenAPI: ${publicUrl}/docs)`,
        `  admin key: ${created.key}`,
        `             tenant ${created.tenant}, role admin; revoked at the next start`,
        `  model:     ${args.model}, served at ${runtime.baseUrl}`,
        `  data:      ${dataDir}`,
        '',
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
    return { url: publicUrl, adminKey: created.key, webApp, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

const LOCAL_ADMIN_KEY_NAME = 'studio view (local admin)';

/**
 * A fresh admin key of the tenant, through the gateway's own key service (recorded in its audit
 * log); the one minted at an earlier start is revoked by it, so only the printed key is the
 * local admin's. Keys made through the keys API are left as they are.
 */
async function localAdminKey(keys: ApiKeyService, tenant: string): Promise<CreatedKey> {
  const created = await keys.create(tenant, { name: LOCAL_ADMIN_KEY_NAME, role: 'admin' }, 'platform-admin');
  const principal = await keys.authenticate(created.key);
  if (!principal) throw new Error('the minted admin key does not authenticate');
  for (const key of await keys.list(tenant))
    if (key.name === LOCAL_ADMIN_KEY_NAME && key.revokedAt === null && key.id !== created.id) await keys.revoke(tenant, key.id, principal);
  return created;
}

/** Whether the gateway answers `/` with the web app's HTML. */
async function servesWebApp(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/`, { headers: { accept: 'text/html' }, signal: AbortSignal.timeout(2_000) });
    const html = (response.headers.get('content-type') ?? '').includes('text/html');
    await response.body?.cancel().catch(() => undefined);
    return response.ok && html;
  } catch {
    return false;
  }
}
