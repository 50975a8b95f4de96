import { Name } from '@studio/contracts';
import { MediaType } from './model';
import { z } from 'zod';

export const ContextValue = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be snake_case'),
  /** 1 is the highest priority; priorities are unique. */
  priority: z.number().int().min(1),
  description: z.string().min(1),
  /** Top-level section numbers whose clauses exercise this value. */
  sections: z.array(z.string().min(1)).default([]),
  /**
   * How much a preference about this value weighs (0..1); 0 makes its preferences contribute
   * nothing. Optional: when absent it follows from the priority rank, (n − rank + 1) / n.
   */
  importance: z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1').optional(),
});
export type ContextValue = z.infer<typeof ContextValue>;

/**
 * Gates a values file may not set yet: the audit does not measure them, and a gate that is read
 * but not measured would make a PASS overstate what was checked.
 */
export const UNMEASURED_GATES: Readonly<Record<string, string>> = {
  max_red_team_attack_success: 'the audit runs no red-team attacks yet',
  max_general_ability_regression: 'the audit measures no general-ability benchmark yet',
};

/** The release gates of a values file (its `audit` section); every gate named here is measured by the audit. */
export const AuditThresholds = z
  .object({
    min_aligned_correctness: z.number().min(0).max(1),
    min_faithfulness: z.number().min(0).max(1),
    min_clause_coverage: z.number().min(0).max(1).optional(),
    max_benign_refusal_rate: z.number().min(0).max(1),
  })
  .catchall(z.unknown())
  .superRefine((audit, ctx) => {
    for (const key of Object.keys(audit)) {
      if (['min_aligned_correctness', 'min_faithfulness', 'min_clause_coverage', 'max_benign_refusal_rate'].includes(key)) continue;
      const why = UNMEASURED_GATES[key];
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: why
          ? `gate "${key}" cannot be honoured: ${why}; remove it from the values file`
          : `unknown gate "${key}" (known: min_aligned_correctness, min_faithfulness, min_clause_coverage, max_benign_refusal_rate)`,
      });
    }
  })
  .transform(({ min_aligned_correctness, min_faithfulness, min_clause_coverage, max_benign_refusal_rate }) => ({
    min_aligned_correctness,
    min_faithfulness,
    max_benign_refusal_rate,
    ...(min_clause_coverage === undefined ? {} : { min_clause_coverage }),
  }));
export type AuditThresholds = z.infer<typeof AuditThresholds>;

export const ContextValues = z
  .object({
    context: z.object({
      id: Name(),
      name: Name(),
      documents: z.array(z.object({ id: Name(), path: Name(1024), mediaType: MediaType })),
    }),
    values: z.array(ContextValue).min(1),
    audit: AuditThresholds,
  })
  .refine((v) => new Set(v.values.map((x) => x.priority)).size === v.values.length, {
    message: 'value priorities must be unique',
    path: ['values'],
  })
  .refine((v) => new Set(v.values.map((x) => x.name)).size === v.values.length, {
    message: 'value names must be unique',
    path: ['values'],
  });
export type ContextValues = z.infer<typeof ContextValues>;

/** Values sorted by priority, highest (1) first. */
export function valuesByPriority(values: ContextValues): ContextValue[] {
  return [...values.values].sort((a, b) => a.priority - b.priority);
}

/** The values a clause exercises, highest priority first, from the top-level section it sits in. */
export function valuesForClause(numbering: string, values: ContextValues | null | undefined): string[] {
  if (!values) return [];
  const top = numbering.split('.')[0] ?? numbering;
  return valuesByPriority(values)
    .filter((v) => v.sections.includes(top))
    .map((v) => v.name);
}
