import { Name } from '@studio/contracts';
import { z } from 'zod';

export const ContextValue = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be snake_case'),
  /** 1 is the highest priority; priorities are unique. */
  priority: z.number().int().min(1),
  description: z.string().min(1),
  /** Top-level section numbers whose clauses exercise this value. */
  sections: z.array(z.string().min(1)).default([]),
});
export type ContextValue = z.infer<typeof ContextValue>;

export const AuditThresholds = z.object({
  min_aligned_correctness: z.number().min(0).max(1),
  min_faithfulness: z.number().min(0).max(1),
  min_clause_coverage: z.number().min(0).max(1).optional(),
  max_benign_refusal_rate: z.number().min(0).max(1),
  max_red_team_attack_success: z.number().min(0).max(1).optional(),
  max_general_ability_regression: z.number().min(0).max(1).optional(),
});
export type AuditThresholds = z.infer<typeof AuditThresholds>;

export const ContextValues = z
  .object({
    context: z.object({
      id: Name(),
      name: Name(),
      documents: z.array(z.object({ id: Name(), path: Name(1024), mediaType: z.enum(['text/markdown', 'text/plain']) })),
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
