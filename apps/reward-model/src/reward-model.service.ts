import { Module, type DynamicModule } from '@nestjs/common';
import type { MongoDatabase } from '@studio/mongo';
import {
  EVENT_BUS,
  EventBusServer,
  eventServiceModules,
  MONGO_DATABASE,
  RedisModule,
  type ServiceConfig,
  type ServiceDefinition,
} from '@studio/nest';
import { REWARD_MODEL_NAME, REWARD_MODEL_PORT, RewardModelEnv } from './config';
import { PreferencesHandler, PREFERENCES_REPOSITORY } from './preferences/preferences.handler';
import { PREFERENCES } from './preferences/preference';

export type RewardModelConfig = ServiceConfig<typeof RewardModelEnv>;

@Module({})
export class RewardModelModule {
  static forRoot(config: RewardModelConfig): DynamicModule {
    return {
      module: RewardModelModule,
      imports: [...eventServiceModules(REWARD_MODEL_NAME, config), RedisModule.forRoot({ url: config.REDIS_URL })],
      controllers: [PreferencesHandler],
      providers: [
        {
          provide: PREFERENCES_REPOSITORY,
          inject: [MONGO_DATABASE],
          useFactory: async (database: MongoDatabase) => {
            const preferences = database.repository(PREFERENCES);
            await preferences.ensureIndexes();
            return preferences;
          },
        },
      ],
    };
  }
}

export const rewardModelService: ServiceDefinition<typeof RewardModelEnv> = {
  name: REWARD_MODEL_NAME,
  defaultPort: REWARD_MODEL_PORT,
  env: RewardModelEnv,
  module: (config) => RewardModelModule.forRoot(config),
  transport: (app) => new EventBusServer(app.get(EVENT_BUS)),
};
