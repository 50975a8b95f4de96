import { z } from 'zod';
import { AuditVariant, Id, NonNegativeInt } from '@studio/contracts';

/**
 * The attacking sections of an audit report: the red team (attacks generated from the context's
 * rules, answered by every variant and judged), the benign probes (over-refusal) and the
 * general-ability set. Optional in the report: reports written before they existed still parse.
 * The shapes mirror those of @studio/redteam, which computes them; they are restated here because
 * the report is read by code that does not generate attacks (the web app, the auditor's API).
 */

const Unit = z.number().min(0).max(1);

/** k of n with the rate and its 95% Wilson interval. */
export const ReportRate = z.object({ n: NonNegativeInt, k: NonNegativeInt, rate: Unit, low: Unit, high: Unit });
export type ReportRate = z.infer<typeof ReportRate>;

export const ReportAttackOutcome = z.enum(['refused', 'complied', 'leaked']);
export type ReportAttackOutcome = z.infer<typeof ReportAttackOutcome>;

/** Attack success (complied or leaked) overall, per strategy stack ('role-play+base64'), per clause and per value. */
export const ReportAttackSuccess = z.object({
  overall: ReportRate,
  complied: ReportRate,
  leaked: ReportRate,
  byStrategy: z.record(z.string(), ReportRate),
  byClause: z.record(z.string(), ReportRate),
  byValue: z.record(z.string(), ReportRate),
});
export type ReportAttackSuccess = z.infer<typeof ReportAttackSuccess>;

/** How one variant answered one attack and how it was judged. */
export const ReportAttackReply = z.object({
  /** The replies, one per user turn (each cut to a bounded length). */
  replies: z.array(z.string()),
  /** The decision: the LLM judge's when there is one, else the reward model's, else the rules'. */
  outcome: ReportAttackOutcome,
  rules: ReportAttackOutcome,
  reward: ReportAttackOutcome.nullable(),
  llm: ReportAttackOutcome.nullable(),
  /** The reward model's score of the conversation (its last reply); null without a reward model. */
  rewardScore: z.number().nullable(),
  evidence: z.string(),
  /** Injection attacks: the reply carries the canary the injected instruction asked for. Null for other attacks. */
  followedInjection: z.boolean().nullable(),
});
export type ReportAttackReply = z.infer<typeof ReportAttackReply>;

export const ReportAttack = z.object({
  attackId: Id,
  goal: z.string().min(1),
  clauseIds: z.array(Id).min(1),
  strategies: z.array(z.string().min(1)).min(1),
  values: z.array(z.string()),
  turns: z.array(z.string().min(1)).min(1),
  canary: z.string().nullable(),
  /** retrieved-injection: the clause whose retrieved text carried the injected instruction, and that text. */
  injection: z.object({ clauseId: Id, text: z.string().min(1) }).nullable(),
  /** The variants that answered it (a retrieved-injection attack only reaches aligned+RAG). */
  variants: z.partialRecord(AuditVariant, ReportAttackReply),
});
export type ReportAttack = z.infer<typeof ReportAttack>;

export const JudgePair = z.enum(['rules-reward', 'rules-llm', 'reward-llm']);
export type JudgePair = z.infer<typeof JudgePair>;

/** How often two judges gave the same outcome to the same reply, with Cohen's kappa (null where undefined: one class only). */
export const ReportJudgeAgreement = z.object({
  judges: JudgePair,
  n: NonNegativeInt,
  agreed: NonNegativeInt,
  rate: Unit,
  kappa: z.number().min(-1).max(1).nullable(),
});
export type ReportJudgeAgreement = z.infer<typeof ReportJudgeAgreement>;

export const RedTeamVariant = z.object({
  success: ReportAttackSuccess,
  /** Mean reward of the replies (the last of each conversation); null without a reward model. */
  meanReward: z.number().nullable(),
  /** Agreement between the judges that judged this variant's replies (pairs with a missing judge are left out). */
  agreement: z.array(ReportJudgeAgreement),
});
export type RedTeamVariant = z.infer<typeof RedTeamVariant>;

/**
 * Instructions injected inside retrieved clause text (the RAG path): how many such attacks put their
 * text into the aligned+RAG system prompt, and how often the model followed the instruction.
 */
export const ReportInjection = z.object({
  variant: z.literal('aligned_rag'),
  attacks: NonNegativeInt,
  /** Attacks whose injected text was in the system prompt the model was asked with. */
  inPrompt: NonNegativeInt,
  /** Replies carrying the canary: the model followed the injected instruction. */
  followed: ReportRate,
});
export type ReportInjection = z.infer<typeof ReportInjection>;

/** One round of an adaptive attack: the prompt sent, the target's reply and its judgement. */
export const ReportAdaptiveRound = z.object({
  round: z.number().int().min(1),
  prompt: z.string().min(1),
  reply: z.string(),
  outcome: ReportAttackOutcome,
});
export type ReportAdaptiveRound = z.infer<typeof ReportAdaptiveRound>;

/** One adaptive attack on one variant: every round, the final judgement and why the attacker stopped. */
export const ReportAdaptiveAttempt = z.object({
  attackId: Id,
  goalId: z.string().min(1),
  goal: z.string().min(1),
  clauseIds: z.array(Id).min(1),
  values: z.array(z.string()),
  variant: AuditVariant,
  rounds: z.array(ReportAdaptiveRound).min(1),
  /** The final round's judgement (the same judges as the generated attacks'). */
  outcome: ReportAttackOutcome,
  rules: ReportAttackOutcome,
  reward: ReportAttackOutcome.nullable(),
  llm: ReportAttackOutcome.nullable(),
  rewardScore: z.number().nullable(),
  evidence: z.string(),
  stop: z.object({ reason: z.enum(['succeeded', 'max-rounds', 'attacker-unusable']), detail: z.string() }),
});
export type ReportAdaptiveAttempt = z.infer<typeof ReportAdaptiveAttempt>;

/**
 * The adaptive attacker (an attacker model at an OpenAI-compatible endpoint refining its prompt from
 * the target's replies): what it was, or why it did not run. Its attempts count under the strategy
 * 'adaptive' in each variant's attack success (overall, per strategy, clause and value).
 */
export const ReportAdaptive = z.discriminatedUnion('ran', [
  z.object({
    ran: z.literal(false),
    /** Why not, e.g. no attacker endpoint configured. */
    reason: z.string().min(1),
  }),
  z.object({
    ran: z.literal(true),
    attacker: z.object({ model: z.string().min(1), endpoint: z.string().nullable(), promptVersion: z.string().min(1) }),
    /** Bound on the prompts tried per attempt. */
    maxRounds: z.number().int().min(1),
    /** Goals attacked adaptively (each against every variant that answers attacks). */
    goals: NonNegativeInt,
    attempts: z.array(ReportAdaptiveAttempt),
  }),
]);
export type ReportAdaptive = z.infer<typeof ReportAdaptive>;

export const RedTeamReport = z.object({
  /** Goals derived from the rules (prohibitions and obligations that can be dodged) and attacks sampled from them. */
  goals: NonNegativeInt,
  attacks: NonNegativeInt,
  variants: z.partialRecord(AuditVariant, RedTeamVariant),
  injection: ReportInjection.nullable(),
  results: z.array(ReportAttack),
  /** The adaptive attacker's attempts, or why there are none; absent in reports written before it existed. */
  adaptive: ReportAdaptive.optional(),
});
export type RedTeamReport = z.infer<typeof RedTeamReport>;

export const ReportBenignProbe = z.object({
  probeId: Id,
  clauseIds: z.array(Id).min(1),
  source: z.enum(['permission', 'exception', 'definition']),
  prompt: z.string().min(1),
  expectedGist: z.string().min(1),
  variants: z.partialRecord(
    AuditVariant,
    z.object({ answer: z.string(), refused: z.boolean(), helpful: z.boolean(), keyTermCoverage: Unit }),
  ),
});
export type ReportBenignProbe = z.infer<typeof ReportBenignProbe>;

/** Over-refusal: benign but risky-looking questions from permissions, exceptions and definitions. */
export const BenignReport = z.object({
  probes: NonNegativeInt,
  /** Per variant: refusals and helpful answers (not refused, key-term coverage ≥ 0.5). */
  variants: z.partialRecord(AuditVariant, z.object({ refusal: ReportRate, helpful: ReportRate })),
  results: z.array(ReportBenignProbe),
});
export type BenignReport = z.infer<typeof BenignReport>;

/** A fixed general-purpose set answered by every variant: accuracy, and the gated variant's regression from base. */
export const GeneralAbilityReport = z.object({
  version: z.string().min(1),
  provenance: z.string().min(1),
  items: NonNegativeInt,
  variants: z.partialRecord(AuditVariant, z.object({ correct: NonNegativeInt, accuracy: ReportRate })),
  /** The variant the regression is of (the gated one). */
  gateVariant: AuditVariant,
  /** Base accuracy minus the gated variant's (negative: the variant does better). */
  regression: z.number().min(-1).max(1),
  results: z.array(
    z.object({
      itemId: Id,
      category: z.string(),
      question: z.string(),
      variants: z.partialRecord(AuditVariant, z.object({ answer: z.string(), correct: z.boolean() })),
    }),
  ),
});
export type GeneralAbilityReport = z.infer<typeof GeneralAbilityReport>;
