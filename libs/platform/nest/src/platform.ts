import { resolve } from 'node:path';
import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { DEFAULT_QUEUE_PREFIX, type JobName } from '@studio/contracts';
import { BullMqJobEvents, BullMqJobQueue, BullMqJobWorker, type JobLogger } from '@studio/bullmq';
import type { Profile } from '@studio/config';
import { ExactVectorIndex, InProcessBroker, InProcessJobEvents, InProcessJobQueue, InProcessJobWorker, SqliteStore } from '@studio/inproc';
import type { MongoDatabase } from '@studio/mongo';
import type {
  EnqueueOptions,
  Entity,
  EntitySpec,
  JobEventHandlers,
  JobEventsListener,
  JobQueue,
  JobStatus,
  JobWorker,
  Repository,
  VectorIndex,
} from '@studio/ports';
import { QdrantVectorIndex } from '@studio/qdrant';
import { HealthRegistry } from './health/readiness';

/** What every service's configuration says about its profile (profileEnv of @studio/config). */
export interface ProfileConfig {
  STUDIO_PROFILE: Profile;
  /** Required on the embedded profile (schemaForProfile). */
  STUDIO_DATA_DIR?: string | undefined;
}

/**
 * The in-process adapters that the services of one process share on the embedded profile, as
 * the services of a deployment share Kafka, the queues and Qdrant: one broker of event buses,
 * one job queue (every queue name), one exact vector index persisted under the data folder, and
 * each service's own SQLite database (`<dataDir>/<service>.sqlite`).
 */
export class EmbeddedPlatform {
  private static readonly byDataDir = new Map<string, EmbeddedPlatform>();

  readonly broker = new InProcessBroker();
  readonly jobs = new InProcessJobQueue();
  readonly vectors: ExactVectorIndex;
  private readonly stores = new Map<string, SqliteStore>();

  private constructor(readonly dataDir: string) {
    this.vectors = new ExactVectorIndex({ dataDir });
  }

  /** The platform of a data folder in this process: services configured with the same folder share it. */
  static of(dataDir: string): EmbeddedPlatform {
    const key = resolve(dataDir);
    let platform = EmbeddedPlatform.byDataDir.get(key);
    if (!platform) {
      platform = new EmbeddedPlatform(key);
      EmbeddedPlatform.byDataDir.set(key, platform);
    }
    return platform;
  }

  /** The platform of a service's configuration; throws when the profile is not embedded. */
  static ofConfig(config: ProfileConfig): EmbeddedPlatform {
    if (config.STUDIO_PROFILE !== 'embedded' || !config.STUDIO_DATA_DIR) {
      throw new Error('the embedded platform needs STUDIO_PROFILE=embedded and STUDIO_DATA_DIR');
    }
    return EmbeddedPlatform.of(config.STUDIO_DATA_DIR);
  }

  /** The service's own database, opened on first use (and again after it was closed). */
  store(service: string): SqliteStore {
    let store = this.stores.get(service);
    if (!store || !store.db.isOpen) {
      store = SqliteStore.open(this.dataDir, service);
      this.stores.set(service, store);
    }
    return store;
  }

  /** Refuses new jobs, closes every database, and forgets this platform (the next `of` makes a new one). */
  async close(): Promise<void> {
    await this.jobs.close();
    for (const store of this.stores.values()) store.close();
    this.stores.clear();
    EmbeddedPlatform.byDataDir.delete(this.dataDir);
  }
}

// ---------------------------------------------------------------------------------------------
// Repositories

/** Where a service's repositories come from: its MongoDB database or its embedded SQLite database. */
export interface RepositorySource {
  /** The repository of `spec`, its indexes in place. */
  repository<T extends Entity>(spec: EntitySpec<T>): Promise<Repository<T>>;
}
export const REPOSITORY_SOURCE = Symbol('REPOSITORY_SOURCE');

/** REPOSITORY_SOURCE over a MongoDB database (MongoModule provides it with MONGO_DATABASE). */
export function mongoRepositorySource(database: MongoDatabase): RepositorySource {
  return {
    repository: async <T extends Entity>(spec: EntitySpec<T>) => {
      const repository = database.repository(spec);
      await repository.ensureIndexes();
      return repository;
    },
  };
}

/** The service's SqliteStore on the embedded profile (for stores that are not repositories: the gateway's keys). */
export const EMBEDDED_STORE = Symbol('EMBEDDED_STORE');

@Injectable()
class EmbeddedStoreCloser implements OnApplicationShutdown {
  constructor(@Inject(EMBEDDED_STORE) private readonly store: SqliteStore) {}
  // After the HTTP server and the event transport have closed, as MongoModule closes its connection.
  onApplicationShutdown(): void {
    this.store.close();
  }
}
/** The embedded profile's counterpart of MongoModule: the service's SQLite database, with a `store` readiness check. */
@Module({})
export class EmbeddedStoreModule {
  static forRoot(service: string, platform: EmbeddedPlatform): DynamicModule {
    return {
      module: EmbeddedStoreModule,
      global: true,
      providers: [
        {
          provide: EMBEDDED_STORE,
          inject: [HealthRegistry],
          useFactory: (health: HealthRegistry) => {
            const store = platform.store(service);
            health.register({
              name: 'store',
              check: async () => {
                if (!store.db.isOpen) throw new Error(`${store.path} is closed`);
                store.db.prepare('SELECT 1').get();
              },
            });
            return store;
          },
        },
        {
          provide: REPOSITORY_SOURCE,
          inject: [EMBEDDED_STORE],
          useFactory: (store: SqliteStore): RepositorySource => ({
            repository: async <T extends Entity>(spec: EntitySpec<T>) => store.repository(spec),
          }),
        },
        EmbeddedStoreCloser,
      ],
      exports: [REPOSITORY_SOURCE, EMBEDDED_STORE],
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Job queues

export interface JobWorkerSettings {
  /** The job names the worker serves; it consumes their queues, and must handle every job on them. */
  jobs: readonly JobName[];
  concurrency?: number;
  shutdownGraceMs?: number;
  logger?: JobLogger;
}

/** The queues of a service's profile: BullMQ on REDIS_URL, or the embedded platform's in-process queue. */
export interface JobPlatform {
  /** A producer; its close() ends this producer only. */
  queue(): JobQueue;
  worker(settings: JobWorkerSettings): JobWorker;
  /** Progress, results and final failures of one job name, whichever worker runs them; `consumer` names the BullMQ cursor. */
  events<N extends JobName>(settings: { job: N; consumer: string; logger?: JobLogger }, handlers: JobEventHandlers<N>): JobEventsListener;
}
export const JOB_PLATFORM = Symbol('JOB_PLATFORM');

/** BullMQ on `redisUrl`, every queue's keys under `prefix` (QUEUE_PREFIX; BullMQ's own "bull" when not given). */
export function bullMqJobPlatform(redisUrl: string, prefix = DEFAULT_QUEUE_PREFIX): JobPlatform {
  return {
    queue: () => new BullMqJobQueue({ redisUrl, prefix }),
    worker: (settings) => new BullMqJobWorker({ redisUrl, prefix, ...settings }),
    events: (settings, handlers) => new BullMqJobEvents({ redisUrl, prefix, ...settings }, handlers),
  };
}

/** A producer of the shared in-process queue: closing it does not close the queue the other services use. */
class InProcessProducer implements JobQueue {
  private closed = false;
  constructor(private readonly jobs: InProcessJobQueue) {}

  enqueue: JobQueue['enqueue'] = (name, payload, options?: EnqueueOptions) => {
    if (this.closed) return Promise.reject(new Error(`cannot enqueue job "${name}": the job queue is closed`));
    return this.jobs.enqueue(name, payload, options);
  };
  status(name: JobName, jobId: string): Promise<JobStatus | null> {
    return this.jobs.status(name, jobId);
  }
  cancel(name: JobName, jobId: string): Promise<boolean> {
    return this.jobs.cancel(name, jobId);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

export function inProcessJobPlatform(jobs: InProcessJobQueue): JobPlatform {
  return {
    queue: () => new InProcessProducer(jobs),
    worker: ({ jobs: names, concurrency, shutdownGraceMs }) =>
      new InProcessJobWorker(jobs, {
        jobs: names,
        ...(concurrency === undefined ? {} : { concurrency }),
        ...(shutdownGraceMs === undefined ? {} : { shutdownGraceMs }),
      }),
    events: ({ job, logger }, handlers) =>
      new InProcessJobEvents(jobs, job, handlers, {
        onLost: (error, event) => logger?.error('job event handler failed; event skipped', { job, ...event, error }),
      }),
  };
}

/** JOB_PLATFORM of the service's profile (global). */
@Module({})
export class JobsModule {
  static forRoot(config: ProfileConfig & { REDIS_URL?: string; QUEUE_PREFIX?: string }): DynamicModule {
    let platform: JobPlatform;
    if (config.STUDIO_PROFILE === 'embedded') platform = inProcessJobPlatform(EmbeddedPlatform.ofConfig(config).jobs);
    else if (config.REDIS_URL) platform = bullMqJobPlatform(config.REDIS_URL, config.QUEUE_PREFIX);
    else throw new Error('the job queues of the distributed profile need REDIS_URL');
    return { module: JobsModule, global: true, providers: [{ provide: JOB_PLATFORM, useValue: platform }], exports: [JOB_PLATFORM] };
  }
}

// ---------------------------------------------------------------------------------------------
// Vector index

/** The vector index of the profile: Qdrant at QDRANT_URL (with QDRANT_API_KEY when set), or the embedded platform's exact index. */
export function vectorIndexOf(config: ProfileConfig & { QDRANT_URL?: string; QDRANT_API_KEY?: string | undefined }): VectorIndex {
  if (config.STUDIO_PROFILE === 'embedded') return EmbeddedPlatform.ofConfig(config).vectors;
  if (!config.QDRANT_URL) throw new Error('the vector index of the distributed profile needs QDRANT_URL');
  return new QdrantVectorIndex({ url: config.QDRANT_URL, ...(config.QDRANT_API_KEY ? { apiKey: config.QDRANT_API_KEY } : {}) });
}
