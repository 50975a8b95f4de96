import { eventServiceEnv, redisUrl } from '@studio/config';
import { z } from 'zod';

export const REWARD_MODEL_NAME = 'reward-model';
export const REWARD_MODEL_PORT = 3004;

/** REDIS_URL: BullMQ, where reward-model training and scoring jobs go for the model runtime. */
export const RewardModelEnv = z.object({ ...eventServiceEnv(REWARD_MODEL_NAME), REDIS_URL: redisUrl });
