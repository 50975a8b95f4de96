import { createHash } from 'node:crypto';
import { ChatConversationSampledV1, ContextId, DriftMetric, Id, IsoTime, NonNegativeInt } from '@studio/contracts';
import type { EntitySpec } from '@studio/ports';
import { z } from 'zod';

export const CHAT_SAMPLES_REPOSITORY = Symbol('CHAT_SAMPLES_REPOSITORY');
export const DRIFT_WINDOWS_REPOSITORY = Symbol('DRIFT_WINDOWS_REPOSITORY');

/** A sampled conversation of a deployed model (chat.conversation.sampled.v1), filed under its window. */
export const ChatSample = ChatConversationSampledV1.omit({ version: true }).extend({
  id: Id.describe('The conversation id'),
  /** Start of the drift window the sample falls in (by sampledAt; DRIFT_WINDOW_MS). */
  windowFrom: IsoTime,
  eventId: z.string().min(1),
  storedAt: IsoTime,
});
export type ChatSample = z.infer<typeof ChatSample>;

export const CHAT_SAMPLES: EntitySpec<ChatSample> = {
  collection: 'chat_samples',
  schema: ChatSample,
  indexes: [{ fields: { deploymentId: 1, windowFrom: 1 } }, { fields: { contextId: 1, sampledAt: -1 } }],
};

const Figures = z.object({
  answered: z.number().nullable(),
  faithfulness: z.number().nullable(),
  consistency: z.number().nullable(),
  reward: z.number().nullable(),
});

/**
 * One scored window of one deployment: `scored` (compared with the release audit; `drifted` names
 * the metrics below their release figure by more than their margin), `too-few-samples` (fewer than
 * DRIFT_MIN_SAMPLES: nothing is concluded) or `no-release-audit` (deployed without an audit report
 * to compare with).
 */
export const DriftWindowRecord = z.object({
  id: Id,
  contextId: ContextId,
  deploymentId: Id,
  runId: Id,
  auditRunId: Id.nullable(),
  window: z.object({ from: IsoTime, to: IsoTime, samples: NonNegativeInt }),
  status: z.enum(['scored', 'too-few-samples', 'no-release-audit']),
  /** The release audit's variant compared with (aligned_rag, else aligned); null unless scored. */
  releaseVariant: z.enum(['aligned_rag', 'aligned']).nullable(),
  release: Figures.nullable(),
  observed: Figures.nullable(),
  /** Every metric both sides measured, compared. */
  metrics: z.array(DriftMetric.extend({ drifted: z.boolean() })),
  /** The metrics that drifted ([] for a healthy window). */
  drifted: z.array(z.string()),
  /** The reward model that scored the window (the release audit's), or null. */
  rewardModel: Id.nullable(),
  /** Why a metric or the whole window was not compared, in a sentence; null when everything was. */
  note: z.string().nullable(),
  /** The audit.drift.detected.v1 event's id once published (only drifted windows publish). */
  eventId: z.string().nullable(),
  scoredAt: IsoTime,
});
export type DriftWindowRecord = z.infer<typeof DriftWindowRecord>;

export const DRIFT_WINDOWS: EntitySpec<DriftWindowRecord> = {
  collection: 'drift_windows',
  schema: DriftWindowRecord,
  indexes: [{ fields: { contextId: 1, scoredAt: -1 } }],
};

const digest = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);

/** The window record's id, its job's id and its event's id: one each per deployment and window, whichever replica makes them. */
export function driftWindowId(deploymentId: string, windowFrom: string): string {
  return `drift-${digest(deploymentId, windowFrom)}`;
}
export function driftJobId(tenant: string, deploymentId: string, windowFrom: string): string {
  return `drift-${digest(tenant, deploymentId, windowFrom)}`;
}
