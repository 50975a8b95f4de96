/**
 * What the preferences view reads (the reward-model service's records through the gateway), and
 * how it joins a preference dataset version's weighted pairs with the preferences they weigh.
 */

export interface ContextValueView {
  name: string;
  priority: number;
  description: string;
}

export interface PreferenceView {
  id: string;
  contextId: string;
  prompt: string;
  systemPrompt: string | null;
  chosen: string;
  rejected: string;
  source: 'human' | 'synthetic' | 'model' | 'red-team';
  rejectedKind: string | null;
  values: string[];
  annotator: string;
  explanation: string | null;
  edited: boolean;
  clauseIds: string[];
  createdAt: string;
  /** The weight the newest preference dataset version gives it (null: none has considered it). */
  weight?: number | null;
}

export interface WeightedPair {
  preferenceId: string;
  weight: number;
  /** verdict: the verdict balance (absent from versions made before it existed: 1). */
  components: { priority: number; agreement: number; source: number; verdict?: number };
}

export interface PreferenceDatasetView {
  id: string;
  contextId: string;
  sha256: string;
  previousId: string | null;
  preferenceIds: string[];
  newPreferenceIds: string[];
  pairs: WeightedPair[];
  train: { uri?: string; sha256?: string; examples: number };
  heldOut: { uri?: string; sha256?: string; examples: number };
  bySource: Record<string, number>;
  resolutions: number;
  createdAt: string;
}

export interface ResolutionView {
  id: string;
  preferenceDatasetId: string;
  prompt: string;
  kind: 'annotators-disagree' | 'values-conflict';
  preferenceIds: string[];
  winnerIds: string[];
  values: string[];
  winningValue: string | null;
  reason: string;
}

export interface PairRow extends WeightedPair {
  isNew: boolean;
  preference: PreferenceView | null;
}

/** A version's pairs, in its order, each with its preference (when known) and whether the version added it. */
export function pairRows(dataset: PreferenceDatasetView, preferences: readonly PreferenceView[]): PairRow[] {
  const byId = new Map(preferences.map((p) => [p.id, p]));
  const added = new Set(dataset.newPreferenceIds);
  const weighted = new Map(dataset.pairs.map((p) => [p.preferenceId, p]));
  const ids = dataset.preferenceIds.length > 0 ? dataset.preferenceIds : dataset.pairs.map((p) => p.preferenceId);
  return ids.map((id) => ({
    ...(weighted.get(id) ?? { preferenceId: id, weight: 0, components: { priority: 0, agreement: 0, source: 0 } }),
    isNew: added.has(id),
    preference: byId.get(id) ?? null,
  }));
}

/** "human 2 · synthetic 40": the counts of a version by source, largest first. */
export function sourceCounts(bySource: Record<string, number>): string {
  const entries = Object.entries(bySource).filter(([, n]) => n > 0);
  if (entries.length === 0) return '—';
  return entries
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([source, n]) => `${source} ${n}`)
    .join(' · ');
}

/** The rows of exported TRL preference JSON lines that name a preference id (`preference_id`), in order. */
export function exportedIds(jsonl: string): string[] {
  return jsonl
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .flatMap((line) => {
      try {
        const row = JSON.parse(line) as { preference_id?: unknown };
        return typeof row.preference_id === 'string' ? [row.preference_id] : [];
      } catch {
        return [];
      }
    });
}
