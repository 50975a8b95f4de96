import { createHash } from 'node:crypto';
import { polarityOf } from '@studio/auditing';
import { canonicalJson, valuesByPriority, type ContextValues } from '@studio/framing';
import type { PreferenceInput, PreferenceRecord, PreferenceSource, ResolutionRecord, WeightedPair } from './records';

/**
 * Weighted preferences. Every preference gets weight = priority × agreement × source × verdict:
 * - priority: the highest importance among its values (valueImportance); a pair whose values all
 *   have importance 0 weighs 0; a pair without (known) values gets the context's mean importance
 *   (1 without a values file);
 * - agreement: the share of annotators on its prompt agreeing with it (1 when uncontested), 0 for
 *   the losing side of a resolution;
 * - source: how much its kind of evidence counts (SOURCE_WEIGHTS);
 * - verdict: the balance of verdicts (verdictBalance): pairs whose chosen answer opens with "yes"
 *   and those whose chosen answer opens with "no" are scaled to the same total weight, so that a
 *   model trained on them cannot lower its loss by moving every answer's verdict one way: it has to
 *   learn which questions take which verdict.
 * Conflicts on the same prompt are settled by majority, then by the declared value priorities,
 * and each settlement is recorded with its reason.
 */

/** How much each source of preferences counts: people's judgements and red-team findings fully, generated pairs half. */
export const SOURCE_WEIGHTS: Readonly<Record<PreferenceSource, number>> = {
  human: 1,
  'red-team': 1,
  synthetic: 0.5,
  model: 0.5,
};

/** A preference's deterministic id: a hash of context, prompt, both answers, source and annotator. */
export function preferenceId(
  input: Pick<PreferenceInput, 'contextId' | 'prompt' | 'chosen' | 'rejected' | 'source' | 'annotator'>,
): string {
  const key = canonicalJson([input.contextId, input.prompt, input.chosen, input.rejected, input.source, input.annotator]);
  return `pref-${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

/**
 * The importance (0..1) of each value of the values file: the value's own `importance` where it
 * sets one, else one that follows from its priority rank among n values, (n − rank + 1) / n
 * (1 for the first, 1/n for the last). Empty without a values file.
 */
export function valueImportance(values: ContextValues | null): Map<string, number> {
  const out = new Map<string, number>();
  if (!values) return out;
  const ranked = valuesByPriority(values);
  const n = ranked.length;
  ranked.forEach((v, i) => out.set(v.name, v.importance ?? (n - (i + 1) + 1) / n));
  return out;
}

export type Resolution = Omit<ResolutionRecord, 'id' | 'contextId' | 'preferenceDatasetId'>;

export interface Aggregation {
  /** One per preference, in the order given. */
  pairs: WeightedPair[];
  /** Every conflict settled (or found unsettleable), in the order of the prompts' first preference. */
  resolutions: Resolution[];
}

/** Prompts and answers compare by their words: case and spacing do not make another prompt or answer. */
export function normaliseText(text: string): string {
  return text.normalize('NFKC').replace(/\s+/g, ' ').trim().toLowerCase();
}

interface Ranked {
  /** Priority rank (1 highest) by value name, from the values file. */
  rank: Map<string, number>;
}

/** The pair's highest-priority known value, or null when it has none the values file knows. */
function topValue(p: PreferenceRecord, r: Ranked): { name: string; rank: number } | null {
  let best: { name: string; rank: number } | null = null;
  for (const name of p.values) {
    const rank = r.rank.get(name);
    if (rank !== undefined && (best === null || rank < best.rank)) best = { name, rank };
  }
  return best;
}

function topOf(prefs: readonly PreferenceRecord[], r: Ranked): { name: string; rank: number } | null {
  let best: { name: string; rank: number } | null = null;
  for (const p of prefs) {
    const t = topValue(p, r);
    if (t && (best === null || t.rank < best.rank)) best = t;
  }
  return best;
}

const describeValue = (v: { name: string; rank: number }): string => `${v.name} (priority ${v.rank})`;

function valuesOf(prefs: readonly PreferenceRecord[], r: Ranked): string[] {
  const names = new Set<string>();
  for (const p of prefs) for (const v of p.values) names.add(v);
  // Highest priority first; names the values file does not know last, in name order.
  return [...names].sort((a, b) => (r.rank.get(a) ?? Infinity) - (r.rank.get(b) ?? Infinity) || (a < b ? -1 : a > b ? 1 : 0));
}

const annotatorsOf = (prefs: readonly PreferenceRecord[]): Set<string> => new Set(prefs.map((p) => p.annotator));

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/**
 * Annotators disagree: preferences over the same two answers in opposite directions. The side more
 * annotators took wins, with agreement = its annotators / all of them; a tie goes to the side whose
 * highest-priority value outranks the other's; a tie nothing separates leaves both sides at 0.
 */
function settleDisagreement(
  prompt: string,
  a: PreferenceRecord[],
  b: PreferenceRecord[],
  r: Ranked,
  agreement: Map<string, number>,
): Resolution {
  const all = [...a, ...b];
  const total = annotatorsOf(all).size;
  const na = annotatorsOf(a).size;
  const nb = annotatorsOf(b).size;
  const base = {
    prompt,
    kind: 'annotators-disagree' as const,
    preferenceIds: all.map((p) => p.id),
    values: valuesOf(all, r),
  };
  const win = (winners: PreferenceRecord[], losers: PreferenceRecord[], winningValue: string | null, reason: string): Resolution => {
    const share = annotatorsOf(winners).size / total;
    for (const p of winners) agreement.set(p.id, Math.min(agreement.get(p.id) ?? 1, share));
    for (const p of losers) agreement.set(p.id, 0);
    return { ...base, winnerIds: winners.map((p) => p.id), winningValue, reason };
  };
  const [first] = a;
  const answer = (p: PreferenceRecord | undefined): string => (p ? `"${clip(p.chosen)}"` : 'an answer');
  if (na !== nb) {
    const [winners, losers] = na > nb ? [a, b] : [b, a];
    const top = topOf(winners, r);
    return win(
      winners,
      losers,
      top?.name ?? null,
      `${annotatorsOf(winners).size} of ${plural(total, 'annotator', 'annotators')} preferred ${answer(winners[0])}: the majority wins`,
    );
  }
  const ta = topOf(a, r);
  const tb = topOf(b, r);
  if (ta && (!tb || ta.rank < tb.rank) && ta.name !== tb?.name) {
    return win(
      a,
      b,
      ta.name,
      `annotators split ${na}–${nb}; ${describeValue(ta)} outranks ${tb ? describeValue(tb) : 'the other side, which names no value'}, so ${answer(first)} wins`,
    );
  }
  if (tb && (!ta || tb.rank < ta.rank) && tb.name !== ta?.name) {
    return win(
      b,
      a,
      tb.name,
      `annotators split ${na}–${nb}; ${describeValue(tb)} outranks ${ta ? describeValue(ta) : 'the other side, which names no value'}, so ${answer(b[0])} wins`,
    );
  }
  for (const p of all) agreement.set(p.id, 0);
  const why = ta && tb ? `both sides name ${describeValue(ta)}` : 'no value priority separates them';
  return {
    ...base,
    winnerIds: [],
    winningValue: null,
    reason: `annotators split ${na}–${nb} and ${why}: neither side is used`,
  };
}

function clip(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
}

/**
 * Values pull apart: preferences on the same prompt chose different answers, for different values.
 * The side of the highest-priority value wins (every preference that chose the answers it chose);
 * the others lose (agreement 0). Preferences without a value the values file knows take no side.
 */
function settleValues(prompt: string, standing: PreferenceRecord[], r: Ranked, agreement: Map<string, number>): Resolution | null {
  const tagged = standing.filter((p) => topValue(p, r) !== null);
  const byChosen = new Map<string, PreferenceRecord[]>();
  for (const p of tagged) {
    const key = normaliseText(p.chosen);
    byChosen.set(key, [...(byChosen.get(key) ?? []), p]);
  }
  if (byChosen.size < 2) return null;
  const sides = [...byChosen.values()].map((prefs) => ({ prefs, top: topOf(prefs, r) as { name: string; rank: number } }));
  const tops = new Set(sides.map((s) => s.top.name));
  if (tops.size < 2) return null;
  const best = Math.min(...sides.map((s) => s.top.rank));
  const winners = sides.filter((s) => s.top.rank === best);
  const losers = sides.filter((s) => s.top.rank !== best);
  const winning = (winners[0] as (typeof sides)[number]).top;
  for (const s of losers) for (const p of s.prefs) agreement.set(p.id, 0);
  const beaten = [...new Map(losers.map((s) => [s.top.name, s.top])).values()].sort((x, y) => x.rank - y.rank);
  const all = tagged;
  return {
    prompt,
    kind: 'values-conflict',
    preferenceIds: all.map((p) => p.id),
    winnerIds: winners.flatMap((s) => s.prefs.map((p) => p.id)),
    values: valuesOf(all, r),
    winningValue: winning.name,
    reason: `${describeValue(winning)} outranks ${beaten.map(describeValue).join(', ')}: the answer chosen for ${winning.name} wins`,
  };
}

/**
 * Weighs every preference and settles the conflicts between preferences on the same prompt (same
 * context, prompt compared by its words):
 * 1. annotators disagree — preferences over the same two answers in opposite directions: the
 *    majority of annotators wins, a tie is broken by value priority (settleDisagreement);
 * 2. values conflict — among what still stands, preferences that chose different answers for
 *    different values: the highest-priority value wins (settleValues).
 * Pure and deterministic: the same preferences and values give the same weights and resolutions.
 */
export function aggregatePreferences(prefs: PreferenceRecord[], values: ContextValues | null): Aggregation {
  const seen = new Set<string>();
  for (const p of prefs) {
    if (seen.has(p.id)) throw new Error(`preference "${p.id}" is given twice: aggregate each preference once`);
    seen.add(p.id);
  }
  const importance = valueImportance(values);
  const ranked: Ranked = { rank: new Map((values ? valuesByPriority(values) : []).map((v, i) => [v.name, i + 1])) };
  const meanImportance = importance.size === 0 ? 1 : [...importance.values()].reduce((s, x) => s + x, 0) / importance.size;

  const agreement = new Map<string, number>();
  const resolutions: Resolution[] = [];
  const byPrompt = new Map<string, PreferenceRecord[]>();
  for (const p of prefs) {
    const key = `${p.contextId}\n${normaliseText(p.prompt)}`;
    byPrompt.set(key, [...(byPrompt.get(key) ?? []), p]);
  }
  for (const group of byPrompt.values()) {
    const prompt = (group[0] as PreferenceRecord).prompt;
    // 1. The same two answers judged both ways.
    const byPair = new Map<string, { forward: PreferenceRecord[]; backward: PreferenceRecord[] }>();
    for (const p of group) {
      const c = normaliseText(p.chosen);
      const x = normaliseText(p.rejected);
      const forward = c < x;
      const key = forward ? `${c}\n${x}` : `${x}\n${c}`;
      const entry = byPair.get(key) ?? { forward: [], backward: [] };
      (forward ? entry.forward : entry.backward).push(p);
      byPair.set(key, entry);
    }
    for (const { forward, backward } of byPair.values()) {
      if (forward.length > 0 && backward.length > 0) {
        // The side holding the prompt's first preference is named first, so reasons read in input order.
        const [a, b] =
          group.indexOf(forward[0] as PreferenceRecord) < group.indexOf(backward[0] as PreferenceRecord)
            ? [forward, backward]
            : [backward, forward];
        resolutions.push(settleDisagreement(prompt, a, b, ranked, agreement));
      }
    }
    // 2. Different answers chosen for different values, among the preferences still standing.
    const standing = group.filter((p) => (agreement.get(p.id) ?? 1) > 0);
    const conflict = settleValues(prompt, standing, ranked, agreement);
    if (conflict) resolutions.push(conflict);
  }

  const unbalanced = prefs.map((p) => {
    const known = p.values.filter((v) => importance.has(v));
    const priority = known.length === 0 ? meanImportance : Math.max(...known.map((v) => importance.get(v) as number));
    const agreed = agreement.get(p.id) ?? 1;
    const source = SOURCE_WEIGHTS[p.source];
    return { preference: p, weight: priority * agreed * source, components: { priority, agreement: agreed, source } };
  });
  const balance = verdictBalance(unbalanced.map((u) => ({ chosen: u.preference.chosen, weight: u.weight })));
  const pairs = unbalanced.map((u, i): WeightedPair => ({
    preferenceId: u.preference.id,
    weight: u.weight * (balance[i] as number),
    components: { ...u.components, verdict: balance[i] as number },
  }));
  return { pairs, resolutions };
}

/**
 * The verdict-balance factor of each pair: pairs whose chosen answer opens with "yes" (polarityOf)
 * get total / (2 × their total weight), those opening with "no" likewise, so that both verdicts
 * carry half of their combined weight; pairs with neither keep factor 1. All factors are 1 when only
 * one verdict occurs (or none): there is then no prior between the two to move.
 */
export function verdictBalance(pairs: ReadonlyArray<{ chosen: string; weight: number }>): number[] {
  const verdicts = pairs.map((p) => polarityOf(p.chosen));
  const total = { yes: 0, no: 0 };
  pairs.forEach((p, i) => {
    const v = verdicts[i];
    if (v) total[v] += p.weight;
  });
  if (total.yes <= 0 || total.no <= 0) return pairs.map(() => 1);
  const target = (total.yes + total.no) / 2;
  return verdicts.map((v) => (v ? target / total[v] : 1));
}
