import { Module, type DynamicModule } from '@nestjs/common';
import type { MongoDatabase } from '@studio/mongo';
import { EVENT_BUS, EventBusServer, eventServiceModules, MONGO_DATABASE, RedisModule, type ServiceConfig, type ServiceDefinition } from '@studio/nest';
import { INSTRUCTOR_NAME, INSTRUCTOR_PORT, InstructorEnv } from './config';
import { DatasetsHandler, TRAINING_DATASETS_REPOSITORY } from './datasets/datasets.handler';
import { TRAINING_DATASETS } from './datasets/training-dataset';

export type InstructorConfig = ServiceConfig<typeof InstructorEnv>;

@Module({})
export class InstructorModule {
  static forRoot(config: InstructorConfig): DynamicModule {
    return {
      module: InstructorModule,
      imports: [...eventServiceModules(INSTRUCTOR_NAME, config), RedisModule.forRoot({ url: config.REDIS_URL })],
      controllers: [DatasetsHandler],
      providers: [
        {
          provide: TRAINING_DATASETS_REPOSITORY,
          inject: [MONGO_DATABASE],
          useFactory: async (database: MongoDatabase) => {
            const datasets = database.repository(TRAINING_DATASETS);
            await datasets.ensureIndexes();
            return datasets;
          },
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
