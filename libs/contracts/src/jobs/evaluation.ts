import { z } from 'zod';
import { ContextId, Id, TenantId } from '../common';
import { AuditVariant } from '../events/audit/audit-run-completed';

export const EVALUATION_QUEUE = 'evaluation';
export const EVALUATE_RUN_JOB = 'evaluate-run';

/** Payload of an `evaluate-run` job: audit a trained model against a held-out set. */
export const EvaluationJobV1 = z.object({
  schema_version: z.literal('v1'),
  tenant_id: TenantId,
  context_id: ContextId,
  audit_run_id: Id,
  run_id: Id,
  dataset_version_id: Id,
  variants: z.array(AuditVariant).min(1),
  base_model: z.string().min(1),
  adapter_name: z.string().min(1).nullable(),
  judge_model: z.string().min(1).nullable(),
  max_items: z.number().int().positive().nullable(),
});
export type EvaluationJobV1 = z.infer<typeof EvaluationJobV1>;
