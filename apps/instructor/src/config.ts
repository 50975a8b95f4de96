import { artifactDir, eventServiceEnv, queuePrefix, redisUrl, serviceTokenEnv } from '@studio/config';
import { z } from 'zod';

export const INSTRUCTOR_NAME = 'instructor';
export const INSTRUCTOR_PORT = 3003;

/**
 * REDIS_URL: BullMQ, where the instructor enqueues training jobs for the model runtime and
 * follows their progress. STUDIO_ARTIFACT_DIR: where runs write their adapters.
 */
export const InstructorEnv = z.object({
  ...eventServiceEnv(INSTRUCTOR_NAME),
  ...serviceTokenEnv,
  REDIS_URL: redisUrl,
  QUEUE_PREFIX: queuePrefix,
  STUDIO_ARTIFACT_DIR: artifactDir,
});
