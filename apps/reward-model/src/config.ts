import { mongoDatabase, mongoUrl, serviceTokenEnv } from '@studio/config';
import { z } from 'zod';

export const REWARD_MODEL_NAME = 'reward-model';
export const REWARD_MODEL_PORT = 3004;

/** The service's own MongoDB database (values, preferences and reward-model runs will live there). */
export const RewardModelEnv = z.object({ MONGO_URL: mongoUrl, MONGO_DB: mongoDatabase('studio_reward_model'), ...serviceTokenEnv });
