import {
  ContextId,
  Id,
  IsoTime,
  NonNegativeInt,
  Preference,
  PreferenceOrigin,
  PreferenceSource,
  RejectedKind,
  Sha256,
} from '@studio/contracts';
import type { EntitySpec, Repository } from '@studio/ports';
import { z } from 'zod';

/**
 * What the reward-model service stores: preferences, the resolutions of their conflicts and the
 * immutable preference datasets made of them. Ids are deterministic, so every write is an
 * idempotent upsert. The preference's shape is the contract's (`feedback.preference.submitted.v1`
 * carries one whole), so the service stores what the gateway publishes as it is.
 */

export { PreferenceOrigin, PreferenceSource, RejectedKind };

export const PreferenceRecord = Preference;
export type PreferenceRecord = z.infer<typeof PreferenceRecord>;

/** A preference before it is stored: its id follows from its content (preferenceId), its time from the store. */
export const PreferenceInput = PreferenceRecord.omit({ id: true, createdAt: true });
export type PreferenceInput = z.infer<typeof PreferenceInput>;

export const PREFERENCES: EntitySpec<PreferenceRecord> = {
  collection: 'preferences',
  schema: PreferenceRecord,
  indexes: [{ fields: { contextId: 1, createdAt: 1 } }, { fields: { contextId: 1, source: 1 } }],
};

export const ResolutionKind = z.enum(['annotators-disagree', 'values-conflict']);
export type ResolutionKind = z.infer<typeof ResolutionKind>;

/** One settled conflict between preferences on the same prompt. */
export const ResolutionRecord = z.object({
  id: Id.describe('<preferenceDatasetId>.r<n>: the n-th resolution of that dataset'),
  contextId: ContextId,
  preferenceDatasetId: Id,
  prompt: z.string(),
  kind: ResolutionKind,
  preferenceIds: z.array(Id).describe('All preferences in the conflict'),
  winnerIds: z.array(Id).describe('The side that won (several agreeing preferences); empty when nothing could settle a tie'),
  values: z.array(z.string()).describe('Values involved'),
  winningValue: z.string().nullable(),
  reason: z.string().min(1),
});
export type ResolutionRecord = z.infer<typeof ResolutionRecord>;

export const RESOLUTIONS: EntitySpec<ResolutionRecord> = {
  collection: 'preference_resolutions',
  schema: ResolutionRecord,
  indexes: [{ fields: { contextId: 1, preferenceDatasetId: 1 } }],
};

/** The weight the aggregation gives a preference: priority × agreement × source × verdict balance. */
export const WeightedPair = z.object({
  preferenceId: Id,
  weight: z.number().min(0),
  components: z.object({
    priority: z.number().min(0).describe('The highest importance among its values (the mean importance without values)'),
    agreement: z.number().min(0).max(1).describe('Share of annotators on the prompt agreeing with it; 0 for the losers of a resolution'),
    source: z.number().min(0).describe('human 1, red-team 1, synthetic 0.5, model 0.5'),
    verdict: z
      .number()
      .min(0)
      .default(1)
      .describe(
        'Verdict balance: scales the pairs whose chosen answer opens with "yes" and those opening with "no" to the same total weight (1 for a pair without such a verdict, or where only one verdict occurs)',
      ),
  }),
});
export type WeightedPair = z.infer<typeof WeightedPair>;

/** A split of a preference dataset: TRL preference JSON lines in the artifact store. */
export const PreferenceSplitRecord = z.object({
  uri: z.string().min(1),
  sha256: Sha256,
  examples: NonNegativeInt,
});
export type PreferenceSplitRecord = z.infer<typeof PreferenceSplitRecord>;

/** An immutable, content-hashed preference dataset version. */
export const PreferenceDatasetRecord = z.object({
  id: Id.describe('prefs-<first 32 hex of sha256>'),
  contextId: ContextId,
  sha256: Sha256.describe('Hash of the preferences considered, their weights and the two splits'),
  previousId: Id.nullable().describe('The version before it (a round = the preferences new since previousId)'),
  preferenceIds: z.array(Id).describe('Every preference considered, in order'),
  newPreferenceIds: z.array(Id).describe('Those not in previousId'),
  pairs: z.array(WeightedPair).describe('Weights of all considered preferences (0 for losers and zero-importance values)'),
  train: PreferenceSplitRecord,
  heldOut: PreferenceSplitRecord,
  bySource: z.record(z.string(), NonNegativeInt),
  resolutions: NonNegativeInt,
  valuesSha256: Sha256.nullable().describe('Hash of the values file the weights were computed with; null without one'),
  createdAt: IsoTime,
});
export type PreferenceDatasetRecord = z.infer<typeof PreferenceDatasetRecord>;

export const PREFERENCE_DATASETS: EntitySpec<PreferenceDatasetRecord> = {
  collection: 'preference_datasets',
  schema: PreferenceDatasetRecord,
  indexes: [{ fields: { contextId: 1, createdAt: -1 } }],
};

/** Opens the preference repositories with `open` (a SQLite store's, a MongoDB database's). */
export function preferenceRepositories(open: <T extends { id: string }>(spec: EntitySpec<T>) => Repository<T>) {
  return {
    preferences: open(PREFERENCES),
    resolutions: open(RESOLUTIONS),
    preferenceDatasets: open(PREFERENCE_DATASETS),
  };
}
export type PreferenceRepositories = ReturnType<typeof preferenceRepositories>;
