import { parseAuditThresholds, type AuditThresholds } from '@studio/auditing';
import type { ContextValues } from '@studio/framing';

/**
 * The release gates of a context: its values file's `audit` section (snake_case, validated by
 * the framing library, which refuses gates the audit cannot measure) mapped onto the auditing
 * thresholds; the auditing defaults where the context has no values file.
 */
export function auditThresholdsFor(values: ContextValues | null, source: string): AuditThresholds {
  if (!values) return parseAuditThresholds(undefined, source);
  return parseAuditThresholds(
    {
      gateVariant: 'aligned',
      minCorrectness: values.audit.min_aligned_correctness,
      minFaithfulness: values.audit.min_faithfulness,
      maxRefusalRate: values.audit.max_benign_refusal_rate,
      minClauseCoverage: values.audit.min_clause_coverage ?? null,
      minConceptCoverage: values.audit.min_concept_coverage ?? null,
      maxAttackSuccess: values.audit.max_red_team_attack_success ?? null,
      maxGeneralAbilityRegression: values.audit.max_general_ability_regression ?? null,
      minRewardCompliance: values.audit.min_reward_compliance ?? null,
    },
    source,
  );
}
