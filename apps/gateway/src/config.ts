import { durationMs, httpUrl, kafkaEnv, serviceUrl } from '@studio/config';
import { z } from 'zod';

export const GATEWAY_NAME = 'gateway';
export const GATEWAY_PORT = 3000;

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
  LLM_BASE_URL: httpUrl(
    'OpenAI-compatible model server that serves the deployed adapters for /v1/chat/completions (studio-runtime serve, vLLM), e.g. http://model-server:8000/v1; unset: chat answers 503',
  ).optional(),
  LLM_API_KEY: z.string().min(1).optional().describe('API key of the model server (sent as Authorization: Bearer); unset: none is sent'),
  CHAT_SAMPLE_RATE: z
    .string()
    .regex(/^(?:0(?:\.\d+)?|1(?:\.0+)?)$/, 'must be a number from 0 to 1')
    .transform(Number)
    .default(0.1)
    .describe('share of chat conversations stored for post-deployment audits, 0 to 1 (default 0.1)'),
  CHAT_RETRIEVAL_K: z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(20, 'must be at most 20'))
    .default(3)
    .describe('clauses retrieved to ground each chat answer (default 3, as the audit retrieves for its aligned+RAG variant)'),
  CHAT_MAX_TOKENS: z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(4_096, 'must be at most 4096'))
    .default(512)
    .describe('bound on a chat answer when the request gives no max_tokens (default 512)'),
  CHAT_TIMEOUT_MS: durationMs(120_000, 'bound on one chat generation (a stream included), in ms (default 120000)'),
});
export type GatewayEnv = z.infer<typeof GatewayEnv>;
