import { Module, type DynamicModule } from '@nestjs/common';
import { databaseModule, type ServiceConfig, type ServiceDefinition } from '@studio/nest';
import { REWARD_MODEL_NAME, REWARD_MODEL_PORT, RewardModelEnv } from './config';

export type RewardModelConfig = ServiceConfig<typeof RewardModelEnv>;

/**
 * The reward-model service: for now its deployment slot only (HTTP `/health` and `/ready` over
 * its own database). It consumes no event and dispatches no job until preferences, their
 * aggregation and reward-model training exist; no configuration is asked for what it does not do.
 */
@Module({})
export class RewardModelModule {
  static forRoot(config: RewardModelConfig): DynamicModule {
    return { module: RewardModelModule, imports: [databaseModule(REWARD_MODEL_NAME, config)] };
  }
}

export const rewardModelService: ServiceDefinition<typeof RewardModelEnv> = {
  serviceToken: (config) => config.SERVICE_TOKEN,
  name: REWARD_MODEL_NAME,
  defaultPort: REWARD_MODEL_PORT,
  env: RewardModelEnv,
  module: (config) => RewardModelModule.forRoot(config),
};
