import { ContextId, Id, IsoTime, Metrics, TrainingMethod, type CloudEvent, type TrainingRunCompletedV1 } from '@studio/contracts';
import type { EntitySpec } from '@studio/ports';
import { z } from 'zod';

/** A trained adapter waiting for its release-gate audit. */
export const AuditCandidate = z.object({
  id: Id.describe('The training run id'),
  contextId: ContextId,
  adapterId: Id,
  method: TrainingMethod,
  baseModel: z.string().min(1),
  datasetVersionId: Id,
  artifactUri: z.string().min(1),
  trainingMetrics: Metrics,
  status: z.enum(['awaiting-audit', 'audited', 'failed']),
  auditRunId: Id.nullable().default(null),
  error: z.string().nullable().default(null),
  completedAt: IsoTime,
  completedEventId: Id,
});
export type AuditCandidate = z.infer<typeof AuditCandidate>;

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
    adapterId: d.adapterId,
    method: d.method,
    baseModel: d.baseModel,
    datasetVersionId: d.datasetVersionId,
    artifactUri: d.artifactUri,
    trainingMetrics: d.metrics,
    status: 'awaiting-audit',
    auditRunId: null,
    error: null,
    completedAt: event.time,
    completedEventId: event.id,
  };
}
