import { z } from 'zod';

/** Identifiers are opaque, URL-safe strings: letters, digits, '.', '_', '-', ':' (1–128 chars). */
export const Id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, 'must contain only letters, digits, ".", "_", "-" or ":"');

export const TenantId = Id.regex(/^[A-Za-z0-9]/, 'must start with a letter or digit').describe('Tenant that owns the data');
export const ContextId = Id.describe('Alignment context (one rule set, e.g. a company policy)');
export const Sha256 = z.string().regex(/^[a-f0-9]{64}$/, 'must be a lower-case hex SHA-256 digest');
export const IsoTime = z.iso.datetime({ offset: true });
export const NonNegativeInt = z.number().int().nonnegative();
export const Metrics = z.record(z.string(), z.number());

export const TrainingMethod = z.enum(['sft', 'reward', 'dpo']);
export type TrainingMethod = z.infer<typeof TrainingMethod>;

export const ErrorInfo = z.object({
  type: z.string().min(1),
  message: z.string().min(1),
});
export type ErrorInfo = z.infer<typeof ErrorInfo>;

/**
 * Characters refused in names and other free-text identifiers the API stores (context names,
 * file names, model names): C0 and C1 control characters (NUL, escape, newline...), DEL, and the
 * Unicode bidirectional marks, embeddings, overrides and isolates (U+200E, U+200F,
 * U+202A–U+202E, U+2066–U+2069), which make a stored name display as something it is not.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE_NAME_CHARACTER = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

/** Why `value` is not a safe name (naming the first offending character), or null. */
export function unsafeNameProblem(value: string): string | null {
  const match = UNSAFE_NAME_CHARACTER.exec(value);
  if (!match) return null;
  const code = (match[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
  const kind = /[\u200e\u200f\u202a-\u202e\u2066-\u2069]/u.test(match[0]) ? 'a bidirectional-text control' : 'a control character';
  return `must not contain control or bidirectional-override characters (found U+${code}, ${kind}, at position ${match.index + 1})`;
}

/** The shared refinement: refuses control and bidi-override characters in a name. */
export function safeName<S extends z.ZodType<string>>(schema: S): S {
  return schema.superRefine((value, ctx) => {
    const problem = unsafeNameProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }) as unknown as S;
}

/** A display name or other free-text identifier: 1–`max` characters, none of them control or bidi characters. */
export const Name = (max = 200) => safeName(z.string().min(1).max(max));

export const ErrorCause = z.object({
  name: z.string(),
  message: z.string(),
  code: z.string().optional(),
});
export type ErrorCause = z.infer<typeof ErrorCause>;

/**
 * An error and everything that caused it, outermost first: the `cause` chain and the `errors` of
 * an AggregateError (Node's fetch says "fetch failed" and puts ECONNREFUSED, ENOTFOUND or
 * "bad port" in `cause`). Bounded (20 entries) and safe against cycles.
 */
export function errorCauses(error: unknown): ErrorCause[] {
  const out: ErrorCause[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown): void => {
    if (out.length >= 20 || e === undefined || e === null || seen.has(e)) return;
    seen.add(e);
    // Duck-typed: errors from another realm (a VM context, Node's bundled undici) are not `instanceof Error` here.
    if (typeof e !== 'object' || typeof (e as { message?: unknown }).message !== 'string') {
      out.push({ name: typeof e, message: String(e) });
      return;
    }
    const { name, message, code, errors, cause } = e as {
      name?: unknown;
      message: string;
      code?: unknown;
      errors?: unknown;
      cause?: unknown;
    };
    out.push({
      name: typeof name === 'string' ? name : 'Error',
      message,
      ...(typeof code === 'string' || typeof code === 'number' ? { code: String(code) } : {}),
    });
    if (Array.isArray(errors)) for (const inner of errors) visit(inner);
    visit(cause);
  };
  visit(error);
  return out;
}

/** One line: the messages of an error and its causes, e.g. "fetch failed: connect ECONNREFUSED 127.0.0.1:8000". */
export function describeError(error: unknown): string {
  const messages: string[] = [];
  for (const cause of errorCauses(error)) {
    const text = cause.message || cause.code || cause.name;
    if (text && !messages.includes(text)) messages.push(text);
  }
  return messages.join(': ') || 'unknown error';
}

/** Where a training run's audit stands. */
export const AuditState = z.enum(['queued', 'running', 'failed', 'completed']);
export type AuditState = z.infer<typeof AuditState>;

/** Why the last attempt of an audit failed: the error and its full cause chain. */
export const AuditFailure = z.object({
  message: z.string().describe('The error and its causes in one line, e.g. "fetch failed: connect ECONNREFUSED 127.0.0.1:8000"'),
  causes: z.array(ErrorCause).describe('The error, then what caused it, outermost first'),
  attempt: z.number().int().min(0).describe('The attempt that failed (0: queueing the audit failed)'),
  at: IsoTime,
});
export type AuditFailure = z.infer<typeof AuditFailure>;

/**
 * `GET /v1/runs/{runId}/audit` until the audit has completed (then the answer is the report,
 * which has a `verdict` instead of a `state`), and the answer of `POST /v1/runs/{runId}/audit`.
 */
export const AuditStatusV1 = z.object({
  runId: Id,
  contextId: ContextId,
  auditRunId: Id.nullable().describe('The audit, once it has been queued'),
  state: AuditState.describe(
    'queued: waiting for its first attempt or, with `error` and `nextAttemptAt`, for a retry; running: an attempt is in progress; failed: every attempt failed (see `error`; POST /v1/runs/{runId}/audit queues it again); completed: the report is at `report`',
  ),
  attempts: z.object({
    made: z.number().int().min(0).describe('Attempts started of the current request'),
    max: z.number().int().min(0).describe('Attempts allowed before the audit fails'),
  }),
  requests: z.number().int().min(0).describe('How many times the audit was queued: 1, plus one per re-audit'),
  nextAttemptAt: IsoTime.nullable().describe('When the next attempt is due, while a retry waits'),
  error: AuditFailure.nullable().describe('Why the last attempt failed'),
  updatedAt: IsoTime.nullable(),
  report: z.string().nullable().describe('Path of the report once completed: /v1/audits/{auditRunId}'),
});
export type AuditStatusV1 = z.infer<typeof AuditStatusV1>;
