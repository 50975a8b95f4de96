import {
  artifactDir,
  durationMs,
  httpUrl,
  eventServiceEnv,
  llmApiKey,
  llmBaseUrl,
  qdrantApiKey,
  qdrantUrl,
  queuePrefix,
  redisUrl,
  serviceTokenEnv,
  serviceUrl,
} from '@studio/config';
import { DEFAULT_DRIFT_MARGINS } from '@studio/auditing';
import { DEFAULT_RED_TEAM_SETTINGS, MAX_ADAPTIVE_ROUNDS } from '@studio/pipeline';
import { z } from 'zod';

export const AUDITOR_NAME = 'auditor';
export const AUDITOR_PORT = 3005;

const positiveInt = (defaultValue: number, hint: string) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1'))
    .default(defaultValue)
    .describe(hint);

/**
 * LLM_BASE_URL: the OpenAI-compatible model server that answers for the base model and loads
 * adapters by name (vLLM or `studio-runtime serve`); QDRANT_URL: the clause index for the
 * aligned+RAG variant; FRAMER_URL: datasets, clauses and thresholds; INSTRUCTOR_URL: the context's
 * newest reward model, which the model server at LLM_BASE_URL loads to score every answer; REDIS_URL:
 * the `evaluation` queue the audits run from; STUDIO_ARTIFACT_DIR: held-out sets, adapters and reports.
 */
export const AuditorEnv = z.object({
  ...eventServiceEnv(AUDITOR_NAME),
  ...serviceTokenEnv,
  LLM_BASE_URL: llmBaseUrl,
  LLM_API_KEY: llmApiKey,
  EMBEDDING_MODEL: z.string().min(1).default('all-minilm-l6-v2').describe('embedding model on the LLM endpoint (default all-minilm-l6-v2)'),
  QDRANT_URL: qdrantUrl,
  QDRANT_API_KEY: qdrantApiKey,
  FRAMER_URL: serviceUrl('framer', 'http://framer:3001'),
  INSTRUCTOR_URL: serviceUrl('instructor', 'http://instructor:3003'),
  REDIS_URL: redisUrl,
  QUEUE_PREFIX: queuePrefix,
  STUDIO_ARTIFACT_DIR: artifactDir,
  AUDIT_MAX_ITEMS: positiveInt(24, 'held-out items evaluated per audit (default 24)'),
  AUDIT_MAX_TOKENS: positiveInt(112, 'bound on each generated answer, in tokens (default 112)'),
  AUDIT_RAG_TOP_K: positiveInt(3, 'clauses retrieved for the aligned+RAG variant (default 3)'),
  AUDIT_CONCURRENCY: positiveInt(8, 'chat requests in flight at once (default 8)'),
  AUDIT_MAX_ATTACKS: z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .default(24)
    .describe('attacks generated from the rules and asked of every variant per audit; 0: no red team (default 24)'),
  AUDIT_MAX_BENIGN: z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .default(12)
    .describe('benign probes (over-refusal) asked of every variant per audit; 0: none (default 12)'),
  AUDIT_MAX_GENERAL_ABILITY: z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .optional()
    .describe('items of the general-ability set answered by every variant per audit; 0: none (default: all)'),
  AUDIT_ATTACKER_BASE_URL: httpUrl(
    'OpenAI-compatible base URL of the adaptive attacker model, e.g. http://127.0.0.1:8000/v1 (with AUDIT_ATTACKER_MODEL; unset: no adaptive attacks, and the report says so)',
  ).optional(),
  AUDIT_ATTACKER_MODEL: z
    .string()
    .min(1, 'must not be empty')
    .optional()
    .describe('the attacker model at AUDIT_ATTACKER_BASE_URL: it rewrites each attack from the audited model’s replies'),
  AUDIT_ATTACKER_API_KEY: z
    .string()
    .min(1, 'must not be empty')
    .optional()
    .describe('API key of the attacker endpoint, sent as Authorization: Bearer (unset: none is sent)'),
  AUDIT_ATTACKER_ROUNDS: z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(MAX_ADAPTIVE_ROUNDS, `must be at most ${MAX_ADAPTIVE_ROUNDS}`))
    .default(DEFAULT_RED_TEAM_SETTINGS.adaptiveRounds)
    .describe(
      `prompts the adaptive attacker tries per goal and audited variant, 1-${MAX_ADAPTIVE_ROUNDS} (default ${DEFAULT_RED_TEAM_SETTINGS.adaptiveRounds})`,
    ),
  AUDIT_MAX_ADAPTIVE: z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .default(DEFAULT_RED_TEAM_SETTINGS.maxAdaptive)
    .describe(
      `goals attacked adaptively per audit, spread over clauses, against every variant; 0: none (default ${DEFAULT_RED_TEAM_SETTINGS.maxAdaptive})`,
    ),
  AUDIT_ATTEMPTS: z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(20, 'must be at most 20'))
    .default(8)
    .describe('attempts per audit before it fails, retried with exponential back-off (default 8)'),
  AUDIT_RETRY_DELAY_MS: durationMs(5_000, 'wait before the first retry of an audit, doubled for each later one, in ms (default 5000)'),
  DRIFT_WINDOW_MS: durationMs(
    3_600_000,
    'length of a drift window, in ms: the sampled chat conversations of a deployment (chat.conversation.sampled.v1) are scored per window, windows aligned to multiples of it (default 3600000, an hour)',
  ),
  DRIFT_SETTLE_MS: z
    .string()
    .regex(/^\d+$/, 'must be a whole number of milliseconds')
    .transform(Number)
    .default(60_000)
    .describe("how long after a window's end its scoring waits for samples still on their way, in ms (default 60000; 0 allowed)"),
  DRIFT_MIN_SAMPLES: positiveInt(20, 'sampled conversations a window needs before it is compared with the release audit (default 20)'),
  DRIFT_MARGINS: z
    .string()
    .default('')
    .describe(
      `how far below its release-audit figure each drift metric may fall before audit.drift.detected.v1, as metric=value pairs separated by commas, e.g. "answered=0.2,reward=1"; metrics not named keep their default (${Object.entries(
        DEFAULT_DRIFT_MARGINS,
      )
        .map(([name, value]) => `${name}=${value}`)
        .join(', ')})`,
    ),
});
