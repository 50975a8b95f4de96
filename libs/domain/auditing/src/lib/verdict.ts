import type { z } from 'zod';
import type { VerdictCheck as VerdictCheckSchema } from '@studio/contracts';
import type { VariantRecord, VariantScores } from './evaluate';
import type { AuditThresholds } from './thresholds';

export type VerdictCheck = z.infer<typeof VerdictCheckSchema>;

export interface Verdict {
  verdict: 'pass' | 'fail';
  checks: VerdictCheck[];
}

function check(metric: string, value: number, comparator: '>=' | '<=', threshold: number): VerdictCheck {
  return { metric, value, threshold, comparator, passed: comparator === '>=' ? value >= threshold : value <= threshold };
}

/**
 * The release-gate verdict: pass when every check passes. With V the gated variant (thresholds.gateVariant:
 * the audited adapter, alone or with retrieval; a parent's `sft` scores are shown beside it, never gated):
 * - `V.correctness` ≥ minCorrectness
 * - `V.faithfulness` ≥ minFaithfulness
 * - `V.refusalRate` ≤ maxRefusalRate
 * - `V.correctness-base.correctness` ≥ −baseTolerance (unless baseTolerance is null)
 * - `V.judge` ≥ minJudge (only when minJudge is set; then a missing judge score is an error, not a fail)
 * - `data.clauseCoverage` ≥ minClauseCoverage (only when minClauseCoverage is set; then the data's coverage must be given)
 */
export function decideVerdict(
  scores: Readonly<VariantRecord<VariantScores>>,
  thresholds: AuditThresholds,
  data: { clauseCoverage: number | null } = { clauseCoverage: null },
): Verdict {
  const v = thresholds.gateVariant;
  const gated = scores[v];
  const checks: VerdictCheck[] = [
    check(`${v}.correctness`, gated.correctness, '>=', thresholds.minCorrectness),
    check(`${v}.faithfulness`, gated.faithfulness, '>=', thresholds.minFaithfulness),
    check(`${v}.refusalRate`, gated.refusalRate, '<=', thresholds.maxRefusalRate),
  ];
  if (thresholds.baseTolerance !== null) {
    const tolerance = thresholds.baseTolerance === 0 ? 0 : -thresholds.baseTolerance;
    checks.push(check(`${v}.correctness-base.correctness`, gated.correctness - scores.base.correctness, '>=', tolerance));
  }
  if (thresholds.minJudge !== null) {
    if (gated.judge === null) {
      throw new Error(
        `thresholds set minJudge=${thresholds.minJudge} but ${v} has no judge score: run the audit with a judge model or remove minJudge`,
      );
    }
    checks.push(check(`${v}.judge`, gated.judge, '>=', thresholds.minJudge));
  }
  if (thresholds.minClauseCoverage !== null) {
    if (data.clauseCoverage === null) {
      throw new Error(`thresholds set minClauseCoverage=${thresholds.minClauseCoverage} but the audit was given no clause coverage`);
    }
    checks.push(check('data.clauseCoverage', data.clauseCoverage, '>=', thresholds.minClauseCoverage));
  }
  return { verdict: checks.every((c) => c.passed) ? 'pass' : 'fail', checks };
}
