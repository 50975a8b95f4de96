import { z } from 'zod';
import { ContextId, Id } from '../../common';

export const AUDIT_VERDICT_ISSUED_V1 = 'audit.verdict.issued.v1';

export const VerdictCheck = z.object({
  metric: z.string().min(1),
  value: z.number(),
  threshold: z.number(),
  comparator: z.enum(['>=', '<=']),
  passed: z.boolean(),
  /** Why a check failed without a measurement (a gate set on something the audit could not measure); absent otherwise. */
  reason: z.string().min(1).optional(),
});

export const AuditVerdictIssuedV1 = z.object({
  version: z.literal('v1'),
  contextId: ContextId,
  auditRunId: Id,
  runId: Id,
  verdict: z.enum(['pass', 'fail']),
  checks: z.array(VerdictCheck).min(1),
  reportUri: z.string().min(1),
});
export type AuditVerdictIssuedV1 = z.infer<typeof AuditVerdictIssuedV1>;
