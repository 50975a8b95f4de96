import { z } from 'zod';
import { BenignReport, GeneralAbilityReport, RedTeamReport } from './red-team';
import type { AuditReportV1 } from './report';
import { CORE_AUDIT_VARIANTS } from '@studio/contracts';
import { OUTCOME_BUCKETS, perVariant, scoreOf, type OutcomeBucket, type VariantRecord } from './evaluate';
import { AnswerScore, ClauseBreakdown, ItemResult } from './schema';

/** An item of an outcome bucket: what a reader needs to see why it landed there. */
export interface OutcomeItem {
  itemId: string;
  question: string;
  reference: string;
  clauseIds: string[];
  /** Each variant's answer, whether it counts as right, and its correctness. */
  answers: VariantRecord<{ answer: string; right: boolean; correctness: number; faithfulness: number; refused: boolean }>;
}

/** The four side-by-side outcomes (base vs aligned) with their items. */
export type AuditOutcomes = Record<OutcomeBucket, { count: number; items: OutcomeItem[] }>;

/** One row of the per-clause compliance table. */
export interface ClauseComplianceRow {
  clauseId: string;
  /** The clause's number in its document; null in reports written before it was recorded. */
  numbering: string | null;
  title: string | null;
  /** Held-out items that cite the clause. */
  items: number;
  /** Per variant: items whose answer counts as right (compliant), their share, and the mean scores. */
  variants: VariantRecord<{ compliant: number; complianceRate: number; correctness: number; faithfulness: number }>;
}

/** What the studio shows of an audit beyond the report's own fields: outcomes with their items, and per-clause compliance. */
export interface AuditReportView {
  outcomes: AuditOutcomes;
  /** Least compliant first (aligned compliance rate, then aligned correctness), then by clause id. */
  clauseCompliance: ClauseComplianceRow[];
}

/**
 * The outcome buckets with their items and the per-clause compliance table of a report
 * (`audit/report.v1`), derived from its item results: an item counts as compliant for a variant
 * when its answer is right (not refused, no contradiction of its clauses, correct enough).
 * Items citing a clause that the report's clause breakdown does not list still count for it.
 */
export function auditReportView(report: Pick<AuditReportV1, 'results' | 'clauses'>): AuditReportView {
  // The parent adapter's `sft` variant, where the audit had one (every item then has its answer).
  const withSft = report.results.some((r) => r.variants.sft !== undefined);
  const outcomes = Object.fromEntries(OUTCOME_BUCKETS.map((b) => [b, { count: 0, items: [] as OutcomeItem[] }])) as AuditOutcomes;
  const byClause = new Map<string, AuditReportV1['results']>();
  for (const result of report.results) {
    const bucket = outcomes[result.bucket];
    bucket.count += 1;
    bucket.items.push({
      itemId: result.itemId,
      question: result.question,
      reference: result.reference,
      clauseIds: result.clauseIds,
      answers: perVariant(withSft, (v) => {
        const s = scoreOf(result, v);
        return { answer: s.answer, right: s.right, correctness: s.correctness, faithfulness: s.faithfulness, refused: s.refused };
      }),
    });
    for (const clauseId of new Set(result.clauseIds)) byClause.set(clauseId, [...(byClause.get(clauseId) ?? []), result]);
  }
  const described = new Map(report.clauses.map((c) => [c.clauseId, c]));
  const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
  const clauseCompliance: ClauseComplianceRow[] = [...byClause.entries()].map(([clauseId, results]) => {
    const clause = described.get(clauseId);
    return {
      clauseId,
      numbering: clause?.numbering ?? null,
      title: clause?.title ?? null,
      items: results.length,
      variants: perVariant(withSft, (v) => {
        const scores = results.map((r) => scoreOf(r, v));
        const compliant = scores.filter((s) => s.right).length;
        return {
          compliant,
          complianceRate: results.length === 0 ? 0 : compliant / results.length,
          correctness: mean(scores.map((s) => s.correctness)),
          faithfulness: mean(scores.map((s) => s.faithfulness)),
        };
      }),
    };
  });
  clauseCompliance.sort(
    (a, b) =>
      a.variants.aligned.complianceRate - b.variants.aligned.complianceRate ||
      a.variants.aligned.correctness - b.variants.aligned.correctness ||
      (a.clauseId < b.clauseId ? -1 : a.clauseId > b.clauseId ? 1 : 0),
  );
  return { outcomes, clauseCompliance };
}

/**
 * The fields of a stored report that {@link auditReportView} reads, checked before it reads them.
 * Variants beyond the ones this version knows are allowed (a later report may carry more).
 */
const StoredReportForView = z.object({
  results: z.array(
    ItemResult.pick({ itemId: true, question: true, reference: true, clauseIds: true, bucket: true }).extend({
      variants: z
        .record(z.string(), AnswerScore.pick({ answer: true, right: true, correctness: true, faithfulness: true, refused: true }))
        .superRefine((variants, ctx) => {
          // base, aligned and aligned_rag always; sft only where the audited adapter had a parent.
          for (const variant of CORE_AUDIT_VARIANTS)
            if (variants[variant] === undefined) ctx.addIssue({ code: 'custom', message: `has no ${variant} answer`, path: [variant] });
        }),
    }),
  ),
  clauses: z.array(ClauseBreakdown.pick({ clauseId: true, title: true }).extend({ numbering: z.string().nullable().optional() })),
  // The attacking sections, when the report has them (older reports have none): checked whole, as the view reads them.
  redTeam: RedTeamReport.nullish(),
  benign: BenignReport.nullish(),
  generalAbility: GeneralAbilityReport.nullish(),
});

/** A stored audit report that cannot be shown: not JSON, or without what the report view reads. */
export class MalformedAuditReportError extends Error {
  override readonly name = 'MalformedAuditReportError';
  constructor(
    /** Which report: the audit and where it is stored. */
    readonly report: string,
    /** Each problem: the field (`results[3].variants.aligned`) and what is wrong with it. */
    readonly issues: { path: string; message: string }[],
  ) {
    const shown = issues.slice(0, 5).map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
    const more = issues.length > shown.length ? `; and ${issues.length - shown.length} more` : '';
    super(`stored audit report ${report} is malformed: ${shown.join('; ')}${more}`);
  }
}

function pathOf(path: readonly PropertyKey[]): string {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`)).join('');
}

/**
 * A stored `audit/report.v1` JSON text, checked for what the studio's view of it reads
 * (`results` with each item's answers per variant, `clauses`): the report as stored (every
 * field kept), or a {@link MalformedAuditReportError} naming `report` and each problem.
 */
export function parseStoredAuditReport(text: string, report: string): AuditReportV1 {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new MalformedAuditReportError(report, [{ path: '', message: `not JSON (${(error as Error).message})` }]);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new MalformedAuditReportError(report, [
      { path: '', message: `a report is a JSON object, not ${json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json}` },
    ]);
  const checked = StoredReportForView.safeParse(json);
  if (!checked.success)
    throw new MalformedAuditReportError(
      report,
      checked.error.issues.map((issue) => ({
        path: pathOf(issue.path),
        message:
          issue.code === 'invalid_type' && /received undefined$/.test(issue.message)
            ? `missing (expected ${issue.expected})`
            : issue.message,
      })),
    );
  // The view reads only the checked fields; the answer keeps the report as it was written.
  return json as AuditReportV1;
}
