import { z } from 'zod';
import { AuditVariant, Id, NonNegativeInt } from '@studio/contracts';
import type { AuditVariant as Variant } from './evaluate';
import type { AuditEvaluation, ItemResult } from './schema';

/**
 * The reward model's compliance score of an audit: the model (a registered reward adapter) and,
 * per answered variant, the mean reward of its answers. A reward is the scalar the reward model
 * gives an answer to the item's question (higher: more like the answers people and the framing
 * preferred); it is not bounded, so it compares variants of one audit, not audits of different
 * reward models. No release gate reads it yet.
 */
export const RewardSummary = z.object({
  model: z.object({
    adapterId: Id.describe('The reward model: its adapter id on the model server'),
    runId: Id.describe('The training run that made it'),
  }),
  /** Items scored (every audited item). */
  items: NonNegativeInt,
  /** Mean reward of each variant's answers. */
  means: z.partialRecord(AuditVariant, z.number()),
});
export type RewardSummary = z.infer<typeof RewardSummary>;

/** Rewards of one audit: per variant, the reward of each item's answer (by item id). */
export type RewardsByVariant = Partial<Record<Variant, Readonly<Record<string, number>>>>;

/**
 * Puts each answer's reward beside its lexical scores (`variants[v].reward`) and sums them up per
 * variant. Throws, naming it, when an answered variant has no reward for an item, a reward is not a
 * finite number, or a reward is given for a variant or item the evaluation does not have.
 */
export function withRewards(
  evaluation: AuditEvaluation,
  rewards: RewardsByVariant,
  model: RewardSummary['model'],
): { evaluation: AuditEvaluation; rewards: RewardSummary } {
  const answered = new Set(evaluation.items.flatMap((item) => Object.keys(item.variants)));
  const itemIds = new Set(evaluation.items.map((item) => item.itemId));
  for (const [variant, byItem] of Object.entries(rewards)) {
    if (!answered.has(variant)) throw new Error(`rewards given for variant "${variant}", which the audit did not answer`);
    for (const [itemId, reward] of Object.entries(byItem ?? {})) {
      if (!itemIds.has(itemId)) throw new Error(`reward given for item "${itemId}" (${variant}), which the audit did not evaluate`);
      if (!Number.isFinite(reward)) throw new Error(`the reward of ${variant}/${itemId} is not a finite number: ${reward}`);
    }
  }
  const sums = new Map<Variant, number>();
  const items: ItemResult[] = evaluation.items.map((item) => {
    const variants = Object.fromEntries(
      Object.entries(item.variants).map(([variant, score]) => {
        const reward = rewards[variant as Variant]?.[item.itemId];
        if (reward === undefined) throw new Error(`no reward for the ${variant} answer of item "${item.itemId}"`);
        sums.set(variant as Variant, (sums.get(variant as Variant) ?? 0) + reward);
        return [variant, { ...score, reward }];
      }),
    ) as ItemResult['variants'];
    return { ...item, variants };
  });
  const count = evaluation.items.length;
  const means = Object.fromEntries([...sums].map(([variant, sum]) => [variant, count === 0 ? 0 : sum / count]));
  return { evaluation: { ...evaluation, items }, rewards: { model, items: count, means } };
}
