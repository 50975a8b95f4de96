import type { ClauseCoverageReport, LeakMatch, LeakageReport, NearDuplicateReport } from './schema';
import { tokenise } from './text';

/**
 * Cheap audits of the data itself: clause coverage, near-duplicate questions, train/held-out leakage.
 * Question similarity is the Jaccard index of normalised token sets with English stop words removed:
 * J(a, b) = |A ∩ B| / |A ∪ B|. Questions with no content tokens are never reported as similar.
 * Pairs at or above the threshold are found with prefix filtering (tokens ordered rarest first; two sets with
 * J ≥ t must share a token among their first |X| − ⌈t·|X|⌉ + 1), so the cost stays near-linear for real data.
 */

export interface CitingExample {
  clauseIds: readonly string[];
}

/** Share of the clauses cited by at least one example, and which are not. */
export function clauseCoverage(clauseIds: readonly string[], examples: readonly CitingExample[]): ClauseCoverageReport {
  const unique = [...new Set(clauseIds)];
  const counts = new Map<string, number>(unique.map((id) => [id, 0]));
  const unknown = new Set<string>();
  for (const example of examples) {
    for (const id of new Set(example.clauseIds)) {
      const count = counts.get(id);
      if (count === undefined) unknown.add(id);
      else counts.set(id, count + 1);
    }
  }
  const citations = unique.map((clauseId) => ({ clauseId, examples: counts.get(clauseId) ?? 0 }));
  const uncovered = citations.filter((c) => c.examples === 0).map((c) => c.clauseId);
  const covered = unique.length - uncovered.length;
  return {
    clauses: unique.length,
    covered,
    coverage: unique.length === 0 ? 0 : covered / unique.length,
    uncovered,
    unknownCited: [...unknown].sort(),
    citations,
  };
}

export interface Question {
  id: string;
  question: string;
}

export function questionTokens(text: string): Set<string> {
  return new Set(tokenise(text, { stopWords: 'english' }));
}

export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 0;
  let overlap = 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const t of small) if (large.has(t)) overlap += 1;
  return overlap / (a.size + b.size - overlap);
}

interface Entry {
  id: string;
  normalised: string;
  set: Set<string>;
  ordered: string[];
}

function checkThreshold(threshold: number): void {
  if (!(threshold > 0 && threshold <= 1)) throw new Error(`similarity threshold must be within (0, 1], got ${threshold}`);
}

function prefixLength(size: number, threshold: number): number {
  return size - Math.ceil(threshold * size - 1e-9) + 1;
}

function entriesOf(questions: readonly Question[], frequency: Map<string, number>): Entry[] {
  return questions.map((q) => {
    const set = questionTokens(q.question);
    const ordered = [...set].sort((x, y) => (frequency.get(x) ?? 0) - (frequency.get(y) ?? 0) || (x < y ? -1 : x > y ? 1 : 0));
    return { id: q.id, normalised: tokenise(q.question).join(' '), set, ordered };
  });
}

function documentFrequency(groups: readonly (readonly Question[])[]): Map<string, number> {
  const frequency = new Map<string, number>();
  for (const group of groups) {
    for (const q of group) for (const t of questionTokens(q.question)) frequency.set(t, (frequency.get(t) ?? 0) + 1);
  }
  return frequency;
}

/** Candidate pairs (probe index, indexed index) sharing a prefix token and passing the size filter, verified. */
function similarPairs(
  indexed: readonly Entry[],
  probes: readonly Entry[],
  threshold: number,
  selfJoin: boolean,
): { probe: number; match: number; similarity: number }[] {
  const index = new Map<string, number[]>();
  indexed.forEach((entry, i) => {
    for (const token of entry.ordered.slice(0, prefixLength(entry.ordered.length, threshold))) {
      const list = index.get(token) ?? [];
      list.push(i);
      index.set(token, list);
    }
  });
  const pairs: { probe: number; match: number; similarity: number }[] = [];
  probes.forEach((entry, p) => {
    const size = entry.set.size;
    if (size === 0) return;
    const seen = new Set<number>();
    for (const token of entry.ordered.slice(0, prefixLength(size, threshold))) {
      for (const i of index.get(token) ?? []) {
        if (seen.has(i) || (selfJoin && i >= p)) continue;
        seen.add(i);
        const other = (indexed[i] as Entry).set.size;
        if (other < threshold * size - 1e-9 || size < threshold * other - 1e-9) continue;
        const similarity = jaccard(entry.set, (indexed[i] as Entry).set);
        if (similarity >= threshold - 1e-9) pairs.push({ probe: p, match: i, similarity });
      }
    }
  });
  return pairs;
}

/** Near-duplicate questions: pairs whose token-set Jaccard similarity is at least the threshold (default 0.9). */
export function nearDuplicates(questions: readonly Question[], threshold = 0.9): NearDuplicateReport {
  checkThreshold(threshold);
  const entries = entriesOf(questions, documentFrequency([questions]));
  const raw = similarPairs(entries, entries, threshold, true);
  const pairs = raw
    .map(({ probe, match, similarity }) => ({ first: Math.min(probe, match), second: Math.max(probe, match), similarity }))
    .sort((x, y) => y.similarity - x.similarity || x.first - y.first || x.second - y.second);

  const parent = entries.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i] as number] as number;
      i = parent[i] as number;
    }
    return i;
  };
  for (const { first, second } of pairs) {
    const [ra, rb] = [find(first), find(second)];
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
  const members = new Map<number, number[]>();
  for (const { first, second } of pairs) {
    for (const i of [first, second]) {
      const root = find(i);
      const list = members.get(root) ?? [];
      if (!list.includes(i)) list.push(i);
      members.set(root, list);
    }
  }
  const groups = [...members.entries()]
    .sort(([x], [y]) => x - y)
    .map(([, list]) => list.sort((x, y) => x - y).map((i) => (entries[i] as Entry).id));

  return {
    threshold,
    pairs: pairs.map(({ first, second, similarity }) => ({
      a: (entries[first] as Entry).id,
      b: (entries[second] as Entry).id,
      similarity,
    })),
    groups,
  };
}

/**
 * Train/held-out leakage: held-out questions that also appear in train, i.e. whose token-set Jaccard
 * similarity to a train question is at least the threshold (default 0.9; 1 keeps only identical token sets).
 */
export function detectLeakage(train: readonly Question[], heldOut: readonly Question[], threshold = 0.9): LeakageReport {
  checkThreshold(threshold);
  const frequency = documentFrequency([train, heldOut]);
  const trainEntries = entriesOf(train, frequency);
  const heldOutEntries = entriesOf(heldOut, frequency);
  const matches = similarPairs(trainEntries, heldOutEntries, threshold, false)
    .sort((x, y) => x.probe - y.probe || y.similarity - x.similarity || x.match - y.match)
    .map(({ probe, match, similarity }): LeakMatch => {
      const h = heldOutEntries[probe] as Entry;
      const t = trainEntries[match] as Entry;
      return { heldOutId: h.id, trainId: t.id, similarity, exact: h.normalised === t.normalised };
    });
  const leaked = [...new Set(matches.map((m) => m.heldOutId))];
  return {
    threshold,
    heldOut: heldOut.length,
    leakedHeldOutIds: leaked,
    leakageRate: heldOut.length === 0 ? 0 : leaked.length / heldOut.length,
    matches,
  };
}
