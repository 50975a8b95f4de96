import { z } from 'zod';
import { ContextId, Id, IsoTime, NonNegativeInt } from '../../common';

export const AUDIT_DRIFT_DETECTED_V1 = 'audit.drift.detected.v1';

/** One metric of the window that fell below its release figure by more than its margin. */
export const DriftMetric = z.object({
  name: z.string().min(1).describe("answered, faithfulness, consistency or reward (see the auditor's drift scoring)"),
  release: z.number().describe("The metric on the deployed run's release audit"),
  observed: z.number().describe("The metric on the window's sampled conversations"),
  margin: z.number().nonnegative().describe('How far below release the metric may fall before it is drift'),
});
export type DriftMetric = z.infer<typeof DriftMetric>;

/**
 * The sampled conversations of a deployment in one window score below the deployed run's release
 * audit by more than a set margin on at least one metric. Published once per deployment and window.
 */
export const AuditDriftDetectedV1 = z.object({
  version: z.literal('v1'),
  contextId: ContextId,
  deploymentId: Id,
  runId: Id,
  auditRunId: Id,
  window: z
    .object({ from: IsoTime, to: IsoTime, samples: NonNegativeInt })
    .refine((w) => Date.parse(w.from) < Date.parse(w.to), { message: 'from must be before to', path: ['to'] }),
  metrics: z.array(DriftMetric).min(1),
  detectedAt: IsoTime,
});
export type AuditDriftDetectedV1 = z.infer<typeof AuditDriftDetectedV1>;
