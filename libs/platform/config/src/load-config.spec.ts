import { z } from 'zod';
import {
  ConfigError,
  commonEnv,
  kafkaBrokers,
  loadConfig,
  loadConfigOrExit,
  mongoDatabase,
  mongoUrl,
  port,
  redisUrl,
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
