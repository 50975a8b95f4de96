import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { FileArtifactStore } from '@studio/artifacts';
import {
  EVENT_BUS,
  EventBusServer,
  eventServiceModules,
  JOB_PLATFORM,
  JobsModule,
  RedisModule,
  type JobPlatform,
  repositoryProvider,
  providePublishing,
  PUBLISHING,
  TENANT_DATA_ERASER,
  TenantDataController,
  type TenantDataEraser,
  type Publishing,
  type ServiceConfig,
  type ServiceDefinition,
} from '@studio/nest';
import {
  ADAPTERS,
  CLAUSE_INDEXES,
  DATASET_VERSIONS,
  eraseTenantData,
  PREFERENCE_DATASET_VERSIONS,
  TRAINING_RUNS,
  TrainingRunTracker,
  type AdapterRecord,
  type TrainingRunRecord,
} from '@studio/pipeline';
import type { Entity, JobQueue, Repository } from '@studio/ports';
import { INSTRUCTOR_NAME, INSTRUCTOR_PORT, InstructorEnv } from './config';
import { DatasetsHandler } from './datasets/datasets.handler';
import {
  ADAPTERS_REPOSITORY,
  ARTIFACTS,
  CLAUSE_INDEXES_REPOSITORY,
  PREFERENCE_DATASETS_REPOSITORY,
  RUNS_REPOSITORY,
  DATASETS_REPOSITORY,
  TRAINING_QUEUE,
} from './instructor.ports';
import { RunsController } from './runs/runs.controller';
import { TRAINING_EVENTS_OPTIONS, TrainingJobEvents } from './runs/training-job-events';

export type InstructorConfig = ServiceConfig<typeof InstructorEnv>;

@Injectable()
class TrainingQueueCloser implements OnApplicationShutdown {
  constructor(@Inject(TRAINING_QUEUE) private readonly queue: JobQueue) {}
  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}

/**
 * The instructor: wiring of the pipeline's training use cases — runs requested over HTTP onto
 * the `training` queue (BullMQ, or in-process on the embedded profile), and a TrainingRunTracker
 * fed by that queue's events.
 */
@Module({})
export class InstructorModule {
  static forRoot(config: InstructorConfig): DynamicModule {
    return {
      module: InstructorModule,
      imports: [
        ...eventServiceModules(INSTRUCTOR_NAME, config),
        JobsModule.forRoot(config),
        // The `redis` readiness check of the training queue's server (the embedded profile has none).
        ...(config.STUDIO_PROFILE === 'distributed' ? [RedisModule.forRoot({ url: config.REDIS_URL })] : []),
      ],
      controllers: [DatasetsHandler, RunsController, TenantDataController],
      providers: [
        ...providePublishing(`/studio/${INSTRUCTOR_NAME}`),
        repositoryProvider(DATASETS_REPOSITORY, DATASET_VERSIONS),
        repositoryProvider(CLAUSE_INDEXES_REPOSITORY, CLAUSE_INDEXES),
        repositoryProvider(RUNS_REPOSITORY, TRAINING_RUNS),
        repositoryProvider(ADAPTERS_REPOSITORY, ADAPTERS),
        repositoryProvider(PREFERENCE_DATASETS_REPOSITORY, PREFERENCE_DATASET_VERSIONS),
        { provide: TRAINING_QUEUE, inject: [JOB_PLATFORM], useFactory: (jobs: JobPlatform) => jobs.queue() },
        TrainingQueueCloser,
        { provide: ARTIFACTS, useValue: new FileArtifactStore(config.STUDIO_ARTIFACT_DIR) },
        {
          provide: TrainingRunTracker,
          inject: [PUBLISHING, RUNS_REPOSITORY, ADAPTERS_REPOSITORY, TRAINING_QUEUE],
          useFactory: (publishing: Publishing, runs: Repository<TrainingRunRecord>, adapters: Repository<AdapterRecord>, queue: JobQueue) =>
            new TrainingRunTracker({ ...publishing, repos: { runs, adapters }, queue }),
        },
        { provide: TRAINING_EVENTS_OPTIONS, useValue: { consumer: config.KAFKA_GROUP_ID } },
        TrainingJobEvents,
        {
          provide: TENANT_DATA_ERASER,
          inject: [
            DATASETS_REPOSITORY,
            CLAUSE_INDEXES_REPOSITORY,
            RUNS_REPOSITORY,
            ADAPTERS_REPOSITORY,
            PREFERENCE_DATASETS_REPOSITORY,
            ARTIFACTS,
          ],
          useFactory: (
            datasets: Repository<Entity>,
            clauseIndexes: Repository<Entity>,
            runs: Repository<Entity>,
            adapters: Repository<Entity>,
            preferenceDatasets: Repository<Entity>,
            artifacts: FileArtifactStore,
          ): TenantDataEraser => ({
            erase: (tenant) =>
              eraseTenantData({ repos: { datasets, clauseIndexes, runs, adapters, preferenceDatasets }, artifacts }, tenant),
          }),
        },
      ],
    };
  }
}

export const instructorService: ServiceDefinition<typeof InstructorEnv> = {
  serviceToken: (config) => config.SERVICE_TOKEN,
  name: INSTRUCTOR_NAME,
  defaultPort: INSTRUCTOR_PORT,
  env: InstructorEnv,
  module: (config) => InstructorModule.forRoot(config),
  transport: (app) => new EventBusServer(app.get(EVENT_BUS)),
};
