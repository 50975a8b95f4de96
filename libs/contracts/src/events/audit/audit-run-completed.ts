import { z } from 'zod';
import { ContextId, Id, NonNegativeInt } from '../../common';

export const AUDIT_RUN_COMPLETED_V1 = 'audit.run.completed.v1';

/**
 * The models an audit answers with: the base model, `sft` (the audited adapter's parent, e.g. the
 * SFT adapter a DPO round started from; only when the audited adapter has one), `aligned` (the
 * audited adapter) and `aligned_rag` (it, with retrieved clauses in its prompt).
 */
export const AuditVariant = z.enum(['base', 'sft', 'aligned', 'aligned_rag']);
export type AuditVariant = z.infer<typeof AuditVariant>;
/** The variants every audit answers, in report order; `sft` comes between base and aligned when present. */
export const CORE_AUDIT_VARIANTS = ['base', 'aligned', 'aligned_rag'] as const;
export type CoreAuditVariant = (typeof CORE_AUDIT_VARIANTS)[number];

/** A value per variant: base, aligned and aligned_rag always, sft when the audit had a parent adapter to ask. */
export function variantRecord<T extends z.ZodType>(schema: T) {
  return z.object({ base: schema, sft: schema.optional(), aligned: schema, aligned_rag: schema });
}
/** A value per variant, as variantRecord validates it. */
export type VariantRecord<T> = { base: T; sft?: T; aligned: T; aligned_rag: T };

/** The variants a record holds, in report order (base, sft, aligned, aligned_rag). */
export function variantsOf(record: Partial<Record<AuditVariant, unknown>>): AuditVariant[] {
  return AuditVariant.options.filter((v) => record[v] !== undefined);
}
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
  scores: variantRecord(VariantScores),
  buckets: z.record(OutcomeBucket, NonNegativeInt),
  reportUri: z.string().min(1),
});
export type AuditRunCompletedV1 = z.infer<typeof AuditRunCompletedV1>;
