import { durationMs, httpUrl, kafkaEnv, mongoDatabase, mongoUrl, redisUrl, serviceTokenEnv, serviceUrl, urlProblem } from '@studio/config';
import { z } from 'zod';

export const GATEWAY_NAME = 'gateway';
export const GATEWAY_PORT = 3000;

function runEventsEnv() {
  return {
    RUN_EVENTS_HEARTBEAT_MS: durationMs(
      15_000,
      'how often a live run stream (GET /v1/runs/{runId}/events) sends a heartbeat comment while no event comes, in ms (default 15000)',
    ),
    RUN_EVENTS_RESYNC_MS: durationMs(
      30_000,
      'how often a live run stream re-reads the run from the instructor, so that a missed event cannot leave it open, in ms (default 30000)',
    ),
  };
}

/** An http(s) URL kept exactly as written (an issuer is compared character for character with the tokens' `iss`). */
const exactHttpUrl = (hint: string) =>
  z
    .string()
    .superRefine((value, ctx) => {
      const problem = urlProblem(value, ['http', 'https']);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .describe(hint);

const claimName = (hint: string, defaultName: string) =>
  z.string().regex(/^\S+$/, 'must be a claim name without spaces').default(defaultName).describe(hint);

/** Signature algorithms a token may use: asymmetric only (the issuer's JWKS holds public keys). */
export const OIDC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

/** The OpenID Connect variables: bearer tokens from an issuer, verified against its JWKS (apps/gateway/src/auth/oidc.ts). */
export const OidcEnv = {
  OIDC_ISSUER: exactHttpUrl(
    "OpenID provider's issuer URL, exactly as the tokens' iss claim (its discovery document is <issuer>/.well-known/openid-configuration); unset: OIDC sign-in is off",
  ).optional(),
  OIDC_AUDIENCE: z
    .string()
    .min(1)
    .optional()
    .describe("the gateway's audience: every access token's aud must contain it (required with OIDC_ISSUER)"),
  OIDC_CLIENT_ID: z
    .string()
    .min(1)
    .default('studio-web')
    .describe(
      "the web app's public client id at the provider (authorization code + PKCE), shown by GET /v1/auth/config (default studio-web)",
    ),
  OIDC_SCOPE: z
    .string()
    .regex(/^\S+( \S+)*$/, 'must be scopes separated by single spaces')
    .default('openid profile email')
    .describe('scopes the web app asks for at sign-in (default "openid profile email")'),
  OIDC_TENANT_CLAIM: claimName('claim of the access token that names the tenant (default tenant)', 'tenant'),
  OIDC_ROLE_CLAIM: claimName('claim of the access token that names the role: a string, or a list holding one role (default role)', 'role'),
  OIDC_DISCOVERY_URL: exactHttpUrl(
    'where the gateway reads the discovery document when the issuer URL is not reachable from it (default <OIDC_ISSUER>/.well-known/openid-configuration)',
  ).optional(),
  OIDC_JWKS_URL: exactHttpUrl(
    "where the gateway reads the issuer's keys, overriding the discovery document's jwks_uri (default: jwks_uri)",
  ).optional(),
  OIDC_JWKS_CACHE_MAX_AGE_MS: durationMs(
    600_000,
    'how long a fetched key set is trusted before it is read again, in ms: a key the issuer withdrew stops verifying within this time (default 600000)',
  ),
  OIDC_JWKS_COOLDOWN_MS: durationMs(
    30_000,
    'least time between two key-set reads caused by a token with an unknown key id (a rotated-in key), in ms (default 30000)',
  ),
  OIDC_CLOCK_TOLERANCE_MS: z
    .string()
    .regex(/^\d+$/, 'must be a whole number of milliseconds')
    .transform(Number)
    .pipe(z.number().int().max(300_000, 'must be at most 300000 (5 minutes)'))
    .default(5_000)
    .describe('clock skew allowed when checking exp, nbf and iat, in ms (default 5000; 0 allowed)'),
  OIDC_ALGORITHMS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((alg) => alg.trim())
        .filter((alg) => alg.length > 0),
    )
    .pipe(
      z
        .array(z.enum(OIDC_ALGORITHMS, { message: `each must be one of ${OIDC_ALGORITHMS.join(', ')}` }))
        .min(1, 'must name at least one algorithm'),
    )
    .default([...OIDC_ALGORITHMS])
    .describe(`comma-separated signature algorithms accepted (default all of ${OIDC_ALGORITHMS.join(', ')})`),
};

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
  ...runEventsEnv(),
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
  REWARD_MODEL_URL: serviceUrl('reward-model', 'http://reward-model:3004'),
  /** Sent (x-studio-service-token) on every call to the services above, which refuse calls without it. */
  ...serviceTokenEnv,
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
  ...OidcEnv,
  WEB_DIST: z
    .string()
    .min(1)
    .default('apps/web/dist')
    .describe(
      'folder of the built studio web app (vite build of apps/web), served at / when it holds an index.html; relative to the working directory (default apps/web/dist)',
    ),
  LLM_BASE_URL: httpUrl(
    'OpenAI-compatible model server that serves the deployed adapters for /v1/chat/completions (studio-runtime serve, vLLM), e.g. http://model-server:8000/v1; unset: chat answers 503',
  ).optional(),
  LLM_API_KEY: z.string().min(1).optional().describe('API key of the model server (sent as Authorization: Bearer); unset: none is sent'),
  CHAT_SAMPLE_RATE: z
    .string()
    .regex(/^(?:0(?:\.\d+)?|1(?:\.0+)?)$/, 'must be a number from 0 to 1')
    .transform(Number)
    .default(0.1)
    .describe(
      "share of chat conversations stored and published (chat.conversation.sampled.v1) for the auditor's post-deployment drift scoring, 0 to 1 (default 0.1)",
    ),
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
  CHAT_DEPLOYMENT_CACHE_MS: z
    .string()
    .regex(/^\d+$/, 'must be a whole number of milliseconds')
    .transform(Number)
    .pipe(z.number().int().max(60_000, 'must be at most 60000 (a minute)'))
    .default(5_000)
    .describe(
      'how old a deployment a chat is served from may be, in ms: a deployment made through another gateway replica reaches this one within it; 0 reads the database for every chat (default 5000)',
    ),
});
export type GatewayEnv = z.infer<typeof GatewayEnv>;
