import { Example } from './model';
import { deriveSeed, seededRandom } from './prng';
import { normaliseQuestion } from './text';

export interface SplitOptions {
  /** Share of distinct questions held out for evaluation, in [0, 1). */
  heldOutRatio: number;
  seed: number;
}

export interface DatasetSplit {
  train: Example[];
  heldOut: Example[];
}

interface Group {
  key: string;
  stratum: string;
  examples: Example[];
}

const byId = (a: Example, b: Example): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Split examples into train and held-out sets, seeded and independent of input order.
 * Examples with the same normalised question are kept together, so no held-out question appears
 * in training. The split is stratified by the first clause an example cites: each clause
 * contributes its share of held-out questions, and the rounding remainder goes first to clauses
 * that keep at least one training question.
 */
export function splitDataset(examples: readonly Example[], options: SplitOptions): DatasetSplit {
  const { heldOutRatio, seed } = options;
  if (!(heldOutRatio >= 0 && heldOutRatio < 1)) {
    throw new Error(`heldOutRatio must be in [0, 1), got ${heldOutRatio}`);
  }
  const groups = new Map<string, Group>();
  for (const e of [...examples].sort(byId)) {
    const key = normaliseQuestion(e.question);
    const g = groups.get(key);
    if (g) g.examples.push(e);
    else groups.set(key, { key, stratum: e.clauseIds[0] as string, examples: [e] });
  }
  const strata = new Map<string, Group[]>();
  for (const g of [...groups.values()].sort((a, b) => (a.key < b.key ? -1 : 1))) {
    const list = strata.get(g.stratum) ?? [];
    list.push(g);
    strata.set(g.stratum, list);
  }

  const target = Math.round(heldOutRatio * groups.size);
  const rng = seededRandom(deriveSeed(seed, 'split'));
  const plan = [...strata.keys()].sort().map((stratum) => {
    const list = strata.get(stratum) as Group[];
    const quota = heldOutRatio * list.length;
    return { stratum, list: rng.shuffle(list), take: Math.floor(quota), fraction: quota - Math.floor(quota), tie: rng.next() };
  });
  let assigned = plan.reduce((n, p) => n + p.take, 0);
  const remainderOrder = [...plan].sort(
    (a, b) => Number(b.list.length - b.take > 1) - Number(a.list.length - a.take > 1) || b.fraction - a.fraction || a.tie - b.tie,
  );
  for (const p of remainderOrder) {
    if (assigned >= target) break;
    if (p.take < p.list.length) {
      p.take += 1;
      assigned += 1;
    }
  }

  const heldOutKeys = new Set<string>();
  for (const p of plan) for (const g of p.list.slice(0, p.take)) heldOutKeys.add(g.key);
  const train: Example[] = [];
  const heldOut: Example[] = [];
  for (const g of groups.values()) (heldOutKeys.has(g.key) ? heldOut : train).push(...g.examples);
  train.sort(byId);
  heldOut.sort(byId);
  assertNoLeak({ train, heldOut });
  return { train, heldOut };
}

/** Throws when a held-out question (normalised) also appears in training. */
export function assertNoLeak(split: DatasetSplit): void {
  const trainQuestions = new Set(split.train.map((e) => normaliseQuestion(e.question)));
  const leaked = split.heldOut.filter((e) => trainQuestions.has(normaliseQuestion(e.question)));
  if (leaked.length > 0) {
    throw new Error(`${leaked.length} held-out questions also appear in training, e.g. "${leaked[0]?.question}"`);
  }
}
