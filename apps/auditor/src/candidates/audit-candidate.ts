import {
  AuditFailure,
  ContextId,
  errorCauses,
  describeError,
  Id,
  IsoTime,
  TrainingRunCompletedV1,
  type AuditState,
  type AuditStatusV1,
  type CloudEvent,
} from '@studio/contracts';
import type { EntitySpec } from '@studio/ports';
import { z } from 'zod';

/**
 * Where the audit of a candidate stands: awaiting-audit (recorded; its audit not queued yet, or
 * queueing it failed: see `error`), queued (waiting for an attempt, or for a retry after a
 * failed one), running, failed (every attempt failed), audited.
 */
export const CandidateStatus = z.enum(['awaiting-audit', 'queued', 'running', 'failed', 'audited']);

/** A trained adapter waiting for its release-gate audit, and where that audit stands. */
export const AuditCandidate = z.object({
  id: Id.describe('The training run id'),
  contextId: ContextId,
  /** The completed run, as `training.run.completed` states it: adapter, base model, dataset version, metrics. */
  run: TrainingRunCompletedV1,
  status: CandidateStatus,
  auditRunId: Id.nullable().default(null),
  /** The BullMQ job of the current request: the audit run id, then `<audit run id>-r<n>` for re-audits. */
  jobId: z.string().nullable().default(null),
  /** Attempts started of the current request, and allowed. */
  attempts: z.number().int().min(0).default(0),
  maxAttempts: z.number().int().min(0).default(0),
  /** Times the audit was queued: 1, plus one per re-audit. */
  requests: z.number().int().min(0).default(0),
  nextAttemptAt: IsoTime.nullable().default(null),
  /** Why the last attempt failed (records written before the cause chain was kept hold a string). */
  error: z
    .union([
      AuditFailure,
      z.string().transform((message): AuditFailure => ({ message, causes: [], attempt: 0, at: new Date(0).toISOString() })),
    ])
    .nullable()
    .default(null),
  updatedAt: IsoTime.nullable().default(null),
  completedAt: IsoTime,
  completedEventId: Id,
});
export type AuditCandidate = z.infer<typeof AuditCandidate>;
export type CandidateStatus = AuditCandidate['status'];

export const AUDIT_CANDIDATES_REPOSITORY = Symbol('AUDIT_CANDIDATES_REPOSITORY');

export const AUDIT_CANDIDATES: EntitySpec<AuditCandidate> = {
  collection: 'audit_candidates',
  schema: AuditCandidate,
  indexes: [{ fields: { contextId: 1, status: 1 } }],
};

export function candidateFromCompletedRun(event: CloudEvent<TrainingRunCompletedV1>): AuditCandidate {
  const d = event.data;
  return {
    id: d.runId,
    contextId: d.contextId,
    run: d,
    status: 'awaiting-audit',
    auditRunId: null,
    jobId: null,
    attempts: 0,
    maxAttempts: 0,
    requests: 0,
    nextAttemptAt: null,
    error: null,
    updatedAt: event.time,
    completedAt: event.time,
    completedEventId: event.id,
  };
}

/** The failure of an attempt (0: queueing), with the error's whole cause chain. */
export function auditFailure(error: unknown, attempt: number, now: Date): AuditFailure {
  return { message: describeError(error), causes: errorCauses(error), attempt, at: now.toISOString() };
}

/** The audit job id of a request: the audit run id for the first, `<id>-r<n>` for re-audits (a failed job keeps its id). */
export function auditJobId(auditRunId: string, request: number): string {
  return request <= 1 ? auditRunId : `${auditRunId}-r${request}`;
}

/** A new request for the audit has been queued. */
export function markQueued(
  candidate: AuditCandidate,
  queued: { auditRunId: string; jobId: string; maxAttempts: number; request: number },
  now: Date,
): AuditCandidate {
  return {
    ...candidate,
    status: 'queued',
    auditRunId: queued.auditRunId,
    jobId: queued.jobId,
    attempts: 0,
    maxAttempts: queued.maxAttempts,
    requests: queued.request,
    nextAttemptAt: null,
    error: null,
    updatedAt: now.toISOString(),
  };
}

/** Queueing the audit failed (the framer or Redis did not answer): nothing will run until it is requested again. */
export function markRequestFailed(candidate: AuditCandidate, error: unknown, now: Date): AuditCandidate {
  return { ...candidate, status: 'awaiting-audit', nextAttemptAt: null, error: auditFailure(error, 0, now), updatedAt: now.toISOString() };
}

export function markRunning(candidate: AuditCandidate, attempt: number, jobId: string, now: Date): AuditCandidate {
  return { ...candidate, status: 'running', jobId, attempts: attempt, nextAttemptAt: null, updatedAt: now.toISOString() };
}

/**
 * An attempt failed: with attempts left the audit is queued again, due after `retryDelayMs`;
 * otherwise it has failed. Either way the error and its causes are kept.
 */
export function markAttemptFailed(
  candidate: AuditCandidate,
  failure: { attempt: number; maxAttempts: number; error: unknown; retryDelayMs: number },
  now: Date,
): AuditCandidate {
  const final = failure.attempt >= failure.maxAttempts;
  return {
    ...candidate,
    status: final ? 'failed' : 'queued',
    attempts: failure.attempt,
    maxAttempts: failure.maxAttempts,
    nextAttemptAt: final ? null : new Date(now.getTime() + failure.retryDelayMs).toISOString(),
    error: auditFailure(failure.error, failure.attempt, now),
    updatedAt: now.toISOString(),
  };
}

export function markAudited(candidate: AuditCandidate, auditRunId: string, now: Date): AuditCandidate {
  return { ...candidate, status: 'audited', auditRunId, nextAttemptAt: null, error: null, updatedAt: now.toISOString() };
}

/** The API's state of a candidate's audit. */
export function auditStateOf(candidate: AuditCandidate): AuditState {
  switch (candidate.status) {
    case 'awaiting-audit':
      return candidate.error ? 'failed' : 'queued';
    case 'audited':
      return 'completed';
    default:
      return candidate.status;
  }
}

/** `audit/status` of the API: what the candidate's audit is doing, and why it failed. */
export function auditStatusOf(candidate: AuditCandidate): AuditStatusV1 {
  const state = auditStateOf(candidate);
  return {
    runId: candidate.id,
    contextId: candidate.contextId,
    auditRunId: candidate.auditRunId,
    state,
    attempts: { made: candidate.attempts, max: candidate.maxAttempts },
    requests: candidate.requests,
    nextAttemptAt: candidate.nextAttemptAt,
    error: candidate.error,
    updatedAt: candidate.updatedAt,
    report: state === 'completed' && candidate.auditRunId ? `/v1/audits/${encodeURIComponent(candidate.auditRunId)}` : null,
  };
}
