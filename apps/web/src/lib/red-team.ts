/** The red-team workspace's logic that runs without a browser: buckets, keys, what a finding can become. */

export const BUCKETS = ['both_fine', 'only_base_right', 'only_aligned_right', 'both_fail'] as const;
export type Bucket = (typeof BUCKETS)[number];

export const BUCKET_LABELS: Record<Bucket, string> = {
  both_fine: 'Both fine',
  only_base_right: 'Only base right',
  only_aligned_right: 'Only aligned right',
  both_fail: 'Both fail',
};

/** What each bucket tells (the original Alignment Studio's reading of the four outcomes). */
export const BUCKET_HINTS: Record<Bucket, string> = {
  both_fine: 'straightforward',
  only_base_right: 'conflicting values or poor data',
  only_aligned_right: 'a great example',
  both_fail: 'needs more or better data',
};

export interface GeneratedAttack {
  id: string;
  goalId: string;
  clauseIds: string[];
  goal: string;
  strategies: string[];
  turns: string[];
  injection: { clauseId: string; text: string } | null;
  canary: string | null;
  values: string[];
}

export interface Trial {
  id: string;
  runId: string;
  turns: string[];
  attack: { id: string; goal: string; strategies: string[] } | null;
  clauses: { id: string; numbering: string }[];
  alignedVariant: 'aligned' | 'aligned_rag';
  replies: { base: string[]; aligned: string[] };
  baseModel: string;
  adapterId: string;
}

export interface Finding {
  id: string;
  trialId: string;
  bucket: Bucket;
  note: string;
  prompt: string;
  answers: { base: string; aligned: string };
  clauses: { id: string; numbering: string }[];
  strategies: string[];
  author: string;
  createdAt: string;
  updatedAt: string;
  preference: { preferenceId: string; by: string; at: string; edited: boolean } | null;
  seed: { seedId: string; by: string; at: string; edited: boolean } | null;
}

export type RedTeamAction = Bucket | 'preference' | 'seed' | 'edit' | 'note' | 'next';

const KEYS: Record<string, RedTeamAction> = {
  '1': 'both_fine',
  '2': 'only_base_right',
  '3': 'only_aligned_right',
  '4': 'both_fail',
  p: 'preference',
  s: 'seed',
  e: 'edit',
  x: 'note',
  n: 'next',
};

/** The key of each action, as the view shows it. */
export const KEY_OF: Record<RedTeamAction, string> = Object.fromEntries(Object.entries(KEYS).map(([k, a]) => [a, k])) as Record<
  RedTeamAction,
  string
>;

/** What a key does in the workspace: nothing while typing in a field, nor with a modifier. */
export function redTeamShortcut(event: {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  target: { tagName?: string; type?: string } | null;
}): RedTeamAction | null {
  const tag = event.target?.tagName?.toUpperCase() ?? '';
  if (tag === 'TEXTAREA' || tag === 'SELECT' || tag === 'INPUT') return null;
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  return KEYS[event.key] ?? null;
}

/**
 * Why a finding cannot become a preference pair now (null when it can): a pair needs a right and a
 * wrong answer — none is wrong when both are fine; when both fail, the right one must be written.
 */
export function preferenceProblem(bucket: Bucket | null, edited: string): string | null {
  if (!bucket) return 'mark the outcome first (1–4)';
  if (bucket === 'both_fine') return 'both answers are fine: there is no rejected answer for a pair (make a seed instead)';
  if (bucket === 'both_fail' && edited.trim() === '')
    return 'both answers fail: write the right answer first (e), it becomes the chosen one';
  return null;
}

/** Why a finding cannot become a seed now (null when it can). */
export function seedProblem(bucket: Bucket | null, edited: string, clauses: number): string | null {
  if (!bucket) return 'mark the outcome first (1–4)';
  if (bucket === 'both_fail' && edited.trim() === '') return 'both answers fail: write the right answer first (e), the seed teaches it';
  if (clauses === 0) return 'the trial names no clause, and a seed must cite one';
  return null;
}

/** The attacks whose goal, strategies or turns hold every word of the filter. */
export function filterAttacks(attacks: readonly GeneratedAttack[], filter: string): GeneratedAttack[] {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...attacks];
  return attacks.filter((a) => {
    const text = `${a.goal} ${a.strategies.join(' ')} ${a.turns.join(' ')}`.toLowerCase();
    return words.every((w) => text.includes(w));
  });
}
