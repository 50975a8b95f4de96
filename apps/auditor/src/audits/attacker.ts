import { ConfigError } from '@studio/config';
import { OpenAiCompatibleClient } from '@studio/llm';
import type { AttackerPort, AuditSettings } from '@studio/pipeline';

/** The auditor's attacker variables (AuditorEnv), as parsed. */
export interface AttackerConfig {
  AUDIT_ATTACKER_BASE_URL?: string | undefined;
  AUDIT_ATTACKER_MODEL?: string | undefined;
  AUDIT_ATTACKER_API_KEY?: string | undefined;
  AUDIT_ATTACKER_ROUNDS: number;
  AUDIT_MAX_ADAPTIVE: number;
}

/**
 * The audit's adaptive attacker from the auditor's configuration: a model at an OpenAI-compatible
 * endpoint (AUDIT_ATTACKER_BASE_URL and AUDIT_ATTACKER_MODEL, which go together; the key is
 * optional), or null when none is configured. Throws ConfigError naming the variable otherwise.
 */
export function attackerOf(config: AttackerConfig, service = 'auditor'): AttackerPort | null {
  const url = config.AUDIT_ATTACKER_BASE_URL;
  const model = config.AUDIT_ATTACKER_MODEL;
  if (url === undefined && model === undefined) {
    if (config.AUDIT_ATTACKER_API_KEY !== undefined)
      throw new ConfigError(
        [
          {
            variable: 'AUDIT_ATTACKER_API_KEY',
            problem: 'AUDIT_ATTACKER_API_KEY is set but no attacker is: set AUDIT_ATTACKER_BASE_URL and AUDIT_ATTACKER_MODEL',
          },
        ],
        service,
      );
    return null;
  }
  if (url === undefined)
    throw new ConfigError(
      [
        {
          variable: 'AUDIT_ATTACKER_BASE_URL',
          problem: 'AUDIT_ATTACKER_MODEL needs AUDIT_ATTACKER_BASE_URL (the endpoint that serves it)',
        },
      ],
      service,
    );
  if (model === undefined)
    throw new ConfigError(
      [{ variable: 'AUDIT_ATTACKER_MODEL', problem: 'AUDIT_ATTACKER_BASE_URL needs AUDIT_ATTACKER_MODEL (the model to ask there)' }],
      service,
    );
  const apiKey = config.AUDIT_ATTACKER_API_KEY;
  return {
    llm: new OpenAiCompatibleClient({ baseUrl: url, timeoutMs: 600_000, ...(apiKey ? { apiKey } : {}) }),
    model,
    endpoint: url,
  };
}

/** The adaptive bounds of the audit settings: given only with an attacker, so an audit without one is the one it was before. */
export function adaptiveSettingsOf(
  config: AttackerConfig,
  attacker: AttackerPort | null,
): Pick<AuditSettings, 'maxAdaptive' | 'adaptiveRounds'> {
  return attacker ? { maxAdaptive: config.AUDIT_MAX_ADAPTIVE, adaptiveRounds: config.AUDIT_ATTACKER_ROUNDS } : {};
}
