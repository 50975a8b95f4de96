import { z } from 'zod';
import {
  AuditRunCompletedV1,
  AuditVerdictIssuedV1,
  ContextId,
  Id,
  IsoTime,
  NonNegativeInt,
  OutcomeBucket,
  TrainingMethod,
  VariantScores,
  variantRecord,
  VerdictCheck,
} from '@studio/contracts';
import { AuditThresholds } from './thresholds';
import { decideVerdict, type Verdict } from './verdict';
import { RewardSummary } from './rewards';
import { BenignReport, GeneralAbilityReport, RedTeamReport } from './red-team';
import { AuditEvaluation, ClauseBreakdown, DataAuditReport, ItemResult, KindBreakdown, VariantStats } from './schema';

/**
 * Where the audited model comes from: its adapter and run, their method, the parent adapter it was
 * trained from (a DPO round's SFT adapter, answered as the `sft` variant) and the preference dataset
 * version it was trained on, which names every preference (and through them every clause) behind it.
 */
export const AuditLineage = z.object({
  adapterId: Id,
  runId: Id,
  method: TrainingMethod,
  datasetVersionId: Id,
  parentAdapterId: Id.nullable(),
  parentRunId: Id.nullable(),
  preferenceDatasetId: Id.nullable(),
});
export type AuditLineage = z.infer<typeof AuditLineage>;

/** The JSON report the auditor stores and publishes (the event's reportUri points at it). */
export const AuditReportV1 = z.object({
  version: z.literal('v1'),
  contextId: ContextId,
  auditRunId: Id,
  runId: Id.describe('Training run whose model was audited'),
  datasetVersionId: Id,
  createdAt: IsoTime,
  models: z.object({
    base: z.string().min(1),
    adapter: z.string().min(1).nullable(),
    judge: z.string().min(1).nullable(),
    /** The parent adapter that answered the `sft` variant; absent (null) when the audited adapter has none. */
    parent: z.string().min(1).nullable().default(null),
  }),
  /** The audited model's lineage; null in reports written before it was recorded. */
  lineage: AuditLineage.nullable().default(null),
  thresholds: AuditThresholds,
  itemPass: z.number().min(0).max(1),
  items: NonNegativeInt,
  /** Per variant: base, sft (the parent adapter, when there is one), aligned, aligned_rag. */
  scores: variantRecord(VariantScores),
  stats: variantRecord(VariantStats),
  buckets: z.record(OutcomeBucket, NonNegativeInt),
  verdict: z.enum(['pass', 'fail']),
  checks: z.array(VerdictCheck).min(1),
  /** Per cited clause, worst first. */
  clauses: z.array(ClauseBreakdown),
  /** Per kind of item (qa, scenario:violating, …): right answers, stance, advising against; [] in older reports. */
  kinds: z.array(KindBreakdown).default([]),
  results: z.array(ItemResult),
  dataAudit: DataAuditReport.nullable(),
  /** The reward model's compliance score (per-variant means; each answer's reward is in `results`); null without a reward model. */
  rewards: RewardSummary.nullable().default(null),
  /** Attacks generated from the context's rules, answered by every variant and judged; null where none ran (and in older reports). */
  redTeam: RedTeamReport.nullable().default(null),
  /** Benign but risky-looking probes (over-refusal); null where none were asked (and in older reports). */
  benign: BenignReport.nullable().default(null),
  /** The general-ability set; null where it was not answered (and in older reports). */
  generalAbility: GeneralAbilityReport.nullable().default(null),
});
export type AuditReportV1 = z.infer<typeof AuditReportV1>;

export interface AuditReportMeta {
  contextId: string;
  auditRunId: string;
  runId: string;
  datasetVersionId: string;
  /** ISO 8601 time with offset; passed in so the report stays a pure function of its inputs. */
  createdAt: string;
  models: { base: string; adapter: string | null; judge: string | null; parent?: string | null };
  lineage?: AuditLineage | null;
}

export interface BuildAuditReportInput {
  meta: AuditReportMeta;
  evaluation: AuditEvaluation;
  thresholds: AuditThresholds;
  /** Defaults to decideVerdict(evaluation.scores, thresholds). */
  verdict?: Verdict;
  dataAudit?: DataAuditReport | null;
  /** The reward model's summary (withRewards), when the answers were scored by one. */
  rewards?: RewardSummary | null;
  redTeam?: RedTeamReport | null;
  benign?: BenignReport | null;
  generalAbility?: GeneralAbilityReport | null;
}

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** Assembles and validates the JSON report; throws naming the invalid fields. */
export function buildAuditReport(input: BuildAuditReportInput): AuditReportV1 {
  const evaluation = AuditEvaluation.parse(input.evaluation);
  if (evaluation.itemPass !== input.thresholds.itemPass) {
    throw new Error(
      `evaluation used itemPass=${evaluation.itemPass} but thresholds.itemPass=${input.thresholds.itemPass}; evaluate with the thresholds' itemPass`,
    );
  }
  const verdict = input.verdict ?? decideVerdict(evaluation.scores, input.thresholds);
  const unrewarded = input.rewards
    ? evaluation.items.flatMap((i) => Object.entries(i.variants).flatMap(([v, s]) => (s.reward === undefined ? [`${v}/${i.itemId}`] : [])))
    : [];
  if (unrewarded.length > 0)
    throw new Error(
      `a reward summary was given, but ${unrewarded.length} answers have no reward (${unrewarded.slice(0, 3).join(', ')}): score with withRewards`,
    );
  const parsed = AuditReportV1.safeParse({
    version: 'v1',
    ...input.meta,
    models: { ...input.meta.models, parent: input.meta.models.parent ?? null },
    lineage: input.meta.lineage ?? null,
    thresholds: input.thresholds,
    itemPass: evaluation.itemPass,
    items: evaluation.items.length,
    scores: evaluation.scores,
    stats: evaluation.stats,
    buckets: evaluation.buckets,
    verdict: verdict.verdict,
    checks: verdict.checks,
    clauses: evaluation.clauses,
    kinds: evaluation.kinds,
    results: evaluation.items,
    dataAudit: input.dataAudit ?? null,
    rewards: input.rewards ?? null,
    redTeam: input.redTeam ?? null,
    benign: input.benign ?? null,
    generalAbility: input.generalAbility ?? null,
  });
  if (!parsed.success) throw new Error(`invalid audit report: ${issues(parsed.error)}`);
  return parsed.data;
}

/** Data of the `audit.run.completed.v1` event for a report stored at reportUri. */
export function toAuditRunCompleted(report: AuditReportV1, reportUri: string): AuditRunCompletedV1 {
  return AuditRunCompletedV1.parse({
    version: 'v1',
    contextId: report.contextId,
    auditRunId: report.auditRunId,
    runId: report.runId,
    datasetVersionId: report.datasetVersionId,
    items: report.items,
    scores: report.scores,
    buckets: report.buckets,
    reportUri,
  });
}

/** Data of the `audit.verdict.issued.v1` event for a report stored at reportUri. */
export function toAuditVerdictIssued(report: AuditReportV1, reportUri: string): AuditVerdictIssuedV1 {
  return AuditVerdictIssuedV1.parse({
    version: 'v1',
    contextId: report.contextId,
    auditRunId: report.auditRunId,
    runId: report.runId,
    verdict: report.verdict,
    checks: report.checks,
    reportUri,
  });
}
