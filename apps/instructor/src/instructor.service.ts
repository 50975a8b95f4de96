import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { FileArtifactStore } from '@studio/artifacts';
import { BullMqJobQueue } from '@studio/bullmq';
import type { MongoDatabase } from '@studio/mongo';
import {
  EVENT_BUS,
  EventBusServer,
  eventServiceModules,
  MONGO_DATABASE,
  provideEventPublisher,
  RedisModule,
  type ServiceConfig,
  type ServiceDefinition,
} from '@studio/nest';
import { INSTRUCTOR_NAME, INSTRUCTOR_PORT, InstructorEnv } from './config';
import { DatasetsHandler, TRAINING_DATASETS_REPOSITORY } from './datasets/datasets.handler';
import { TRAINING_DATASETS } from './datasets/training-dataset';
import { RequestTrainingRun, RUN_ARTIFACTS, TRAINING_QUEUE_PORT } from './runs/request-training-run';
import { RunsController } from './runs/runs.controller';
import { TrackTrainingRun } from './runs/track-training-run';
import { TRAINING_EVENTS_OPTIONS, TrainingJobEvents } from './runs/training-job-events';
import { ADAPTERS, ADAPTERS_REPOSITORY, RUNS_REPOSITORY, TRAINING_RUNS } from './runs/training-run';

export type InstructorConfig = ServiceConfig<typeof InstructorEnv>;

@Injectable()
class TrainingQueueCloser implements OnApplicationShutdown {
  constructor(@Inject(TRAINING_QUEUE_PORT) private readonly queue: BullMqJobQueue) {}
  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}

@Module({})
export class InstructorModule {
  static forRoot(config: InstructorConfig): DynamicModule {
    return {
      module: InstructorModule,
      imports: [...eventServiceModules(INSTRUCTOR_NAME, config), RedisModule.forRoot({ url: config.REDIS_URL })],
      controllers: [DatasetsHandler, RunsController],
      providers: [
        ...provideEventPublisher(`/studio/${INSTRUCTOR_NAME}`),
        {
          provide: TRAINING_DATASETS_REPOSITORY,
          inject: [MONGO_DATABASE],
          useFactory: async (database: MongoDatabase) => {
            const datasets = database.repository(TRAINING_DATASETS);
            await datasets.ensureIndexes();
            return datasets;
          },
        },
        {
          provide: RUNS_REPOSITORY,
          inject: [MONGO_DATABASE],
          useFactory: async (database: MongoDatabase) => {
            const runs = database.repository(TRAINING_RUNS);
            await runs.ensureIndexes();
            return runs;
          },
        },
        {
          provide: ADAPTERS_REPOSITORY,
          inject: [MONGO_DATABASE],
          useFactory: async (database: MongoDatabase) => {
            const adapters = database.repository(ADAPTERS);
            await adapters.ensureIndexes();
            return adapters;
          },
        },
        { provide: TRAINING_QUEUE_PORT, useFactory: () => new BullMqJobQueue({ redisUrl: config.REDIS_URL }) },
        TrainingQueueCloser,
        { provide: RUN_ARTIFACTS, useValue: new FileArtifactStore(config.STUDIO_ARTIFACT_DIR) },
        { provide: TRAINING_EVENTS_OPTIONS, useValue: { redisUrl: config.REDIS_URL, consumer: config.KAFKA_GROUP_ID } },
        RequestTrainingRun,
        TrackTrainingRun,
        TrainingJobEvents,
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
