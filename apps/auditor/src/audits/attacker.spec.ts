import { ConfigError } from '@studio/config';
import { AuditorEnv } from '../config';
import { adaptiveSettingsOf, attackerOf } from './attacker';

// The attacker's variables of the auditor's environment schema, as the service parses them.
const AttackerEnv = AuditorEnv.pick({
  AUDIT_ATTACKER_BASE_URL: true,
  AUDIT_ATTACKER_MODEL: true,
  AUDIT_ATTACKER_API_KEY: true,
  AUDIT_ATTACKER_ROUNDS: true,
  AUDIT_MAX_ADAPTIVE: true,
});

describe('the auditor’s adaptive attacker configuration', () => {
  const parse = (env: Record<string, string>) => AttackerEnv.safeParse(env);

  it('reads the attacker endpoint, model, key, rounds and goals, with the defaults', () => {
    const parsed = parse({
      AUDIT_ATTACKER_BASE_URL: 'http://attacker.local:9000/v1/',
      AUDIT_ATTACKER_MODEL: 'qwen',
      AUDIT_ATTACKER_API_KEY: 'secret',
      AUDIT_ATTACKER_ROUNDS: '2',
      AUDIT_MAX_ADAPTIVE: '3',
    });
    if (!parsed.success) throw new Error(parsed.error.message);
    const attacker = attackerOf(parsed.data);
    expect(attacker).toMatchObject({ model: 'qwen', endpoint: 'http://attacker.local:9000/v1' });
    expect(adaptiveSettingsOf(parsed.data, attacker)).toEqual({ maxAdaptive: 3, adaptiveRounds: 2 });
    const defaults = parse({});
    if (!defaults.success) throw new Error(defaults.error.message);
    expect(defaults.data).toMatchObject({ AUDIT_ATTACKER_ROUNDS: 4, AUDIT_MAX_ADAPTIVE: 4 });
  });

  it('leaves the audit as it was without an attacker', () => {
    const parsed = parse({});
    if (!parsed.success) throw new Error(parsed.error.message);
    expect(attackerOf(parsed.data)).toBeNull();
    expect(adaptiveSettingsOf(parsed.data, null)).toEqual({});
  });

  it('refuses a URL that is not one and rounds out of range, naming the variable', () => {
    const messages = (env: Record<string, string>) => {
      const parsed = parse(env);
      return parsed.success ? '' : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    };
    expect(messages({ AUDIT_ATTACKER_BASE_URL: 'not a url', AUDIT_ATTACKER_MODEL: 'q' })).toMatch(/^AUDIT_ATTACKER_BASE_URL: /);
    expect(messages({ AUDIT_ATTACKER_ROUNDS: '0' })).toMatch(/AUDIT_ATTACKER_ROUNDS: must be at least 1/);
    expect(messages({ AUDIT_ATTACKER_ROUNDS: '21' })).toMatch(/AUDIT_ATTACKER_ROUNDS: must be at most 20/);
    expect(messages({ AUDIT_ATTACKER_ROUNDS: 'two' })).toMatch(/AUDIT_ATTACKER_ROUNDS: must be a whole number/);
    expect(messages({ AUDIT_MAX_ADAPTIVE: '-1' })).toMatch(/AUDIT_MAX_ADAPTIVE: must be a whole number/);
  });

  it('refuses half an attacker, naming what is missing', () => {
    const config = { AUDIT_ATTACKER_ROUNDS: 4, AUDIT_MAX_ADAPTIVE: 4 };
    expect(() => attackerOf({ ...config, AUDIT_ATTACKER_MODEL: 'q' })).toThrow(ConfigError);
    expect(() => attackerOf({ ...config, AUDIT_ATTACKER_MODEL: 'q' })).toThrow(/AUDIT_ATTACKER_MODEL needs AUDIT_ATTACKER_BASE_URL/);
    expect(() => attackerOf({ ...config, AUDIT_ATTACKER_BASE_URL: 'http://a/v1' })).toThrow(/needs AUDIT_ATTACKER_MODEL/);
    expect(() => attackerOf({ ...config, AUDIT_ATTACKER_API_KEY: 'k' })).toThrow(/AUDIT_ATTACKER_API_KEY is set but no attacker is/);
  });
});
