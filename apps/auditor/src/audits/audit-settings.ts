import type { AuditSettings } from '@studio/pipeline';

export const AUDIT_SETTINGS = Symbol('AUDIT_SETTINGS');
export type { AuditSettings };

export const AUDIT_RETRY = Symbol('AUDIT_RETRY');

/**
 * How an audit is retried (BullMQ job options): `attempts` in all, the first retry after
 * `delayMs`, each later one after twice the previous wait. The defaults (8 attempts from 5 s)
 * keep retrying for about 10 minutes (5 s … 320 s), so a model server restart or a short
 * outage does not end an audit.
 */
export interface AuditRetry {
  attempts: number;
  delayMs: number;
}

/** The longest single wait between two attempts that the configuration may ask for. */
export const MAX_AUDIT_RETRY_WAIT_MS = 60 * 60 * 1000;

/** The wait after attempt `attempt` (1-based) failed: delayMs · 2^(attempt−1), as BullMQ's exponential back-off. */
export function retryDelayMs(retry: AuditRetry, attempt: number): number {
  return Math.round(retry.delayMs * 2 ** Math.max(0, attempt - 1));
}

/** The retry policy, or why it is unusable: its longest wait must stay within MAX_AUDIT_RETRY_WAIT_MS. */
export function auditRetryProblem(retry: AuditRetry): string | null {
  if (retry.attempts < 2) return null;
  const longest = retryDelayMs(retry, retry.attempts - 1);
  if (longest <= MAX_AUDIT_RETRY_WAIT_MS) return null;
  return `AUDIT_ATTEMPTS=${retry.attempts} with AUDIT_RETRY_DELAY_MS=${retry.delayMs} would wait ${Math.round(longest / 1000)} s before the last attempt; the longest wait allowed is ${MAX_AUDIT_RETRY_WAIT_MS / 1000} s: lower one of them`;
}
