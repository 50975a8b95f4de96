import { z } from 'zod';
import { ContextId, Id, NonNegativeInt } from '../../common';

export const AUDIT_RUN_COMPLETED_V1 = 'audit.run.completed.v1';

export const AuditVariant = z.enum(['base', 'aligned', 'aligned_rag']);
export const OutcomeBucket = z.enum(['both_fine', 'only_base_right', 'only_aligned_right', 'both_fail']);

export const VariantScores = z.object({
  correctness: z.number().min(0).max(1),
  faithfulness: z.number().min(0).max(1),
  refusalRate: z.number().min(0).max(1),
  judge: z.number().min(0).max(1).nullable(),
});

export const AuditRunCompletedV1 = z.object({
  version: z.literal('v1'),
  contextId: ContextId,
  auditRunId: Id,
  runId: Id.describe('Training run whose model was audited'),
  datasetVersionId: Id,
  items: NonNegativeInt,
  scores: z.record(AuditVariant, VariantScores),
  buckets: z.record(OutcomeBucket, NonNegativeInt),
  reportUri: z.string().min(1),
});
export type AuditRunCompletedV1 = z.infer<typeof AuditRunCompletedV1>;
