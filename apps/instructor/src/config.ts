import { eventServiceEnv, redisUrl } from '@studio/config';
import { z } from 'zod';

export const INSTRUCTOR_NAME = 'instructor';
export const INSTRUCTOR_PORT = 3003;

/** REDIS_URL: BullMQ, where the instructor enqueues training jobs for the model runtime. */
export const InstructorEnv = z.object({ ...eventServiceEnv(INSTRUCTOR_NAME), REDIS_URL: redisUrl });
