import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { FileArtifactStore } from '@studio/artifacts';
import { BullMqJobQueue } from '@studio/bullmq';
import {
  EVENT_BUS,
  EventBusServer,
  eventServiceModules,
  repositoryProvider,
  providePublishing,
  PUBLISHING,
  RedisModule,
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
  TRAINING_RUNS,
  TrainingRunTracker,
  type AdapterRecord,
  type TrainingRunRecord,
} from '@studio/pipeline';
import type { Entity, Repository } from '@studio/ports';
import { INSTRUCTOR_NAME, INSTRUCTOR_PORT, InstructorEnv } from './config';
import { DatasetsHandler } from './datasets/datasets.handler';
import {
  ADAPTERS_REPOSITORY,
  ARTIFACTS,
  CLAUSE_INDEXES_REPOSITORY,
  RUNS_REPOSITORY,
  DATASETS_REPOSITORY,
  TRAINING_QUEUE,
} from './instructor.ports';
import { RunsController } from './runs/runs.controller';
import { TRAINING_EVENTS_OPTIONS, TrainingJobEvents } from './runs/training-job-events';

export type InstructorConfig = ServiceConfig<typeof InstructorEnv>;

@Injectable()
class TrainingQueueCloser implements OnApplicationShutdown {
  constructor(@Inject(TRAINING_QUEUE) private readonly queue: BullMqJobQueue) {}
  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}

/**
 * The instructor: wiring of the pipeline's training use cases — runs requested over HTTP onto
 * the BullMQ `training` queue, and a TrainingRunTracker fed by that queue's events.
 */
@Module({})
export class InstructorModule {
  static forRoot(config: InstructorConfig): DynamicModule {
    return {
      module: InstructorModule,
      imports: [...eventServiceModules(INSTRUCTOR_NAME, config), RedisModule.forRoot({ url: config.REDIS_URL })],
      controllers: [DatasetsHandler, RunsController, TenantDataController],
      providers: [
        ...providePublishing(`/studio/${INSTRUCTOR_NAME}`),
        repositoryProvider(DATASETS_REPOSITORY, DATASET_VERSIONS),
        repositoryProvider(CLAUSE_INDEXES_REPOSITORY, CLAUSE_INDEXES),
        repositoryProvider(RUNS_REPOSITORY, TRAINING_RUNS),
        repositoryProvider(ADAPTERS_REPOSITORY, ADAPTERS),
        { provide: TRAINING_QUEUE, useFactory: () => new BullMqJobQueue({ redisUrl: config.REDIS_URL }) },
        TrainingQueueCloser,
        { provide: ARTIFACTS, useValue: new FileArtifactStore(config.STUDIO_ARTIFACT_DIR) },
        {
          provide: TrainingRunTracker,
          inject: [PUBLISHING, RUNS_REPOSITORY, ADAPTERS_REPOSITORY, TRAINING_QUEUE],
          useFactory: (
            publishing: Publishing,
            runs: Repository<TrainingRunRecord>,
            adapters: Repository<AdapterRecord>,
            queue: BullMqJobQueue,
          ) => new TrainingRunTracker({ ...publishing, repos: { runs, adapters }, queue }),
        },
        { provide: TRAINING_EVENTS_OPTIONS, useValue: { redisUrl: config.REDIS_URL, consumer: config.KAFKA_GROUP_ID } },
        TrainingJobEvents,
        {
          provide: TENANT_DATA_ERASER,
          inject: [DATASETS_REPOSITORY, CLAUSE_INDEXES_REPOSITORY, RUNS_REPOSITORY, ADAPTERS_REPOSITORY, ARTIFACTS],
          useFactory: (
            datasets: Repository<Entity>,
            clauseIndexes: Repository<Entity>,
            runs: Repository<Entity>,
            adapters: Repository<Entity>,
            artifacts: FileArtifactStore,
          ): TenantDataEraser => ({
            erase: (tenant) => eraseTenantData({ repos: { datasets, clauseIndexes, runs, adapters }, artifacts }, tenant),
          }),
        },
      ],
    };
  }
}

export const instructorService: ServiceDefinition<typeof InstructorEnv> = {
  name: INSTRUCTOR_NAME,
  defaultPort: INSTRUCTOR_PORT,
  env: InstructorEnv,
  module: (config) => InstructorModule.forRoot(config),
  transport: (app) => new EventBusServer(app.get(EVENT_BUS)),
};
