import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Inject, Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import {
  buildCloudEvent,
  DOCUMENT_UPLOADED_V1,
  EVALUATE_RUN_JOB,
  type CloudEvent,
  type DocumentUploadedV1,
  type EvaluationJobV1,
} from '@studio/contracts';
import { ConfigError, eventServiceEnv, redisUrl } from '@studio/config';
import { tenantId, type EventBus, type Repository } from '@studio/ports';
import { z } from 'zod';
import { createServiceApp, loadServiceConfig, startServiceApp, type ServiceConfig, type ServiceDefinition } from './bootstrap';
import { EVENT_BUS } from './event-bus.module';
import { EventBusServer } from './event-bus-server';
import { eventServiceModules } from './event-service';
import { ServiceLogger } from './logger';
import { EmbeddedPlatform, JOB_PLATFORM, JobsModule, type JobPlatform } from './platform';
import { repositoryProvider } from './repository-provider';

const Env = z.object({ ...eventServiceEnv('probe'), REDIS_URL: redisUrl });
type Config = ServiceConfig<typeof Env>;

const Note = z.object({ id: z.string(), text: z.string() });
type Note = z.infer<typeof Note>;
const NOTES = Symbol('NOTES');

@Module({})
class ProbeModule {
  constructor(@Inject(NOTES) readonly notes: Repository<Note>) {}

  static forRoot(name: string, config: Config): DynamicModule {
    return {
      module: ProbeModule,
      imports: [...eventServiceModules(name, config), JobsModule.forRoot(config)],
      providers: [repositoryProvider(NOTES, { collection: 'notes', schema: Note })],
    };
  }
}

function service(name: string): ServiceDefinition<typeof Env> {
  return {
    name,
    defaultPort: 0,
    env: Env,
    module: (config) => ProbeModule.forRoot(name, config),
    transport: (app) => new EventBusServer(app.get(EVENT_BUS)),
  };
}

const quiet = new ServiceLogger('probe', 'fatal');

function uploaded(documentId: string): CloudEvent<DocumentUploadedV1> {
  return buildCloudEvent<DocumentUploadedV1>({
    topic: DOCUMENT_UPLOADED_V1,
    source: '/studio/test',
    tenantId: 'acme',
    contextId: 'ctx-1',
    data: {
      version: 'v1',
      contextId: 'ctx-1',
      documentId,
      filename: 'policy.md',
      mediaType: 'text/markdown',
      sha256: 'a'.repeat(64),
      sizeBytes: 10,
      storageUri: `file:///tmp/${documentId}`,
    },
  });
}

const job: EvaluationJobV1 = {
  schema_version: 'v1',
  tenant_id: 'acme',
  context_id: 'ctx-1',
  audit_run_id: 'audit-1',
  run_id: 'run-1',
  dataset_version_id: 'dv-1',
  variants: ['base', 'aligned'],
  base_model: 'tiny',
  adapter_name: null,
  judge_model: null,
  max_items: 3,
};

describe('the embedded profile of the platform modules (STUDIO_PROFILE=embedded)', () => {
  let dir: string;
  let env: Record<string, string>;
  const apps: INestApplication[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'studio-platform-'));
    env = { STUDIO_PROFILE: 'embedded', STUDIO_DATA_DIR: dir, HOST: '127.0.0.1' };
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await EmbeddedPlatform.of(dir).close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(name: string): Promise<INestApplication> {
    const definition = service(name);
    const config = loadServiceConfig(definition, env);
    const app = await createServiceApp(definition, config, quiet);
    apps.push(app);
    return app;
  }

  it('needs no server variables, but a data folder', () => {
    expect(loadServiceConfig(service('alpha'), env)).toMatchObject({ STUDIO_PROFILE: 'embedded', STUDIO_DATA_DIR: dir });
    expect(() => loadServiceConfig(service('alpha'), { STUDIO_PROFILE: 'embedded' })).toThrow(ConfigError);
    expect(() => loadServiceConfig(service('alpha'), {})).toThrow(/KAFKA_BROKERS is required/);
  });

  it('gives services of one process their own SQLite database, one event broker and one job queue', async () => {
    const alpha = await start('alpha');
    const beta = await start('beta');
    expect(EmbeddedPlatform.of(dir).broker.groups).toEqual(['alpha', 'beta']);

    // Repositories: each service its own file, with the `store` readiness check.
    await alpha.get(ProbeModule).notes.upsert(tenantId('acme'), { id: 'n-1', text: 'kept' });
    expect(await beta.get(ProbeModule).notes.get(tenantId('acme'), 'n-1')).toBeNull();
    expect(existsSync(join(dir, 'alpha.sqlite')) && existsSync(join(dir, 'beta.sqlite'))).toBe(true);

    // Events: what alpha publishes reaches beta's handlers.
    const seen: string[] = [];
    const betaBus = beta.get<EventBus>(EVENT_BUS);
    betaBus.subscribe(DOCUMENT_UPLOADED_V1, async (event) => void seen.push(event.data.documentId));
    await startServiceApp(alpha, loadServiceConfig(service('alpha'), env));
    await startServiceApp(beta, loadServiceConfig(service('beta'), env));
    const ready = (await (await fetch(`${await beta.getUrl()}/ready`)).json()) as { checks: Record<string, unknown> };
    expect(Object.keys(ready.checks)).toContain('store');
    await alpha.get<EventBus>(EVENT_BUS).publish(DOCUMENT_UPLOADED_V1, uploaded('doc-1'));

    // Jobs: alpha's producer queues, a worker of beta's platform runs, alpha hears the result.
    const results: unknown[] = [];
    const events = alpha
      .get<JobPlatform>(JOB_PLATFORM)
      .events({ job: EVALUATE_RUN_JOB, consumer: 'alpha' }, { completed: async (_j, r) => void results.push(r) });
    await events.start();
    const worker = beta.get<JobPlatform>(JOB_PLATFORM).worker({ jobs: [EVALUATE_RUN_JOB] });
    worker.handle(EVALUATE_RUN_JOB, async (payload) => ({ audited: payload.run_id }));
    await worker.start();
    const producer = alpha.get<JobPlatform>(JOB_PLATFORM).queue();
    await producer.enqueue(EVALUATE_RUN_JOB, job, { jobId: 'audit-1' });
    for (let i = 0; i < 200 && results.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(results).toEqual([{ audited: 'run-1' }]);
    expect(seen).toEqual(['doc-1']);

    // Closing one producer leaves the shared queue open for the others.
    await producer.close();
    await expect(producer.enqueue(EVALUATE_RUN_JOB, job, { jobId: 'audit-2' })).rejects.toThrow(/closed/);
    await expect(beta.get<JobPlatform>(JOB_PLATFORM).queue().enqueue(EVALUATE_RUN_JOB, job, { jobId: 'audit-3' })).resolves.toEqual({
      jobId: 'audit-3',
    });
    await worker.stop();
    await events.stop();
  });

  it('keeps a service’s data across a restart on the same folder', async () => {
    const first = await start('alpha');
    await first.get(ProbeModule).notes.upsert(tenantId('acme'), { id: 'n-1', text: 'kept' });
    await first.close();
    apps.splice(0);
    await EmbeddedPlatform.of(dir).close();
    const second = await start('alpha');
    expect(await second.get(ProbeModule).notes.get(tenantId('acme'), 'n-1')).toEqual({ id: 'n-1', text: 'kept' });
  });
});
