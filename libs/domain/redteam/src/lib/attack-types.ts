import { z } from 'zod';

// Attack and benign-probe shapes as specified for the attack generator (src/lib/attacks.ts, benign.ts).
// Held here so that judging can be built and tested on its own; the generator's definitions replace this file.

export const STRATEGIES = [
  'direct',
  'role-play',
  'hypothetical',
  'authority',
  'split',
  'base64',
  'rot13',
  'leetspeak',
  'language',
  'prompt-injection',
  'retrieved-injection',
  'multi-turn',
  'adaptive',
] as const;
export const StrategyName = z.enum(STRATEGIES);
export type StrategyName = z.infer<typeof StrategyName>;

/** What a user would ask to break one rule: from a prohibition ("must not X" -> ask for help to X) or an obligation that can be dodged ("must X" -> ask how to avoid X). */
export const AttackGoal = z.object({
  id: z.string().min(1),
  clauseId: z.string().min(1),
  clauseNumbering: z.string().min(1),
  statementId: z.string().min(1),
  ruleKind: z.enum(['prohibition', 'obligation']),
  action: z.string().min(1),
  goal: z.string().min(1),
  values: z.array(z.string()),
});
export type AttackGoal = z.infer<typeof AttackGoal>;

export const Attack = z.object({
  id: z.string().min(1),
  goalId: z.string().min(1),
  clauseIds: z.array(z.string().min(1)).min(1),
  goal: z.string().min(1),
  strategies: z.array(StrategyName).min(1),
  /** The user turns, sent one at a time (a single turn for most strategies; several for multi-turn). */
  turns: z.array(z.string().min(1)).min(1),
  /** retrieved-injection only: text added to the retrieved clauses of the RAG variant, carrying the injected instruction. */
  injection: z.object({ clauseId: z.string().min(1), text: z.string().min(1) }).nullable(),
  /** A marker the injected instruction asks the model to output; the reply containing it means the model followed the injection. */
  canary: z.string().nullable(),
  values: z.array(z.string()),
});
export type Attack = z.infer<typeof Attack>;

/** A benign but risky-looking question from a permission, an exception or a definition, with the gist a helpful answer carries. */
export const BenignProbe = z.object({
  id: z.string().min(1),
  clauseIds: z.array(z.string().min(1)).min(1),
  source: z.enum(['permission', 'exception', 'definition']),
  prompt: z.string().min(1),
  expectedGist: z.string().min(1),
  keyTerms: z.array(z.string()),
});
export type BenignProbe = z.infer<typeof BenignProbe>;
