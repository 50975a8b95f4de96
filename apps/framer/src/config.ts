import { artifactDir, eventServiceEnv, httpUrl, queuePrefix, redisUrl, serviceTokenEnv } from '@studio/config';
import { z } from 'zod';

export const FRAMER_NAME = 'framer';
export const FRAMER_PORT = 3001;

/**
 * STUDIO_ARTIFACT_DIR: where documents and dataset versions are written. REDIS_URL: the
 * `generation` queue, where dataset versions with teacher synthesis are queued and run.
 * TEACHER_BASE_URL: the OpenAI-compatible endpoint of the teacher (deployments point it at their
 * model server, which serves the base model), API key from STUDIO_TEACHER_API_KEY; unset: dataset
 * versions with a teacher are refused. TEACHER_MODEL: the model asked when a request names none.
 */
export const FramerEnv = z.object({
  ...eventServiceEnv(FRAMER_NAME),
  ...serviceTokenEnv,
  STUDIO_ARTIFACT_DIR: artifactDir,
  REDIS_URL: redisUrl,
  QUEUE_PREFIX: queuePrefix,
  TEACHER_BASE_URL: httpUrl('OpenAI-compatible base URL of the teacher model, e.g. http://model-server:8000/v1').optional(),
  TEACHER_MODEL: z.string().min(1).default('smollm2-135m-instruct').describe('teacher model when a request names none'),
  STUDIO_TEACHER_API_KEY: z.string().min(1).optional().describe('API key of the teacher endpoint'),
});
export type FramerEnv = z.infer<typeof FramerEnv>;
