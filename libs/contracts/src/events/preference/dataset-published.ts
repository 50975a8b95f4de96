import { z } from 'zod';
import { ContextId, Id, NonNegativeInt, Sha256 } from '../../common';

export const PREFERENCE_DATASET_PUBLISHED_V1 = 'preference.dataset.published.v1';

/** A split of a preference dataset: TRL preference JSON lines (runtime/preference-row.v1). */
export const PreferenceSplitInfo = z.object({
  path: z.string().min(1).describe('URI of the TRL preference JSON lines (one row per preference, runtime/preference-row.v1)'),
  sha256: Sha256,
  examples: NonNegativeInt.describe('Rows in the file'),
});
export type PreferenceSplitInfo = z.infer<typeof PreferenceSplitInfo>;

/**
 * An immutable, content-hashed preference dataset version was published (the reward-model service
 * publishes it; the instructor records it as trainable for DPO and reward-model runs).
 */
export const PreferenceDatasetPublishedV1 = z.object({
  version: z.literal('v1'),
  contextId: ContextId,
  preferenceDatasetId: Id,
  sha256: Sha256.describe('Content hash of the version: its preferences, their weights and splits'),
  previousId: Id.nullable().describe('The version before it; a round trains on the preferences new since then'),
  pairs: NonNegativeInt.describe('Preferences considered (weighted, zero weights included)'),
  newPairs: NonNegativeInt.describe('Preferences not in the previous version'),
  bySource: z.record(z.string(), NonNegativeInt).describe('Preferences considered, by source (human, synthetic, model, red-team)'),
  resolutions: NonNegativeInt.describe('Conflicts between preferences on the same prompt that the value priorities settled'),
  train: PreferenceSplitInfo,
  heldOut: PreferenceSplitInfo,
});
export type PreferenceDatasetPublishedV1 = z.infer<typeof PreferenceDatasetPublishedV1>;
