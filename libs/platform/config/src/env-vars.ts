import { z } from 'zod';

/**
 * Shared pieces for the variables most apps read. Each carries a description, which
 * loadConfig prints as the hint when the variable is missing or bad.
 */

const HOST_PORT = /^([A-Za-z0-9.-]+):(\d{1,5})$/;

/**
 * Ports the Fetch standard blocks ("bad ports"): Node's fetch refuses them with "fetch failed"
 * (cause "bad port") on every call, whatever listens there. From the WHATWG Fetch standard,
 * §2.9 "port blocking", as undici implements it.
 */
export const FETCH_BAD_PORTS: ReadonlySet<number> = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117,
  119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636,
  989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/**
 * What is wrong with a URL a service will call, or null when it is usable: it must parse, use
 * one of `schemes` and name a host; an HTTP URL (called with fetch) must also carry no query or
 * fragment (it is a base URL, extended with paths) and not use a port fetch refuses.
 */
export function urlProblem(value: string, schemes: readonly string[]): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `must be a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}`;
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (!schemes.includes(scheme)) return `must be a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}`;
  if (url.hostname === '') return 'must name a host';
  if (scheme !== 'http' && scheme !== 'https') return null;
  if (url.search !== '' || url.hash !== '') return 'must not have a query or fragment (it is a base URL)';
  if (url.port !== '' && FETCH_BAD_PORTS.has(Number(url.port)))
    return `must not use port ${url.port}: fetch refuses it (a "bad port" of the Fetch standard), so every call would fail`;
  return null;
}

function usableUrl(schemes: string[]) {
  return z.string().superRefine((value, ctx) => {
    const problem = urlProblem(value, schemes);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
}

function urlWithScheme(schemes: string[], hint: string) {
  return usableUrl(schemes).describe(hint);
}

/**
 * Base URL of an HTTP API a service calls (http or https, a usable port, no query): trailing
 * slashes are removed, so paths can be appended.
 */
export function httpUrl(hint: string, defaultUrl?: string) {
  const schema = usableUrl(['http', 'https']).transform((value) => value.replace(/\/+$/, ''));
  return (defaultUrl === undefined ? schema : schema.default(defaultUrl)).describe(hint);
}

/** Base URL of another service's HTTP API, e.g. FRAMER_URL. */
export function serviceUrl(service: string, defaultUrl: string) {
  return httpUrl(`base URL of the ${service} service's HTTP API (default ${defaultUrl})`, defaultUrl);
}

/** TCP port 1–65535. */
export function port(defaultPort?: number) {
  const schema = z
    .string()
    .regex(/^\d+$/, 'must be an integer between 1 and 65535')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be between 1 and 65535').max(65535, 'must be between 1 and 65535'));
  return (defaultPort === undefined ? schema : schema.default(defaultPort)).describe('TCP port to listen on, 1-65535');
}

/** Comma-separated `host:port` list → array. */
export const kafkaBrokers = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((b) => b.trim())
      .filter((b) => b.length > 0),
  )
  .pipe(
    z
      .array(
        z
          .string()
          .regex(HOST_PORT, 'must be host:port entries')
          .refine((entry) => {
            const port = Number(HOST_PORT.exec(entry)?.[2]);
            return port >= 1 && port <= 65535;
          }, 'must be host:port entries with a port between 1 and 65535'),
      )
      .min(1, 'must list at least one broker'),
  )
  .describe('comma-separated host:port list');

export const mongoUrl = urlWithScheme(['mongodb', 'mongodb+srv'], 'MongoDB connection string, e.g. mongodb://127.0.0.1:27017');
export const redisUrl = urlWithScheme(['redis', 'rediss'], 'Redis URL, e.g. redis://127.0.0.1:6379');
export const qdrantUrl = httpUrl('Qdrant REST URL, e.g. http://127.0.0.1:6333');
export const llmBaseUrl = httpUrl('OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1');

/** Name of a MongoDB database: the service's own. */
export function mongoDatabase(defaultName: string) {
  return z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,63}$/, 'must be 1-63 letters, digits, "_" or "-"')
    .default(defaultName)
    .describe(`MongoDB database this service owns (default ${defaultName})`);
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'verbose'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const logLevel = z
  .enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` })
  .default('info')
  .describe(`log level: ${LOG_LEVELS.join(' | ')}`);

export function serviceName(defaultName: string) {
  return z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and "-"')
    .default(defaultName)
    .describe('service name used in logs, event sources and client ids');
}

/** A positive duration in milliseconds, e.g. SHUTDOWN_TIMEOUT_MS. */
export function durationMs(defaultMs: number, hint: string) {
  return z
    .string()
    .regex(/^\d+$/, 'must be a whole number of milliseconds')
    .transform(Number)
    .pipe(z.number().int().positive('must be greater than 0'))
    .default(defaultMs)
    .describe(hint);
}

/** Kafka consumer group id (one per service: each service sees every event once). */
export function kafkaGroupId(defaultGroup: string) {
  return z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,200}$/, 'must be letters, digits, ".", "_" or "-"')
    .default(defaultGroup)
    .describe(`Kafka consumer group id (default ${defaultGroup})`);
}

/** "true"/"false"/"1"/"0" → boolean. */
export function flag(defaultValue: boolean, hint: string) {
  return z
    .enum(['true', 'false', '1', '0'], { error: 'must be true, false, 1 or 0' })
    .transform((v) => v === 'true' || v === '1')
    .default(defaultValue)
    .describe(hint);
}

/** The variables every service reads. */
export const commonEnv = {
  LOG_LEVEL: logLevel,
  SHUTDOWN_TIMEOUT_MS: durationMs(10_000, 'how long graceful shutdown may take before the process exits 1, in ms'),
};

/** Interface the HTTP server binds to. */
export const host = z
  .string()
  .regex(/^[A-Za-z0-9.:-]+$/, 'must be a host name or IP address')
  .default('0.0.0.0')
  .describe('interface to bind the HTTP server to (default 0.0.0.0)');

/** Prepended to every Kafka topic name (an environment name, or a test run's unique name). */
export const kafkaTopicPrefix = z
  .string()
  .regex(/^[A-Za-z0-9._-]*$/, 'may contain only letters, digits, ".", "_" and "-"')
  .default('')
  .describe('prefix of every Kafka topic name, e.g. "staging." (default none)');

/**
 * BullMQ's own key prefix: the default of QUEUE_PREFIX, so that a deployment that does not set it
 * keeps its queues (the same as DEFAULT_QUEUE_PREFIX of @studio/contracts, which this library
 * does not depend on).
 */
const BULLMQ_DEFAULT_PREFIX = 'bull';

/**
 * QUEUE_PREFIX: the first part of the Redis key of every job queue (BullMQ's `prefix`:
 * `<prefix>:training:<job id>`). Producers and workers of one queue must use the same one;
 * deployments (or test stacks) that share one Redis use different ones, so that no worker takes
 * another's jobs. The Python training worker reads the same variable.
 */
export const queuePrefix = z
  .string()
  .regex(
    /^[A-Za-z0-9._{}-]+(?::[A-Za-z0-9._{}-]+)*$/,
    'must be letters, digits, ".", "_", "-", "{", "}", in parts separated by single ":" (no spaces, no leading or trailing ":")',
  )
  .default(BULLMQ_DEFAULT_PREFIX)
  .describe(
    `Redis key prefix of the job queues (BullMQ's prefix; default "${BULLMQ_DEFAULT_PREFIX}"): give each deployment sharing one Redis its own, and the same to every service and training worker of one deployment`,
  );

/** The variables of a service on the event bus (KAFKA_SASL_* and KAFKA_SSL included: see kafkaSecurityEnv). */
export function kafkaEnv(service: string) {
  return {
    KAFKA_BROKERS: kafkaBrokers,
    KAFKA_GROUP_ID: kafkaGroupId(`studio-${service}`),
    KAFKA_TOPIC_PREFIX: kafkaTopicPrefix,
    ...kafkaSecurityEnv,
  };
}

/** The variables of a service that consumes events and owns a MongoDB database. */
export function eventServiceEnv(service: string) {
  return {
    ...kafkaEnv(service),
    MONGO_URL: mongoUrl,
    MONGO_DB: mongoDatabase(`studio_${service.replace(/-/g, '_')}`),
    /** Where handled event ids are remembered: Redis when set (faster), else the service's Mongo database. */
    DEDUP_REDIS_URL: redisUrl.optional(),
    KAFKA_SESSION_TIMEOUT_MS: durationMs(
      30_000,
      "the Kafka consumer's session, in ms (default 30000): a member silent for this long is taken out of its group",
    ),
    KAFKA_HANDLER_TIMEOUT_MS: durationMs(
      20_000,
      'the longest one attempt of an event handler may take, in ms (default 20000; below KAFKA_SESSION_TIMEOUT_MS): past it the attempt fails, and after its attempts the event is dead-lettered',
    ),
  };
}

/** The artifact folder every service and training worker mounts at the same path. */
export const artifactDir = z
  .string()
  .regex(/^\//, 'must be an absolute path')
  .describe(
    'absolute path of the artifact folder (documents, datasets, adapters, reports) that every service and the training workers share, e.g. /var/lib/studio/artifacts',
  );

/** Header that carries the service credential on every service-to-service HTTP call. */
export const SERVICE_TOKEN_HEADER = 'x-studio-service-token';

/**
 * SERVICE_TOKEN: the credential internal services require on every HTTP request (but /health and
 * /ready), in the `x-studio-service-token` header, and that their callers (the gateway, the auditor)
 * send. One random value shared by the deployment's services, from a secret; at least 32 characters.
 */
export const serviceToken = z
  .string()
  .min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)')
  .describe(`shared credential of service-to-service HTTP calls (${SERVICE_TOKEN_HEADER} header), at least 32 characters, from a secret`);

/** The variable of a service that requires the service credential, or sends it. */
export const serviceTokenEnv = { SERVICE_TOKEN: serviceToken };

/** The API key of an OpenAI-compatible model server (sent as `Authorization: Bearer`); unset: none is sent. */
export const llmApiKey = z
  .string()
  .min(1)
  .optional()
  .describe('API key of the model server at LLM_BASE_URL, sent as Authorization: Bearer (studio-runtime serve --api-key)');

/** The API key of the Qdrant server (`api-key` header); unset: none is sent. */
export const qdrantApiKey = z
  .string()
  .min(1)
  .optional()
  .describe('API key of the Qdrant server at QDRANT_URL (its service.api_key), sent in the api-key header');

export const KAFKA_SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

/** How a service authenticates to Kafka and whether it speaks TLS to it: from KAFKA_SASL_* and KAFKA_SSL. */
export interface KafkaSecurity {
  sasl: { mechanism: KafkaSaslMechanism; username: string; password: string } | null;
  ssl: boolean;
}

/**
 * The Kafka security variables, read with the other Kafka variables. KAFKA_SASL_MECHANISM without
 * KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD (or either of those without a mechanism) is a
 * configuration error naming the missing variable: see `kafkaSecurityOf`.
 */
export const kafkaSecurityEnv = {
  KAFKA_SASL_MECHANISM: z
    .enum(KAFKA_SASL_MECHANISMS, { error: `must be one of ${KAFKA_SASL_MECHANISMS.join(', ')}` })
    .optional()
    .describe(`SASL mechanism to authenticate to Kafka with: ${KAFKA_SASL_MECHANISMS.join(' | ')} (unset: no SASL)`),
  KAFKA_SASL_USERNAME: z.string().min(1).optional().describe('Kafka SASL user name (with KAFKA_SASL_MECHANISM)'),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional().describe('Kafka SASL password (with KAFKA_SASL_MECHANISM), from a secret'),
  KAFKA_SSL: flag(false, 'connect to the Kafka brokers over TLS (default false)'),
};

interface KafkaSecurityValues {
  KAFKA_SASL_MECHANISM?: KafkaSaslMechanism | undefined;
  KAFKA_SASL_USERNAME?: string | undefined;
  KAFKA_SASL_PASSWORD?: string | undefined;
  KAFKA_SSL?: boolean | undefined;
}

/** What is wrong with a set of Kafka security variables, one problem per variable (none: they fit together). */
export function kafkaSecurityProblems(values: KafkaSecurityValues): { variable: keyof KafkaSecurityValues; message: string }[] {
  const problems: { variable: keyof KafkaSecurityValues; message: string }[] = [];
  if (values.KAFKA_SASL_MECHANISM) {
    for (const variable of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const)
      if (!values[variable]) problems.push({ variable, message: `${variable} is required when KAFKA_SASL_MECHANISM is set` });
  } else {
    for (const variable of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const)
      if (values[variable])
        problems.push({ variable, message: `${variable} is set but KAFKA_SASL_MECHANISM is not: name the mechanism too` });
  }
  return problems;
}

/**
 * A zod refinement for an environment schema holding kafkaSecurityEnv: its problems become issues
 * on the variable concerned, so loadConfig names it. (bootstrap's serviceSchema adds it.)
 */
export function refineKafkaSecurity(values: object, ctx: z.RefinementCtx): void {
  for (const { variable, message } of kafkaSecurityProblems(values as KafkaSecurityValues))
    ctx.addIssue({ code: 'custom', path: [variable], message });
}

/** The kafkajs security settings of validated Kafka variables; throws (naming the variable) on a mismatch. */
export function kafkaSecurityOf(values: KafkaSecurityValues): KafkaSecurity {
  const problems = kafkaSecurityProblems(values);
  if (problems.length > 0) throw new Error(problems.map((p) => p.message).join('; '));
  const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = values;
  return {
    sasl: mechanism && username && password ? { mechanism, username, password } : null,
    ssl: values.KAFKA_SSL ?? false,
  };
}

/** The two profiles of the architecture: the same services on servers, or in one process on in-process adapters. */
export const PROFILES = ['distributed', 'embedded'] as const;
export type Profile = (typeof PROFILES)[number];

/** Which adapters a service's ports get: every service reads these. */
export const profileEnv = {
  STUDIO_PROFILE: z
    .enum(PROFILES)
    .default('distributed')
    .describe(
      'distributed (Kafka, MongoDB, Redis, Qdrant named by their variables) or embedded (in-process bus, queues and vector index, SQLite databases under STUDIO_DATA_DIR; services of one process with the same STUDIO_DATA_DIR share them); default distributed',
    ),
  STUDIO_DATA_DIR: z
    .string()
    .regex(/^\//, 'must be an absolute path')
    .optional()
    .describe('embedded profile: absolute path of the folder of the embedded databases and vector index, e.g. /home/me/.studio/data'),
};

/**
 * The variables that name the servers of the distributed profile (and QUEUE_PREFIX, the queues'
 * keys on its Redis). On the embedded profile they are neither required nor read (a service there
 * has no server to reach; its in-process queue has no keys).
 */
export const DISTRIBUTED_SERVER_VARIABLES: readonly string[] = [
  'KAFKA_BROKERS',
  'MONGO_URL',
  'REDIS_URL',
  'DEDUP_REDIS_URL',
  'QUEUE_PREFIX',
  'QDRANT_URL',
  'QDRANT_API_KEY',
];

/**
 * A service's schema for the profile `env` asks for: as given on the distributed profile; on
 * the embedded one without DISTRIBUTED_SERVER_VARIABLES and with STUDIO_DATA_DIR required.
 */
export function schemaForProfile(schema: z.ZodObject<Record<string, z.ZodType>>, env: Record<string, string | undefined>) {
  if (env['STUDIO_PROFILE']?.trim() !== 'embedded') return schema;
  const shape: Record<string, z.ZodType> = {};
  for (const [key, value] of Object.entries(schema.shape)) if (!DISTRIBUTED_SERVER_VARIABLES.includes(key)) shape[key] = value;
  if ('STUDIO_DATA_DIR' in shape) {
    shape['STUDIO_DATA_DIR'] = z
      .string()
      .regex(/^\//, 'must be an absolute path')
      .describe('absolute path of the folder of the embedded databases and vector index (required on the embedded profile)');
  }
  return z.object(shape);
}
