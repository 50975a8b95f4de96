import { artifactDir, eventServiceEnv, serviceTokenEnv, serviceUrl } from '@studio/config';
import { z } from 'zod';

export const REWARD_MODEL_NAME = 'reward-model';
export const REWARD_MODEL_PORT = 3004;

/**
 * The service's own database (MONGO_URL, MONGO_DB) and event bus (KAFKA_*): preferences,
 * preference dataset versions and their resolutions; it consumes submitted feedback, published
 * dataset versions and completed audits. STUDIO_ARTIFACT_DIR: where preference datasets are
 * written (the training workers read them there). FRAMER_URL: the context's values (importance,
 * priorities), a dataset version's examples and system prompt; AUDITOR_URL: an audit's report.
 */
export const RewardModelEnv = z.object({
  ...eventServiceEnv(REWARD_MODEL_NAME),
  ...serviceTokenEnv,
  STUDIO_ARTIFACT_DIR: artifactDir,
  FRAMER_URL: serviceUrl('framer', 'http://framer:3001'),
  AUDITOR_URL: serviceUrl('auditor', 'http://auditor:3005'),
});
export type RewardModelEnv = z.infer<typeof RewardModelEnv>;
