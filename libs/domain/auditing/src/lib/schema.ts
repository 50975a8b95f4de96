import { z } from 'zod';
import { Id, NonNegativeInt, OutcomeBucket, VariantScores, variantRecord } from '@studio/contracts';

/** Result shapes of an audit, as zod schemas (types are inferred from them). */

const Unit = z.number().min(0).max(1);

export const AnswerScore = z.object({
  answer: z.string(),
  tokenF1: Unit,
  rougeL: Unit,
  correctness: Unit,
  keyTermCoverage: Unit,
  missingKeyTerms: z.array(z.string()),
  faithfulness: Unit,
  contradiction: z.boolean(),
  contradictedClauseIds: z.array(Id),
  refused: z.boolean(),
  refusalMatch: z.string().nullable(),
  judge: Unit.nullable(),
  judgeReason: z.string().nullable(),
  judgeError: z.string().nullable(),
  /**
   * Right for the outcome buckets: for a benign item, not refused, no modality contradiction and
   * correctness ≥ itemPass; for an item that expects a refusal, refused.
   */
  right: z.boolean(),
  /**
   * The context's reward model's score of this answer to the question (see RewardSummary); absent
   * when the context had no reward model when it was audited.
   */
  reward: z.number().optional(),
});
export type AnswerScore = z.infer<typeof AnswerScore>;

export const ItemResult = z.object({
  itemId: Id,
  question: z.string(),
  reference: z.string(),
  clauseIds: z.array(Id),
  expectsRefusal: z.boolean(),
  /** The item's kind as the dataset counts it: qa, scenario:compliant, scenario:violating, scenario:ambiguous; null or absent where unknown. */
  kind: z.string().min(1).nullable().optional(),
  variants: variantRecord(AnswerScore),
  bucket: OutcomeBucket,
});
export type ItemResult = z.infer<typeof ItemResult>;

export const VariantStats = z.object({
  items: NonNegativeInt,
  benignItems: NonNegativeInt,
  refusals: NonNegativeInt,
  contradictions: NonNegativeInt,
  right: NonNegativeInt,
  judged: NonNegativeInt,
  judgeFailures: NonNegativeInt,
});
export type VariantStats = z.infer<typeof VariantStats>;

export const ClauseBreakdown = z.object({
  clauseId: Id,
  title: z.string().nullable(),
  /** The clause's number in its document; null in reports written before it was recorded. */
  numbering: z.string().nullable().default(null),
  items: NonNegativeInt,
  itemIds: z.array(Id),
  scores: variantRecord(VariantScores),
});
export type ClauseBreakdown = z.infer<typeof ClauseBreakdown>;

/** How one variant answered the items of one kind. */
export const KindVariantStats = z.object({
  /** Answers that count as right (see AnswerScore.right), and their share of the kind's items. */
  right: NonNegativeInt,
  rightRate: Unit,
  correctness: Unit,
  /** Answers opening with the reference's own yes/no stance, over the items whose reference opens with one (`stanceItems`). */
  stanceAgrees: NonNegativeInt,
  stanceRate: Unit,
  /**
   * Answers opening with a "no" (No, …; You must not …): advising against what the question
   * describes. On violating scenarios, how often the model advises against the violation.
   */
  advisesAgainst: NonNegativeInt,
  advisesAgainstRate: Unit,
});
export type KindVariantStats = z.infer<typeof KindVariantStats>;

/** The items of one kind (qa, scenario:violating, …) and each variant's record on them. */
export const KindBreakdown = z.object({
  kind: z.string().min(1),
  items: NonNegativeInt,
  /** Items whose reference answer opens with a yes or a no. */
  stanceItems: NonNegativeInt,
  variants: variantRecord(KindVariantStats),
});
export type KindBreakdown = z.infer<typeof KindBreakdown>;

export const AuditEvaluation = z.object({
  items: z.array(ItemResult),
  scores: variantRecord(VariantScores),
  stats: variantRecord(VariantStats),
  buckets: z.record(OutcomeBucket, NonNegativeInt),
  /** Per cited clause, worst first (aligned correctness, then aligned faithfulness, ascending). */
  clauses: z.array(ClauseBreakdown),
  /** Per kind of item (qa, then each scenario label), in that order; items of no known kind are left out. */
  kinds: z.array(KindBreakdown).default([]),
  itemPass: Unit,
  judged: z.boolean(),
});
export type AuditEvaluation = z.infer<typeof AuditEvaluation>;

export const ClauseCoverageReport = z.object({
  clauses: NonNegativeInt,
  covered: NonNegativeInt,
  /** covered / clauses; 0 when there are no clauses. */
  coverage: Unit,
  /** Clauses no example cites, in the order given. */
  uncovered: z.array(z.string()),
  /** Cited clause ids that are not among the clauses (a data error), sorted. */
  unknownCited: z.array(z.string()),
  /** Number of examples citing each clause, in the order given. */
  citations: z.array(z.object({ clauseId: z.string(), examples: NonNegativeInt })),
});
export type ClauseCoverageReport = z.infer<typeof ClauseCoverageReport>;

export const NearDuplicatePair = z.object({ a: z.string(), b: z.string(), similarity: Unit });
export type NearDuplicatePair = z.infer<typeof NearDuplicatePair>;

export const NearDuplicateReport = z.object({
  threshold: Unit,
  /** Pairs with similarity ≥ threshold, most similar first; a precedes b in the input. */
  pairs: z.array(NearDuplicatePair),
  /** Connected groups of near-duplicates, each in input order, ordered by their first member. */
  groups: z.array(z.array(z.string())),
});
export type NearDuplicateReport = z.infer<typeof NearDuplicateReport>;

export const LeakMatch = z.object({
  heldOutId: z.string(),
  trainId: z.string(),
  similarity: Unit,
  /** The two questions are identical after normalisation (same tokens in the same order). */
  exact: z.boolean(),
});
export type LeakMatch = z.infer<typeof LeakMatch>;

export const LeakageReport = z.object({
  threshold: Unit,
  heldOut: NonNegativeInt,
  /** Held-out items with at least one match in train, in held-out order. */
  leakedHeldOutIds: z.array(z.string()),
  /** leakedHeldOutIds / heldOut; 0 for an empty held-out set. */
  leakageRate: Unit,
  /** Every match, in held-out order, most similar train question first. */
  matches: z.array(LeakMatch),
});
export type LeakageReport = z.infer<typeof LeakageReport>;

export const DataAuditReport = z.object({
  clauseCoverage: ClauseCoverageReport,
  nearDuplicates: NearDuplicateReport.nullable(),
  leakage: LeakageReport.nullable(),
});
export type DataAuditReport = z.infer<typeof DataAuditReport>;
