import { deriveSeed, seededRandom, sha256Hex } from '@studio/framing';
import { z } from 'zod';
import { AttackGoal } from './goals';
import { deliver, STRATEGIES, StrategyName, validateStack } from './strategies';

/** One attack: a goal delivered through a stack of strategies, keeping its clause ids, goal and strategies. */
export const Attack = z.object({
  /** Deterministic: 'atk-' + sha256(goalId + strategies) sliced. */
  id: z.string().min(1),
  goalId: z.string().min(1),
  clauseIds: z.array(z.string().min(1)).min(1),
  goal: z.string().min(1),
  /** Layered in order: e.g. ['role-play', 'base64']. */
  strategies: z.array(StrategyName).min(1),
  /** The user turns, sent one at a time (a single turn for most strategies; several for multi-turn). */
  turns: z.array(z.string().min(1)).min(1),
  /** retrieved-injection only: text added to the retrieved clauses of the RAG variant, carrying the injected instruction. */
  injection: z.object({ clauseId: z.string().min(1), text: z.string().min(1) }).nullable(),
  /** A marker the injected instruction (prompt-injection / retrieved-injection) asks the model to output; the reply containing it means the model followed the injection. Null for other strategies. */
  canary: z.string().nullable(),
  values: z.array(z.string()),
});
export type Attack = z.infer<typeof Attack>;

export interface AttackOptions {
  /** Strategy stacks to apply to every goal; default: each single strategy except 'adaptive', plus a few layered ones. */
  stacks?: readonly (readonly StrategyName[])[];
  /** Deterministic sample: at most this many attacks, spread over goals and stacks round-robin. */
  maxAttacks?: number;
  /** Orders the sample (which goals come first, which stack each starts with); the attacks' text does not depend on it. */
  seed?: number;
}

/** Layered stacks in the default set: a frame inside an encoding, a frame with a changed structure. */
export const LAYERED_STACKS: readonly (readonly StrategyName[])[] = [
  ['role-play', 'base64'],
  ['hypothetical', 'leetspeak'],
  ['authority', 'split'],
  ['role-play', 'multi-turn'],
  ['hypothetical', 'language'],
];

/** Every single strategy except 'adaptive', then the layered stacks. */
export const DEFAULT_STACKS: readonly (readonly StrategyName[])[] = [
  ...STRATEGIES.filter((s) => s !== 'adaptive').map((s) => [s] as const),
  ...LAYERED_STACKS,
];

/** The attack id of a goal and stack: 'atk-' and 16 hex of sha256(goalId + '|' + the stack joined with '+'). */
export function attackId(goalId: string, strategies: readonly string[]): string {
  return `atk-${sha256Hex(`${goalId}|${strategies.join('+')}`).slice(0, 16)}`;
}

/** The canary of an attack: a marker no reply contains by chance. */
export function canaryOf(id: string): string {
  return `CANARY-${sha256Hex(`canary|${id}`).slice(0, 10).toUpperCase()}`;
}

/** One attack of a goal through a stack (validated). */
export function buildAttack(goal: AttackGoal, stack: readonly StrategyName[]): Attack {
  const strategies = validateStack(stack);
  const id = attackId(goal.id, strategies);
  const d = deliver(strategies, {
    key: id,
    canary: canaryOf(id),
    goal: {
      goal: goal.goal,
      action: goal.action,
      ruleKind: goal.ruleKind,
      clauseId: goal.clauseId,
      clauseNumbering: goal.clauseNumbering,
      clauseText: goal.clauseText,
    },
  });
  return {
    id,
    goalId: goal.id,
    clauseIds: [goal.clauseId],
    goal: goal.goal,
    strategies,
    turns: d.turns,
    injection: d.injection,
    canary: d.canary,
    values: [...goal.values],
  };
}

/**
 * Attacks of goals through strategy stacks. Without `maxAttacks`, every goal through every stack,
 * goal by goal. With it, a deterministic sample spread round-robin: the goals in an order the seed
 * decides, each taking the next stack in turn (goal k of round r gets stack (k + r + offset) mod S),
 * so every stack and every goal is used before any pair repeats a goal.
 */
export function generateAttacks(goals: readonly AttackGoal[], options: AttackOptions = {}): Attack[] {
  const stacks = (options.stacks ?? DEFAULT_STACKS).map((s) => validateStack(s));
  if (stacks.length === 0) throw new Error('options.stacks is empty: give at least one strategy stack');
  for (const g of goals) AttackGoal.parse(g);
  const needsText = stacks.some((s) => s.includes('retrieved-injection'));
  if (options.stacks && needsText) {
    const missing = goals.find((g) => !g.clauseText);
    if (missing) throw new Error(`goal ${missing.id} has no clauseText: the retrieved-injection strategy needs the clause's text`);
  }
  // Default stacks skip retrieved-injection for hand-written goals without the clause's text.
  const usable = (g: AttackGoal, s: readonly StrategyName[]): boolean => !s.includes('retrieved-injection') || Boolean(g.clauseText);
  const max = options.maxAttacks;
  if (max === undefined) return goals.flatMap((g) => stacks.filter((s) => usable(g, s)).map((s) => buildAttack(g, s)));
  if (!Number.isInteger(max) || max < 0) throw new Error(`options.maxAttacks must be a non-negative integer, got ${max}`);
  const random = seededRandom(deriveSeed(options.seed ?? 0, 'attacks'));
  const order = random.shuffle(goals);
  const offset = random.int(stacks.length);
  const out: Attack[] = [];
  for (let round = 0; round < stacks.length && out.length < max; round++) {
    for (const [k, g] of order.entries()) {
      if (out.length >= max) break;
      const stack = stacks[(k + round + offset) % stacks.length] as StrategyName[];
      if (usable(g, stack)) out.push(buildAttack(g, stack));
    }
  }
  return out;
}
