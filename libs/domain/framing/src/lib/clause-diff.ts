import { normaliseClauseText } from './text';

/** What the diff needs of a clause: where the document puts it and what it says. */
export interface DiffableClause {
  numbering: string;
  text: string;
}

/**
 * How a clause of the new version relates to the old one:
 * - `unchanged`: same numbering, same text;
 * - `moved`: same text under another numbering (a renumbering alone is not a change of content);
 * - `changed`: the text differs (matched by numbering, or by content when it was renumbered too);
 * - `added` / `removed`: no counterpart in the other version.
 * Texts are compared in the form clause ids hash (`normaliseClauseText`): re-wrapping or emphasis is no change.
 */
export type ClauseChangeType = 'unchanged' | 'moved' | 'changed' | 'added' | 'removed';

export type ClauseDiffEntry<C extends DiffableClause> =
  | { type: 'unchanged'; from: C; to: C }
  | { type: 'moved'; from: C; to: C }
  | {
      type: 'changed';
      from: C;
      to: C;
      /** Word overlap of the two texts (Dice coefficient over word multisets), 0..1. */
      similarity: number;
      /** How the pair was found: the same numbering, or content similarity for a clause renumbered and edited. */
      matchedBy: 'numbering' | 'content';
    }
  | { type: 'added'; to: C }
  | { type: 'removed'; from: C };

export interface ClauseDiff<C extends DiffableClause> {
  /** Every clause of both versions once, in the new version's order; a removed clause stands where it stood among its old neighbours. */
  entries: ClauseDiffEntry<C>[];
  summary: Record<ClauseChangeType, number>;
}

export interface ClauseDiffOptions {
  /**
   * Least word overlap for two clauses with different numbering to be taken as one clause renumbered
   * and edited (default 0.6); below it they are a removal and an addition.
   */
  minContentSimilarity?: number;
  /**
   * Least word overlap for two clauses with the same numbering to be paired before the content pass
   * (default 0.5). A lower pair is paired only if neither finds a better partner by content: so a
   * clause inserted before (b) does not turn every later clause into a "change".
   */
  minNumberingSimilarity?: number;
  /** Bound on clause pairs compared by content (default 250,000); beyond it only pairs close in position are compared. */
  maxComparisons?: number;
}

function words(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const w of normaliseClauseText(text)
    .toLowerCase()
    .split(/[^\p{L}\p{N}§$%]+/u)
    .filter((t) => t !== '')) {
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  return counts;
}

function sizeOf(bag: Map<string, number>): number {
  let n = 0;
  for (const c of bag.values()) n += c;
  return n;
}

/** Dice coefficient of two word multisets: 2·|A∩B| / (|A|+|B|); 1 for two empty texts. */
export function wordSimilarity(a: string, b: string): number {
  return dice(words(a), words(b));
}

function dice(a: Map<string, number>, b: Map<string, number>): number {
  const total = sizeOf(a) + sizeOf(b);
  if (total === 0) return 1;
  let shared = 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const [w, n] of small) shared += Math.min(n, large.get(w) ?? 0);
  return (2 * shared) / total;
}

/**
 * The clause-level difference between two versions of a document. Clauses are matched in passes,
 * each over what the earlier ones left unmatched:
 * 1. same numbering and same text → unchanged;
 * 2. same text, other numbering → moved (duplicates pair in document order);
 * 3. same numbering, texts overlapping at least `minNumberingSimilarity` → changed;
 * 4. content similarity at least `minContentSimilarity`, best pairs first → changed (renumbered and edited);
 * 5. same numbering, whatever the overlap → changed (the document still calls it the same clause);
 * 6. the rest → removed (old) and added (new).
 * Pure and deterministic: the same two versions give the same diff.
 */
export function diffClauses<C extends DiffableClause>(
  before: readonly C[],
  after: readonly C[],
  options: ClauseDiffOptions = {},
): ClauseDiff<C> {
  const minContent = options.minContentSimilarity ?? 0.6;
  const minNumbering = options.minNumberingSimilarity ?? 0.5;
  const maxComparisons = options.maxComparisons ?? 250_000;
  for (const [name, value] of [
    ['minContentSimilarity', minContent],
    ['minNumberingSimilarity', minNumbering],
  ] as const) {
    if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be in [0, 1], got ${value}`);
  }

  const oldText = before.map((c) => normaliseClauseText(c.text));
  const newText = after.map((c) => normaliseClauseText(c.text));
  /** old index → entry (for matched or removed old clauses). */
  const matchOfOld = new Array<number | null>(before.length).fill(null);
  const matchOfNew = new Array<number | null>(after.length).fill(null);
  const entryOfNew = new Array<ClauseDiffEntry<C> | null>(after.length).fill(null);
  const pair = (o: number, n: number, entry: ClauseDiffEntry<C>): void => {
    matchOfOld[o] = n;
    matchOfNew[n] = o;
    entryOfNew[n] = entry;
  };

  const oldByNumbering = new Map<string, number>();
  before.forEach((c, i) => {
    if (!oldByNumbering.has(c.numbering)) oldByNumbering.set(c.numbering, i);
  });

  // 1. same numbering, same text
  after.forEach((c, n) => {
    const o = oldByNumbering.get(c.numbering);
    if (o !== undefined && matchOfOld[o] === null && oldText[o] === newText[n])
      pair(o, n, { type: 'unchanged', from: before[o] as C, to: c });
  });

  // 2. same text, another numbering: moved
  const oldByText = new Map<string, number[]>();
  before.forEach((_, o) => {
    if (matchOfOld[o] !== null) return;
    const list = oldByText.get(oldText[o] as string) ?? [];
    list.push(o);
    oldByText.set(oldText[o] as string, list);
  });
  after.forEach((c, n) => {
    if (matchOfNew[n] !== null) return;
    const o = oldByText.get(newText[n] as string)?.shift();
    if (o !== undefined) pair(o, n, { type: 'moved', from: before[o] as C, to: c });
  });

  const bags = { old: new Map<number, Map<string, number>>(), new: new Map<number, Map<string, number>>() };
  const bagOld = (o: number) => bags.old.get(o) ?? (bags.old.set(o, words(before[o]?.text ?? '')).get(o) as Map<string, number>);
  const bagNew = (n: number) => bags.new.get(n) ?? (bags.new.set(n, words(after[n]?.text ?? '')).get(n) as Map<string, number>);
  const changed = (o: number, n: number, similarity: number, matchedBy: 'numbering' | 'content'): void =>
    pair(o, n, { type: 'changed', from: before[o] as C, to: after[n] as C, similarity, matchedBy });

  // 3. same numbering, texts close enough
  const weakNumberingPairs: Array<[number, number, number]> = [];
  after.forEach((c, n) => {
    if (matchOfNew[n] !== null) return;
    const o = oldByNumbering.get(c.numbering);
    if (o === undefined || matchOfOld[o] !== null) return;
    const similarity = dice(bagOld(o), bagNew(n));
    if (similarity >= minNumbering) changed(o, n, similarity, 'numbering');
    else weakNumberingPairs.push([o, n, similarity]);
  });

  // 4. content similarity across numberings, best pairs first
  const oldLeft = before.map((_, o) => o).filter((o) => matchOfOld[o] === null);
  const newLeft = after.map((_, n) => n).filter((n) => matchOfNew[n] === null);
  if (oldLeft.length > 0 && newLeft.length > 0) {
    const window =
      oldLeft.length * newLeft.length <= maxComparisons ? Infinity : Math.max(1, Math.floor(maxComparisons / (2 * newLeft.length)));
    const candidates: Array<[number, number, number]> = [];
    newLeft.forEach((n, j) => {
      // Position among the unmatched, scaled to the old list, centres the window.
      const centre = newLeft.length > 1 ? Math.round((j * (oldLeft.length - 1)) / (newLeft.length - 1)) : 0;
      const lo = window === Infinity ? 0 : Math.max(0, centre - window);
      const hi = window === Infinity ? oldLeft.length - 1 : Math.min(oldLeft.length - 1, centre + window);
      for (let i = lo; i <= hi; i++) {
        const o = oldLeft[i] as number;
        const similarity = dice(bagOld(o), bagNew(n));
        if (similarity >= minContent) candidates.push([o, n, similarity]);
      }
    });
    candidates.sort((a, b) => b[2] - a[2] || a[1] - b[1] || a[0] - b[0]);
    for (const [o, n, similarity] of candidates) {
      if (matchOfOld[o] === null && matchOfNew[n] === null) {
        const sameNumber = before[o]?.numbering === after[n]?.numbering;
        changed(o, n, similarity, sameNumber ? 'numbering' : 'content');
      }
    }
  }

  // 5. same numbering, left over: the document still calls it the same clause
  for (const [o, n, similarity] of weakNumberingPairs) {
    if (matchOfOld[o] === null && matchOfNew[n] === null) changed(o, n, similarity, 'numbering');
  }

  // 6. added and removed, in document order
  const ordered: Array<{ key: number; tie: number; entry: ClauseDiffEntry<C> }> = [];
  after.forEach((c, n) => {
    ordered.push({ key: n, tie: 0, entry: entryOfNew[n] ?? { type: 'added', to: c } });
  });
  let anchor = after.length; // a removed clause goes before the new place of the next old clause that was kept
  for (let o = before.length - 1; o >= 0; o--) {
    const n = matchOfOld[o];
    if (n !== null && n !== undefined) {
      anchor = n;
      continue;
    }
    ordered.push({ key: anchor - 0.5, tie: o, entry: { type: 'removed', from: before[o] as C } });
  }
  ordered.sort((a, b) => a.key - b.key || a.tie - b.tie);
  const entries = ordered.map((x) => x.entry);
  const summary: Record<ClauseChangeType, number> = { unchanged: 0, moved: 0, changed: 0, added: 0, removed: 0 };
  for (const e of entries) summary[e.type] += 1;
  return { entries, summary };
}

/** "2 added, 1 changed, 3 moved, 0 removed, 40 unchanged" */
export function describeClauseDiff(summary: Record<ClauseChangeType, number>): string {
  return (['added', 'changed', 'moved', 'removed', 'unchanged'] as const).map((t) => `${summary[t]} ${t}`).join(', ');
}
