import type { Concept, Relation } from '@studio/contracts';
import type { Example, NormativeKind } from '@studio/framing';
import type { ExtractedGraph } from './model';
import { ConceptMatcher } from './matcher';

/**
 * How much of a context's ontology a dataset exercises.
 *
 * An example EXERCISES a concept when either
 * - the concept is named in its question or its answer (the ConceptMatcher: preferred or alternative
 *   label, singular, whole words; a concept named inside a longer one counts too: "inspect vehicles"
 *   names the action and "vehicle"), or
 * - it cites a clause that defines or governs the concept: its answer restates that rule, whatever
 *   words it uses for the concept ("accept a speaking fee" for the action "accept speaking fee").
 * A governed PAIR (concept, statement kind) needs the clause link and the kind: the example cites a
 * clause that governs the concept with that kind, and its own statement kind is that kind (an example
 * of unknown kind — a seed, a call-out — counts for every kind its cited clauses govern the concept with).
 */
export interface ConceptCoverage {
  concepts: { covered: number; total: number; share: number };
  /** Governed (concept, statementKind) pairs. */
  pairs: { covered: number; total: number; share: number };
  uncoveredConcepts: string[];
  uncoveredPairs: Array<{ conceptId: string; statementKind: NormativeKind }>;
  /** Concept id → ids of the examples that exercise it (every concept present, [] when none). */
  examplesByConcept: Record<string, string[]>;
}

/** One clause's concepts (those it defines or governs) and how many of them the data exercises. */
export interface ClauseConceptCoverage {
  clauseId: string;
  concepts: number;
  covered: number;
  /** covered / concepts; null for a clause that defines or governs no concept. */
  share: number | null;
  uncovered: string[];
}

/** What coverage reads of an example. */
export type CoverageExample = Pick<Example, 'id' | 'question' | 'answer' | 'clauseIds' | 'statementKind'>;

const pairKey = (conceptId: string, kind: NormativeKind): string => `${conceptId}\n${kind}`;

function share(covered: number, total: number): number {
  return total === 0 ? 0 : covered / total;
}

function byId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Coverage kept up to date as examples are added: what `datasetCoverage` computes once, and what
 * generation steers by (`GenerationSteering` of @studio/framing: add, met, gain; and `chooseClauses`
 * for the teacher's clause budget). The target is a share of the concepts; without one (null) it is
 * never met and the steering is only a measure.
 */
export class CoverageTracker {
  private readonly matcher: ConceptMatcher;
  private readonly concepts: readonly Concept[];
  /** clause id → concepts it defines or governs, or that its statements mention (Concept.clauseIds). */
  private readonly clauseConcepts = new Map<string, Set<string>>();
  /** clause id → the pairs it governs. */
  private readonly clausePairs = new Map<string, Array<{ conceptId: string; kind: NormativeKind }>>();
  /** clause id → concepts it defines or governs (the per-clause report's denominator). */
  private readonly linked = new Map<string, Set<string>>();
  private readonly pairs = new Map<string, { conceptId: string; statementKind: NormativeKind }>();
  private readonly examplesOf = new Map<string, string[]>();
  private readonly coveredPairs = new Set<string>();

  constructor(
    graph: ExtractedGraph,
    readonly target: number | null = null,
  ) {
    if (target !== null && !(target >= 0 && target <= 1))
      throw new Error(`a concept coverage target is a share within [0, 1], got ${target}`);
    this.concepts = graph.concepts;
    this.matcher = new ConceptMatcher(graph.concepts);
    const known = new Set(graph.concepts.map((c) => c.id));
    for (const c of graph.concepts) {
      this.examplesOf.set(c.id, []);
      for (const clauseId of c.clauseIds) this.link(this.clauseConcepts, clauseId, c.id);
    }
    for (const r of graph.relations) this.addRelation(r, known);
  }

  private link(map: Map<string, Set<string>>, clauseId: string, conceptId: string): void {
    const set = map.get(clauseId) ?? new Set<string>();
    set.add(conceptId);
    map.set(clauseId, set);
  }

  private addRelation(r: Relation, known: ReadonlySet<string>): void {
    if ((r.type !== 'defines' && r.type !== 'governs') || !known.has(r.to)) return;
    this.link(this.clauseConcepts, r.from, r.to);
    this.link(this.linked, r.from, r.to);
    if (r.type !== 'governs' || r.statementKind === null) return;
    const key = pairKey(r.to, r.statementKind);
    if (!this.pairs.has(key)) this.pairs.set(key, { conceptId: r.to, statementKind: r.statementKind });
    const list = this.clausePairs.get(r.from) ?? [];
    if (!list.some((p) => p.conceptId === r.to && p.kind === r.statementKind)) list.push({ conceptId: r.to, kind: r.statementKind });
    this.clausePairs.set(r.from, list);
  }

  /** The concepts a text names, those named inside a longer label's match included. */
  private named(text: string, into = new Set<string>()): Set<string> {
    for (const m of this.matcher.find(text)) {
      into.add(m.conceptId);
      const span = text.slice(m.start, m.end);
      const first = span.search(/\s/);
      if (first < 0) continue;
      // The span without its first word, and without its last: the shorter labels inside it.
      this.named(span.slice(first + 1), into);
      this.named(span.slice(0, span.search(/\s\S*$/)), into);
    }
    return into;
  }

  /** Notes what these examples exercise. */
  add(examples: readonly CoverageExample[]): void {
    for (const e of examples) {
      const exercised = this.named(`${e.question}\n${e.answer}`);
      for (const clauseId of e.clauseIds) {
        for (const conceptId of this.linked.get(clauseId) ?? []) exercised.add(conceptId);
        for (const p of this.clausePairs.get(clauseId) ?? []) {
          if (e.statementKind !== null && e.statementKind !== p.kind) continue;
          this.coveredPairs.add(pairKey(p.conceptId, p.kind));
        }
      }
      for (const conceptId of exercised) this.examplesOf.get(conceptId)?.push(e.id);
    }
  }

  private isCovered(conceptId: string): boolean {
    return (this.examplesOf.get(conceptId)?.length ?? 0) > 0;
  }

  /** Share of the concepts exercised so far. */
  conceptShare(): number {
    return share(this.concepts.filter((c) => this.isCovered(c.id)).length, this.concepts.length);
  }

  /** True once the target is met (never without a target, or on a graph without concepts). */
  met(): boolean {
    if (this.target === null || this.concepts.length === 0) return false;
    return this.conceptShare() >= this.target;
  }

  /**
   * What an example on this clause could newly cover: its concepts not exercised yet, plus the pairs it
   * governs with this kind (any kind when none is given) not exercised yet.
   */
  gain(statement: { clauseId: string; kind?: NormativeKind | null }): number {
    let gain = 0;
    for (const conceptId of this.clauseConcepts.get(statement.clauseId) ?? []) if (!this.isCovered(conceptId)) gain += 1;
    for (const p of this.clausePairs.get(statement.clauseId) ?? []) {
      if (statement.kind && p.kind !== statement.kind) continue;
      if (!this.coveredPairs.has(pairKey(p.conceptId, p.kind))) gain += 1;
    }
    return gain;
  }

  /**
   * At most `budget` of these clauses (kept in their order), for a generator that can afford only so
   * many: while the target is not met, greedily the clause whose not yet covered concepts would bring
   * it closest (counting what the clauses already chosen would cover), then the rest in order. Without
   * a target, or once it is met, simply the first `budget`.
   */
  chooseClauses<C extends { id: string }>(clauses: readonly C[], budget: number): C[] {
    if (budget >= clauses.length) return [...clauses];
    if (this.target === null || this.met()) return clauses.slice(0, budget);
    const covered = new Set(this.concepts.filter((c) => this.isCovered(c.id)).map((c) => c.id));
    const needed = Math.ceil(this.target * this.concepts.length - 1e-9);
    const chosen = new Set<number>();
    while (chosen.size < budget && covered.size < needed) {
      let best = -1;
      let bestGain = 0;
      clauses.forEach((c, index) => {
        if (chosen.has(index)) return;
        let gain = 0;
        for (const conceptId of this.clauseConcepts.get(c.id) ?? []) if (!covered.has(conceptId)) gain += 1;
        if (gain > bestGain) {
          best = index;
          bestGain = gain;
        }
      });
      if (best < 0) break;
      chosen.add(best);
      for (const conceptId of this.clauseConcepts.get((clauses[best] as C).id) ?? []) covered.add(conceptId);
    }
    for (let index = 0; index < clauses.length && chosen.size < budget; index += 1) chosen.add(index);
    return clauses.filter((_, index) => chosen.has(index));
  }

  /** The coverage of the examples noted so far. */
  coverage(): ConceptCoverage {
    const ids = this.concepts.map((c) => c.id).sort(byId);
    const uncoveredConcepts = ids.filter((id) => !this.isCovered(id));
    const allPairs = [...this.pairs.entries()].sort(([a], [b]) => byId(a, b));
    const uncoveredPairs = allPairs.filter(([key]) => !this.coveredPairs.has(key)).map(([, p]) => ({ ...p }));
    const examplesByConcept: Record<string, string[]> = {};
    for (const id of ids) examplesByConcept[id] = [...new Set(this.examplesOf.get(id) ?? [])];
    const conceptsCovered = ids.length - uncoveredConcepts.length;
    const pairsCovered = allPairs.length - uncoveredPairs.length;
    return {
      concepts: { covered: conceptsCovered, total: ids.length, share: share(conceptsCovered, ids.length) },
      pairs: { covered: pairsCovered, total: allPairs.length, share: share(pairsCovered, allPairs.length) },
      uncoveredConcepts,
      uncoveredPairs,
      examplesByConcept,
    };
  }

  /** Per clause that defines or governs a concept: how many of those concepts the data exercises (clauses in the order given). */
  byClause(clauseIds: readonly string[]): ClauseConceptCoverage[] {
    return clauseIds.map((clauseId) => {
      const concepts = [...(this.linked.get(clauseId) ?? [])].sort(byId);
      const uncovered = concepts.filter((id) => !this.isCovered(id));
      const covered = concepts.length - uncovered.length;
      return { clauseId, concepts: concepts.length, covered, share: concepts.length === 0 ? null : covered / concepts.length, uncovered };
    });
  }
}

/**
 * The share of a graph's concepts, and of its governed (concept, statement kind) pairs, that at least
 * one example exercises (see ConceptCoverage for what exercises one), what is left uncovered, and the
 * examples per concept. Deterministic: ids sorted; examples per concept in the order given.
 */
export function datasetCoverage(graph: ExtractedGraph, examples: readonly CoverageExample[]): ConceptCoverage {
  const tracker = new CoverageTracker(graph);
  tracker.add(examples);
  return tracker.coverage();
}
