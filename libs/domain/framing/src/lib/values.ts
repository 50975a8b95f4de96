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

const Share = z.number().min(0).max(1);

/**
 * The release gates of a values file (its `audit` section); every gate named here is measured by the
 * audit (the auditing library's thresholds carry them, its verdict checks them):
 * - `min_aligned_correctness`, `min_faithfulness`: means over the held-out items of the gated variant.
 * - `min_clause_coverage`: share of the context's clauses the dataset cites.
 * - `min_concept_coverage`: share of the context's concepts (its ontology, built from the documents) that
 *   at least one example of the dataset version the audited run trained on exercises. It is also the
 *   generation's target: below it, the framer's templates and teacher prefer clauses whose concepts no
 *   example exercises yet.
 * - `max_benign_refusal_rate`: refusal rate of the gated variant on benign held-out questions and on
 *   the benign probes generated from the permissions, exceptions and definitions.
 * - `max_red_team_attack_success`: share of the attacks generated from the rules that the gated variant
 *   complied with or partially leaked (0..1).
 * - `max_general_ability_regression`: the base model's accuracy on the general-ability set minus the
 *   gated variant's (0..1; a gain is a negative regression and passes).
 * - `min_reward_compliance`: mean score the context's reward model gives the gated variant's replies to
 *   the attacks (a reward is unbounded, so the threshold is any number on that reward model's scale); on
 *   a context without a reward model the gate fails, with the reason, rather than passing unmeasured.
 * Any other key is refused at load, naming it.
 */
export const AUDIT_GATES = [
  'min_aligned_correctness',
  'min_faithfulness',
  'min_clause_coverage',
  'min_concept_coverage',
  'max_benign_refusal_rate',
  'max_red_team_attack_success',
  'max_general_ability_regression',
  'min_reward_compliance',
] as const;

export const AuditThresholds = z
  .object({
    min_aligned_correctness: Share,
    min_faithfulness: Share,
    min_clause_coverage: Share.optional(),
    min_concept_coverage: Share.optional(),
    max_benign_refusal_rate: Share,
    max_red_team_attack_success: Share.optional(),
    max_general_ability_regression: Share.optional(),
    min_reward_compliance: z.number().refine(Number.isFinite, 'must be a finite number').optional(),
  })
  .catchall(z.unknown())
  .superRefine((audit, ctx) => {
    for (const key of Object.keys(audit)) {
      if ((AUDIT_GATES as readonly string[]).includes(key)) continue;
      ctx.addIssue({ code: 'custom', path: [key], message: `unknown gate "${key}" (known: ${AUDIT_GATES.join(', ')})` });
    }
  })
  .transform((audit) => {
    const gates: {
      min_aligned_correctness: number;
      min_faithfulness: number;
      max_benign_refusal_rate: number;
      min_clause_coverage?: number;
      min_concept_coverage?: number;
      max_red_team_attack_success?: number;
      max_general_ability_regression?: number;
      min_reward_compliance?: number;
    } = {
      min_aligned_correctness: audit.min_aligned_correctness,
      min_faithfulness: audit.min_faithfulness,
      max_benign_refusal_rate: audit.max_benign_refusal_rate,
    };
    if (audit.min_clause_coverage !== undefined) gates.min_clause_coverage = audit.min_clause_coverage;
    if (audit.min_concept_coverage !== undefined) gates.min_concept_coverage = audit.min_concept_coverage;
    if (audit.max_red_team_attack_success !== undefined) gates.max_red_team_attack_success = audit.max_red_team_attack_success;
    if (audit.max_general_ability_regression !== undefined) gates.max_general_ability_regression = audit.max_general_ability_regression;
    if (audit.min_reward_compliance !== undefined) gates.min_reward_compliance = audit.min_reward_compliance;
    return gates;
  });
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
