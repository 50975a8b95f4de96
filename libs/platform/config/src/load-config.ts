import { z } from 'zod';

/** An app's environment contract: one zod schema per variable name. */
export type EnvSchema = z.ZodObject<Record<string, z.ZodType>>;
export type Env = Record<string, string | undefined>;

export interface ConfigProblem {
  variable: string;
  problem: string;
}

/** Thrown by loadConfig; its message names every bad or missing variable, one per line. */
export class ConfigError extends Error {
  constructor(
    readonly problems: ConfigProblem[],
    readonly service?: string,
  ) {
    super(
      `${service ? `${service}: ` : ''}invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.problem}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

const SECRET_NAME = /(PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE)/i;

/** A value safe to echo in an error: secrets are never shown, URL credentials are masked. */
function shown(variable: string, value: string): string {
  if (SECRET_NAME.test(variable)) return '<redacted>';
  const masked = value.replace(/\/\/[^/@\s]*@/g, '//***@');
  return masked.length > 120 ? `${masked.slice(0, 117)}...` : masked;
}

function describeProblem(
  variable: string,
  schema: z.ZodType | undefined,
  raw: string | undefined,
  message: string,
  crossVariable: boolean,
): string {
  const hint = schema?.description;
  // A rule across variables (e.g. KAFKA_SASL_USERNAME with KAFKA_SASL_MECHANISM) says itself why.
  if (crossVariable) return raw === undefined ? message : `${message} (got "${shown(variable, raw)}")`;
  if (raw === undefined) return `${variable} is required${hint ? ` (${hint})` : ''}`;
  const what = /^must\b/.test(message) ? `${variable} ${message}` : `${variable} is invalid: ${message}`;
  return `${what} (got "${shown(variable, raw)}")${hint ? `; expected ${hint}` : ''}`;
}

/** An issue raised by a refinement of the whole schema about one variable, rather than by the variable's own schema. */
function isCrossVariable(issue: z.core.$ZodIssue): boolean {
  return issue.code === 'custom' && issue.path.length === 1 && issue.message.startsWith(`${String(issue.path[0])} `);
}

/**
 * Validates an app's environment once, at start-up. Only the variables the schema names are
 * read; an empty string counts as unset (as `FOO=` in a compose file or ConfigMap means).
 * Throws ConfigError naming each missing or bad variable and what is wrong with it.
 */
export function loadConfig<S extends EnvSchema>(schema: S, env: Env = process.env, service?: string): z.infer<S> {
  const input: Env = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    input[key] = value === undefined || value.trim() === '' ? undefined : value;
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;

  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const issue of result.error.issues) {
    const variable = String(issue.path[0] ?? '(environment)');
    if (seen.has(variable)) continue; // one line per variable: the first problem is enough to act on
    seen.add(variable);
    problems.push({
      variable,
      problem: describeProblem(variable, schema.shape[variable], input[variable], issue.message, isCrossVariable(issue)),
    });
  }
  throw new ConfigError(problems, service);
}

export interface ExitTarget {
  stderr: { write(text: string): unknown };
  exit(code: number): never;
}

/**
 * For main.ts: loadConfig, or print the problems to stderr (no stack trace) and exit 1.
 * Errors other than ConfigError are not hidden: they are rethrown.
 */
export function loadConfigOrExit<S extends EnvSchema>(
  schema: S,
  service: string,
  env: Env = process.env,
  target: ExitTarget = process,
): z.infer<S> {
  try {
    return loadConfig(schema, env, service);
  } catch (err) {
    if (err instanceof ConfigError) {
      target.stderr.write(`${err.message}\n`);
      return target.exit(1);
    }
    throw err;
  }
}
