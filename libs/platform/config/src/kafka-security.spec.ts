import { z } from 'zod';
import { ConfigError, kafkaEnv, kafkaSecurityOf, loadConfig, refineKafkaSecurity } from './index';

const Schema = z.object({ ...kafkaEnv('framer') }).superRefine(refineKafkaSecurity);
const brokers = { KAFKA_BROKERS: 'kafka:9093' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(Schema, env, 'framer');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.problem);
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('Kafka SASL and TLS variables', () => {
  it('default to no SASL and no TLS', () => {
    expect(kafkaSecurityOf(loadConfig(Schema, brokers))).toEqual({ sasl: null, ssl: false });
  });

  it('give kafkajs its sasl and ssl settings', () => {
    const config = loadConfig(Schema, {
      ...brokers,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'framer',
      KAFKA_SASL_PASSWORD: 's3cret',
      KAFKA_SSL: 'true',
    });
    expect(kafkaSecurityOf(config)).toEqual({ sasl: { mechanism: 'scram-sha-512', username: 'framer', password: 's3cret' }, ssl: true });
  });

  it('name the missing user name and password when a mechanism is set', () => {
    expect(problemsOf({ ...brokers, KAFKA_SASL_MECHANISM: 'scram-sha-256' })).toEqual([
      'KAFKA_SASL_USERNAME is required when KAFKA_SASL_MECHANISM is set',
      'KAFKA_SASL_PASSWORD is required when KAFKA_SASL_MECHANISM is set',
    ]);
    expect(problemsOf({ ...brokers, KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'framer' })).toEqual([
      'KAFKA_SASL_PASSWORD is required when KAFKA_SASL_MECHANISM is set',
    ]);
  });

  it('name a credential given without a mechanism, never echoing the password', () => {
    const problems = problemsOf({ ...brokers, KAFKA_SASL_USERNAME: 'framer', KAFKA_SASL_PASSWORD: 'hunter2' });
    expect(problems).toEqual([
      'KAFKA_SASL_USERNAME is set but KAFKA_SASL_MECHANISM is not: name the mechanism too (got "framer")',
      'KAFKA_SASL_PASSWORD is set but KAFKA_SASL_MECHANISM is not: name the mechanism too (got "<redacted>")',
    ]);
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('refuse an unknown mechanism and a bad KAFKA_SSL', () => {
    expect(problemsOf({ ...brokers, KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })[0]).toMatch(
      /^KAFKA_SASL_MECHANISM must be one of plain, scram-sha-256, scram-sha-512 \(got "gssapi"\)/,
    );
    expect(problemsOf({ ...brokers, KAFKA_SSL: 'yes' })[0]).toMatch(/^KAFKA_SSL must be true, false, 1 or 0/);
  });

  it('kafkaSecurityOf refuses a mechanism without credentials (configuration built in code)', () => {
    expect(() => kafkaSecurityOf({ KAFKA_SASL_MECHANISM: 'plain' })).toThrow(
      'KAFKA_SASL_USERNAME is required when KAFKA_SASL_MECHANISM is set; KAFKA_SASL_PASSWORD is required when KAFKA_SASL_MECHANISM is set',
    );
  });
});
