import { z } from 'zod';
import { ContextId, Id, IsoTime, TenantId } from '../common';

export const DRIFT_QUEUE = 'drift';
export const SCORE_DRIFT_JOB = 'score-drift';

/**
 * Payload of a `score-drift` job: score a deployment's sampled conversations of one window against
 * its release audit. The auditor enqueues it when the window's first sample arrives, delayed to the
 * window's end, with a job id naming tenant, deployment and window (one job per window, whichever
 * replica stored the samples).
 */
export const DriftJobV1 = z
  .object({
    schema_version: z.literal('v1'),
    tenant_id: TenantId,
    context_id: ContextId,
    deployment_id: Id,
    window_from: IsoTime,
    window_to: IsoTime,
  })
  .refine((j) => Date.parse(j.window_from) < Date.parse(j.window_to), {
    message: 'window_from must be before window_to',
    path: ['window_to'],
  });
export type DriftJobV1 = z.infer<typeof DriftJobV1>;
