import { durationMs, kafkaEnv, mongoDatabase, mongoUrl, redisUrl, serviceUrl } from '@studio/config';
import { z } from 'zod';

export const GATEWAY_NAME = 'gateway';
export const GATEWAY_PORT = 3000;

/** A per-tenant, per-minute request limit; 0 turns it off. */
function perMinute(defaultLimit: number, what: string) {
  return z
    .string()
    .regex(/^\d+$/, 'must be a whole number of requests')
    .transform(Number)
    .pipe(z.number().int().min(0, 'must be at least 0').max(1_000_000, 'must be at most 1000000'))
    .default(defaultLimit)
    .describe(`${what} each tenant may send per minute (fixed window) before 429 with Retry-After; 0: no limit (default ${defaultLimit})`);
}

export const GatewayEnv = z.object({
  ...kafkaEnv(GATEWAY_NAME),
  MAX_DOCUMENT_BYTES: z
    .string()
    .regex(/^\d+$/, 'must be a whole number of bytes')
    .transform(Number)
    .pipe(
      z.number().int().min(1, 'must be at least 1').max(700_000, 'must be at most 700000 (the document travels inside one Kafka message)'),
    )
    .default(512 * 1024)
    .describe('largest document accepted by POST /v1/contexts/{contextId}/documents, in UTF-8 bytes (default 524288)'),
  PUBLISH_TIMEOUT_MS: durationMs(
    5_000,
    'how long an upload waits for the Kafka broker to acknowledge its event before answering 503 with Retry-After, in ms (default 5000)',
  ),
  FRAMER_URL: serviceUrl('framer', 'http://framer:3001'),
  ONTOLOGY_URL: serviceUrl('ontology', 'http://ontology:3002'),
  INSTRUCTOR_URL: serviceUrl('instructor', 'http://instructor:3003'),
  AUDITOR_URL: serviceUrl('auditor', 'http://auditor:3005'),
  ADMIN_API_KEY: z
    .string()
    .min(24, 'must be at least 24 characters')
    .optional()
    .describe('key of the administration operations (x-admin-key header); unset: administration is off'),
  MONGO_URL: mongoUrl.describe("the gateway's MongoDB: API keys (hashed) and the audit log, e.g. mongodb://127.0.0.1:27017"),
  MONGO_DB: mongoDatabase('studio_gateway'),
  REDIS_URL: redisUrl.describe('Redis of the per-tenant rate limits (shared by every gateway replica), e.g. redis://127.0.0.1:6379'),
  RATE_LIMIT_CHAT_PER_MINUTE: perMinute(60, 'chat completions'),
  RATE_LIMIT_UPLOADS_PER_MINUTE: perMinute(30, 'document uploads'),
  RATE_LIMIT_RUNS_PER_MINUTE: perMinute(10, 'training run requests'),
  WEB_DIST: z
    .string()
    .min(1)
    .default('apps/web/dist')
    .describe(
      'folder of the built studio web app (vite build of apps/web), served at / when it holds an index.html; relative to the working directory (default apps/web/dist)',
    ),
});
export type GatewayEnv = z.infer<typeof GatewayEnv>;
