import { z } from 'zod';
import {
  ConfigError,
  commonEnv,
  FETCH_BAD_PORTS,
  httpUrl,
  kafkaBrokers,
  llmBaseUrl,
  eventServiceEnv,
  loadConfig,
  loadConfigOrExit,
  mongoDatabase,
  mongoUrl,
  port,
  redisUrl,
  serviceUrl,
  urlProblem,
  profileEnv,
  queuePrefix,
  schemaForProfile,
  type ExitTarget,
} from './index';

const Schema = z.object({
  PORT: port(3000),
  KAFKA_BROKERS: kafkaBrokers,
  MONGO_URL: mongoUrl,
  MONGO_DB: mongoDatabase('framer'),
  ...commonEnv,
});

const good = { KAFKA_BROKERS: 'a:9092, b:9093', MONGO_URL: 'mongodb://127.0.0.1:27017' };

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(Schema, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.problem);
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('parses and applies defaults', () => {
    const config = loadConfig(Schema, { ...good, PORT: '8080' });
    expect(config).toEqual({
      PORT: 8080,
      KAFKA_BROKERS: ['a:9092', 'b:9093'],
      MONGO_URL: 'mongodb://127.0.0.1:27017',
      MONGO_DB: 'framer',
      LOG_LEVEL: 'info',
      SHUTDOWN_TIMEOUT_MS: 10_000,
    });
  });

  it('names a missing variable and says what it should hold', () => {
    expect(problemsOf({ MONGO_URL: good.MONGO_URL })).toEqual(['KAFKA_BROKERS is required (comma-separated host:port list)']);
  });

  it('treats an empty value as missing', () => {
    expect(problemsOf({ ...good, KAFKA_BROKERS: '  ' })).toEqual(['KAFKA_BROKERS is required (comma-separated host:port list)']);
  });

  it('names every bad variable, once each, with the value it got', () => {
    const problems = problemsOf({ KAFKA_BROKERS: 'no-port', MONGO_URL: 'http://x', PORT: 'abc', LOG_LEVEL: 'loud' });
    expect(problems).toEqual([
      'PORT must be an integer between 1 and 65535 (got "abc"); expected TCP port to listen on, 1-65535',
      'KAFKA_BROKERS must be host:port entries (got "no-port"); expected comma-separated host:port list',
      expect.stringMatching(/^MONGO_URL must be a URL starting with mongodb:\/\/ or mongodb\+srv:\/\/ \(got "http:\/\/x"\)/),
      expect.stringMatching(/^LOG_LEVEL must be one of fatal, error, warn, info, debug, verbose \(got "loud"\)/),
    ]);
  });

  it('rejects an out-of-range port', () => {
    expect(problemsOf({ ...good, PORT: '70000' })[0]).toMatch(/^PORT must be between 1 and 65535 \(got "70000"\)/);
  });

  it('puts every problem in the message, under the service name', () => {
    expect(() => loadConfig(Schema, {}, 'framer')).toThrow(
      'framer: invalid configuration (2 problems):\n' +
        '  - KAFKA_BROKERS is required (comma-separated host:port list)\n' +
        '  - MONGO_URL is required (MongoDB connection string, e.g. mongodb://127.0.0.1:27017)',
    );
  });

  it('masks credentials in URLs and never echoes secrets', () => {
    const S = z.object({ REDIS_URL: redisUrl, API_TOKEN: z.string().regex(/^tok_/, 'must start with tok_') });
    let message = '';
    try {
      loadConfig(S, { REDIS_URL: 'http://user:hunter2@host:1', API_TOKEN: 'hunter3' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('REDIS_URL must be a URL starting with redis:// or rediss:// (got "http://***@host:1")');
    expect(message).toContain('API_TOKEN must start with tok_ (got "<redacted>")');
    expect(message).not.toMatch(/hunter/);
  });

  it('reads only the variables the schema names', () => {
    expect(Object.keys(loadConfig(Schema, { ...good, UNRELATED: 'x' }))).not.toContain('UNRELATED');
  });
});

describe('URLs a service calls', () => {
  const Urls = z.object({ LLM_BASE_URL: llmBaseUrl, FRAMER_URL: serviceUrl('framer', 'http://framer:3001'), REDIS_URL: redisUrl });
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(Urls, { REDIS_URL: 'redis://127.0.0.1:6379', ...env });
      return [];
    } catch (err) {
      return (err as ConfigError).problems.map((p) => p.problem);
    }
  };

  it('refuses a port that fetch refuses, naming the variable and the port', () => {
    expect(problems({ LLM_BASE_URL: 'http://127.0.0.1:4190/v1' })).toEqual([
      expect.stringMatching(/^LLM_BASE_URL must not use port 4190: fetch refuses it .*\(got "http:\/\/127\.0\.0\.1:4190\/v1"\)/),
    ]);
    expect(problems({ LLM_BASE_URL: 'http://m:8000/v1', FRAMER_URL: 'https://framer:6000' })).toEqual([
      expect.stringMatching(/^FRAMER_URL must not use port 6000: fetch refuses it/),
    ]);
  });

  it('agrees with fetch itself on the bad ports', async () => {
    for (const port of [4190, 6000, 10080]) {
      expect(FETCH_BAD_PORTS.has(port)).toBe(true);
      await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toMatchObject({ cause: { message: 'bad port' } });
    }
    expect(urlProblem('http://127.0.0.1:8000', ['http'])).toBeNull();
  });

  it('refuses unsupported schemes, malformed values, a missing host and a query', () => {
    expect(problems({ LLM_BASE_URL: 'ftp://m:8000/v1' })[0]).toMatch(
      /^LLM_BASE_URL must be a URL starting with http:\/\/ or https:\/\/ \(got "ftp:/,
    );
    expect(problems({ LLM_BASE_URL: 'localhost:8000' })[0]).toMatch(/^LLM_BASE_URL must be a URL starting with http:\/\/ or https:\/\//);
    expect(problems({ LLM_BASE_URL: 'http://m:99999/v1' })[0]).toMatch(/^LLM_BASE_URL must be a URL starting with http/);
    expect(problems({ LLM_BASE_URL: 'not a url' })[0]).toMatch(/^LLM_BASE_URL must be a URL/);
    expect(problems({ LLM_BASE_URL: 'http://m:8000/v1?key=1' })[0]).toMatch(/^LLM_BASE_URL must not have a query or fragment/);
    expect(problems({ LLM_BASE_URL: 'http://m/v1', REDIS_URL: 'redis:///0' })[0]).toMatch(/^REDIS_URL must name a host/);
    expect(problems({ LLM_BASE_URL: 'http://m/v1', REDIS_URL: 'http://r:6379' })[0]).toMatch(
      /^REDIS_URL must be a URL starting with redis:\/\/ or rediss:\/\//,
    );
  });

  it('names what an HTTP URL variable should hold when it is missing', () => {
    expect(() => loadConfig(Urls, { REDIS_URL: 'redis://r:6379' })).toThrow(
      'LLM_BASE_URL is required (OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1)',
    );
  });

  it('accepts the query of a MongoDB connection string', () => {
    expect(urlProblem('mongodb://127.0.0.1:27017/?replicaSet=rs0', ['mongodb'])).toBeNull();
  });

  it('accepts usable URLs, dropping trailing slashes of HTTP base URLs', () => {
    expect(loadConfig(Urls, { LLM_BASE_URL: 'http://model-server:8000/v1/', REDIS_URL: 'redis://r:6379' })).toEqual({
      LLM_BASE_URL: 'http://model-server:8000/v1',
      FRAMER_URL: 'http://framer:3001',
      REDIS_URL: 'redis://r:6379',
    });
    expect(loadConfig(z.object({ U: httpUrl('u') }), { U: 'https://[::1]:8443' })).toEqual({ U: 'https://[::1]:8443' });
  });

  it('refuses a Kafka broker port out of range', () => {
    expect(problemsOf({ ...good, KAFKA_BROKERS: 'a:9092,b:99999' })[0]).toMatch(
      /^KAFKA_BROKERS must be host:port entries with a port between 1 and 65535/,
    );
  });
});

describe('loadConfigOrExit', () => {
  function fakeProcess() {
    const written: string[] = [];
    const codes: number[] = [];
    const target: ExitTarget = {
      stderr: { write: (text: string) => written.push(text) },
      exit: (code: number): never => {
        codes.push(code);
        throw new Error('exited');
      },
    };
    return { target, written, codes };
  }

  it('prints the problems (no stack) and exits 1', () => {
    const { target, written, codes } = fakeProcess();
    expect(() => loadConfigOrExit(Schema, 'framer', { MONGO_URL: good.MONGO_URL }, target)).toThrow('exited');
    expect(codes).toEqual([1]);
    expect(written.join('')).toBe(
      'framer: invalid configuration (1 problem):\n  - KAFKA_BROKERS is required (comma-separated host:port list)\n',
    );
    expect(written.join('')).not.toMatch(/\bat \w/);
  });

  it('returns the config when it is valid', () => {
    const { target, codes } = fakeProcess();
    expect(loadConfigOrExit(Schema, 'framer', good, target).KAFKA_BROKERS).toEqual(['a:9092', 'b:9093']);
    expect(codes).toEqual([]);
  });
});

describe('eventServiceEnv', () => {
  const schema = z.object(eventServiceEnv('framer'));
  const base = { KAFKA_BROKERS: '127.0.0.1:9092', MONGO_URL: 'mongodb://127.0.0.1:27017' };

  it("gives the Kafka consumer's session and handler time limits, 30 s and 20 s by default", () => {
    expect(loadConfig(schema, base)).toMatchObject({ KAFKA_SESSION_TIMEOUT_MS: 30_000, KAFKA_HANDLER_TIMEOUT_MS: 20_000 });
    expect(loadConfig(schema, { ...base, KAFKA_SESSION_TIMEOUT_MS: '60000', KAFKA_HANDLER_TIMEOUT_MS: '45000' })).toMatchObject({
      KAFKA_SESSION_TIMEOUT_MS: 60_000,
      KAFKA_HANDLER_TIMEOUT_MS: 45_000,
    });
    expect(() => loadConfig(schema, { ...base, KAFKA_HANDLER_TIMEOUT_MS: '20s' })).toThrow(/KAFKA_HANDLER_TIMEOUT_MS/);
  });
});

describe('QUEUE_PREFIX', () => {
  const schema = z.object({ REDIS_URL: redisUrl, QUEUE_PREFIX: queuePrefix });
  const redis = { REDIS_URL: 'redis://127.0.0.1:6379' };

  it("defaults to BullMQ's own prefix, so a deployment that does not set it keeps its queues", () => {
    expect(loadConfig(schema, redis).QUEUE_PREFIX).toBe('bull');
    expect(loadConfig(schema, { ...redis, QUEUE_PREFIX: '' }).QUEUE_PREFIX).toBe('bull');
  });

  it('takes a per-deployment prefix, Redis Cluster hash tags and ":" parts included', () => {
    for (const value of ['staging', 'e2e_run_1a2b.x', '{studio}', 'studio:staging'])
      expect(loadConfig(schema, { ...redis, QUEUE_PREFIX: value }).QUEUE_PREFIX).toBe(value);
  });

  it('refuses a prefix that would make odd keys, naming the variable', () => {
    for (const value of ['two words', 'trailing:', ':leading', 'a::b', 'star*'])
      expect(() => loadConfig(schema, { ...redis, QUEUE_PREFIX: value })).toThrow(/QUEUE_PREFIX/);
  });
});

describe('schemaForProfile', () => {
  const schema = z.object({ ...eventServiceEnv('framer'), REDIS_URL: redisUrl, QUEUE_PREFIX: queuePrefix, ...profileEnv });
  const servers = { KAFKA_BROKERS: '127.0.0.1:9092', MONGO_URL: 'mongodb://127.0.0.1:27017', REDIS_URL: 'redis://127.0.0.1:6379' };

  it('on the distributed profile (the default) requires the servers', () => {
    expect(schemaForProfile(schema, {})).toBe(schema);
    expect(() => loadConfig(schemaForProfile(schema, {}), {})).toThrow(/KAFKA_BROKERS is required/);
    expect(loadConfig(schemaForProfile(schema, servers), servers)).toMatchObject({
      STUDIO_PROFILE: 'distributed',
      REDIS_URL: 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: 'bull',
    });
  });

  it('on the embedded profile neither requires nor reads the servers, and requires STUDIO_DATA_DIR', () => {
    const embedded = { STUDIO_PROFILE: 'embedded', STUDIO_DATA_DIR: '/tmp/studio' };
    const config = loadConfig(schemaForProfile(schema, embedded), { ...embedded, ...servers });
    expect(config).toMatchObject({ STUDIO_PROFILE: 'embedded', STUDIO_DATA_DIR: '/tmp/studio', KAFKA_GROUP_ID: 'studio-framer' });
    expect(config).not.toHaveProperty('MONGO_URL');
    expect(config).not.toHaveProperty('REDIS_URL');
    expect(config).not.toHaveProperty('QUEUE_PREFIX');
    expect(() => loadConfig(schemaForProfile(schema, { STUDIO_PROFILE: 'embedded' }), { STUDIO_PROFILE: 'embedded' })).toThrow(
      /STUDIO_DATA_DIR is required/,
    );
    expect(() => loadConfig(schema, { ...servers, STUDIO_PROFILE: 'cloud' })).toThrow(/STUDIO_PROFILE/);
  });
});
