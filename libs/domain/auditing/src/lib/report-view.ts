import type { AuditReportV1 } from './report';
import { OUTCOME_BUCKETS, perVariant, scoreOf, type OutcomeBucket, type VariantRecord } from './evaluate';

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
