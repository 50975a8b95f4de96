import type { Concept } from '@studio/contracts';
import { ConceptMatcher, type ExtractedGraph } from '@studio/ontology';
import { encodeSparse, HYBRID_RRF_K, tokenize, type SparseVector, type VectorHit } from '@studio/ports';

/**
 * What a context's ontology adds to hybrid retrieval (see `retrieveClausesTimed`):
 *
 * - Query expansion. The concepts the question names (ConceptMatcher: preferred or alternative
 *   labels) bring their other labels (the preferred label when the question used an abbreviation,
 *   the abbreviations when it used the preferred label, the label's own form when the question
 *   inflected it: the lexical encoding does not stem) and the labels of their narrower concepts
 *   (stored as `broader` from the narrower concept; concepts that are only actions are left out: an
 *   action is not a kind of the object it concerns) into the sparse query. Expansion terms carry
 *   less weight than the question's own terms: `EXPANSION_WEIGHT` each for a synonym's term, and
 *   the narrower concepts of one named concept share that weight among them, so a concept with many
 *   narrower concepts does not flood the query. Terms the question already has are not added again.
 *   The dense query stays the question's embedding: expansion is lexical.
 *
 * - Boosting. Clauses that define or govern a named concept form a third ranking, by how many named
 *   concepts each defines or governs; equal scores share the average of their positions (fractional
 *   ranking), so a concept that one clause defines lifts that clause strongly and a concept that
 *   two hundred clauses govern lifts each of them hardly at all. The third ranking enters the
 *   reciprocal rank fusion with weight `GRAPH_WEIGHT`, among the candidates the dense and sparse
 *   rankings brought (a clause neither ranking found is not pulled in).
 */

/**
 * Weight of one expansion term in the sparse query, next to a question term's `1 + ln(tf)` (1 for a
 * term said once). Half: a synonym found through the graph is evidence of what the question asks,
 * but weaker than a word the asker chose, and the graph's labels may be wrong. Chosen by this
 * reasoning, not tuned on any evaluation questions.
 */
export const EXPANSION_WEIGHT = 0.5;

/**
 * Weight of the graph's ranking in the fusion, next to 1 for each of the dense and sparse
 * rankings: half a ranker. With RRF's k = 60 a clause the graph ranks first gains 0.5 / 61 ≈ 0.008,
 * about what separates rank 1 from rank 30 of one ranking: enough to reorder close candidates, not
 * enough for a clause only the graph likes to pass one that both retrievers put on top (2 / 61).
 * Chosen by this reasoning, not tuned on any evaluation questions.
 */
export const GRAPH_WEIGHT = 0.5;

/** What the ontology did to one retrieval, for a reader to check. */
export interface OntologyUse {
  /** Concepts the question names, in order of appearance. */
  conceptIds: string[];
  /** Terms added to the sparse query (lower-cased tokens), with their weight. */
  expansion: Array<{ term: string; weight: number }>;
  /** Clauses that define or govern a named concept, by graph rank (best first). */
  boostedClauseIds: string[];
}

/** The ontology's plan for one question: the named concepts, the expanded sparse query and the graph ranking. */
export interface OntologyQuery {
  use: OntologyUse;
  sparse: SparseVector;
  /** Clause id → fractional rank (1 = best) among clauses that define or govern a named concept. */
  graphRanks: Map<string, number>;
}

interface GraphIndex {
  matcher: ConceptMatcher;
  concepts: Map<string, Concept>;
  /** Broader concept id → its narrower concepts' ids. */
  narrower: Map<string, string[]>;
  /** Concept id → clause ids that define or govern it. */
  clausesOf: Map<string, Set<string>>;
}

const indexes = new WeakMap<ExtractedGraph, GraphIndex>();

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** The matcher and adjacency of a graph, built once per graph object. */
function indexOf(graph: ExtractedGraph): GraphIndex {
  const cached = indexes.get(graph);
  if (cached) return cached;
  const concepts = new Map(graph.concepts.map((c) => [c.id, c]));
  const narrower = new Map<string, string[]>();
  const clausesOf = new Map<string, Set<string>>();
  for (const relation of graph.relations) {
    if (relation.type === 'broader' && concepts.has(relation.from)) push(narrower, relation.to, relation.from);
    if (relation.type === 'defines' || relation.type === 'governs') {
      const clauses = clausesOf.get(relation.to) ?? new Set<string>();
      clauses.add(relation.from);
      clausesOf.set(relation.to, clauses);
    }
  }
  const index: GraphIndex = { matcher: new ConceptMatcher(graph.concepts), concepts, narrower, clausesOf };
  indexes.set(graph, index);
  return index;
}

/**
 * Whether a narrower concept is a kind of thing (a term, an actor or an object) and so a narrower
 * term of the named one: an action ("accept gift") may sit under the object it concerns ("gift") in
 * the graph, but it is not a kind of that object and its verb is no synonym.
 */
function isKind(concept: Concept): boolean {
  return concept.roles.some((role) => role !== 'action');
}

function labelsOf(concept: Concept): string[] {
  return [concept.prefLabel, ...concept.altLabels];
}

/**
 * The sparse vector of `question` with `expansion` terms added: the question's terms weigh
 * `1 + ln(tf)` as in `encodeSparse`; an expansion term the question lacks weighs what it was given.
 */
export function expandedSparse(question: string, expansion: ReadonlyArray<{ term: string; weight: number }>): SparseVector {
  const base = encodeSparse(question);
  const weights = new Map(base.indices.map((index, i) => [index, base.values[i] ?? 0]));
  for (const { term, weight } of expansion) {
    const extra = encodeSparse(term);
    for (const index of extra.indices) if (!weights.has(index)) weights.set(index, weight);
  }
  const indices = [...weights.keys()].sort((a, b) => a - b);
  return { indices, values: indices.map((i) => weights.get(i) ?? 0) };
}

/**
 * Fractional ranks (1-based) of `scores`, highest first: items with equal scores share the mean of
 * the positions they occupy.
 */
export function fractionalRanks(scores: ReadonlyMap<string, number>): Map<string, number> {
  const ordered = [...scores].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const ranks = new Map<string, number>();
  for (let start = 0; start < ordered.length;) {
    let end = start;
    while (end + 1 < ordered.length && ordered[end + 1]?.[1] === ordered[start]?.[1]) end++;
    const rank = (start + 1 + end + 1) / 2;
    for (let i = start; i <= end; i++) ranks.set(ordered[i]?.[0] as string, rank);
    start = end + 1;
  }
  return ranks;
}

/**
 * What the ontology makes of a question: the concepts it names, the expansion terms and the graph
 * ranking of the clauses that define or govern them. Null when the question names no concept (the
 * retrieval is then the plain hybrid one).
 */
export function ontologyQuery(graph: ExtractedGraph, question: string): OntologyQuery | null {
  const index = indexOf(graph);
  const named: string[] = [];
  for (const match of index.matcher.find(question)) if (!named.includes(match.conceptId)) named.push(match.conceptId);
  if (named.length === 0) return null;

  const questionTerms = new Set(tokenize(question));
  const expansion = new Map<string, number>();
  const add = (labels: readonly string[], weight: number): void => {
    for (const label of labels) {
      for (const term of tokenize(label)) {
        if (!questionTerms.has(term)) expansion.set(term, Math.max(expansion.get(term) ?? 0, weight));
      }
    }
  };
  const graphScores = new Map<string, number>();
  for (const id of named) {
    const concept = index.concepts.get(id);
    if (concept) add(labelsOf(concept), EXPANSION_WEIGHT);
    const narrower = (index.narrower.get(id) ?? []).flatMap((n) => {
      const c = index.concepts.get(n);
      return c && isKind(c) ? [c] : [];
    });
    for (const n of narrower) add(labelsOf(n), EXPANSION_WEIGHT / narrower.length);
    for (const clauseId of index.clausesOf.get(id) ?? []) graphScores.set(clauseId, (graphScores.get(clauseId) ?? 0) + 1);
  }
  const graphRanks = fractionalRanks(graphScores);
  const terms = [...expansion]
    .map(([term, weight]) => ({ term, weight }))
    .sort((a, b) => b.weight - a.weight || a.term.localeCompare(b.term));
  return {
    use: {
      conceptIds: named,
      expansion: terms,
      boostedClauseIds: [...graphRanks].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0])).map(([id]) => id),
    },
    sparse: expandedSparse(question, terms),
    graphRanks,
  };
}

/**
 * Reciprocal rank fusion of the dense and sparse rankings (1 / (k + rank) each, ranks from 1, as
 * `reciprocalRankFusion`) plus `weight / (k + graph rank)` for candidates the graph ranks; the top
 * `limit`, equal scores ordered by id.
 */
export function fuseWithGraph(
  rankings: ReadonlyArray<readonly VectorHit[]>,
  graphRanks: ReadonlyMap<string, number>,
  limit: number,
  weight = GRAPH_WEIGHT,
  k = HYBRID_RRF_K,
): VectorHit[] {
  const fused = new Map<string, VectorHit>();
  for (const ranking of rankings) {
    ranking.forEach((hit, rank) => {
      const score = (fused.get(hit.id)?.score ?? 0) + 1 / (k + rank + 1);
      fused.set(hit.id, { ...hit, score });
    });
  }
  for (const hit of fused.values()) {
    const clauseId = String(hit.payload['clauseId'] ?? hit.id);
    const rank = graphRanks.get(clauseId);
    if (rank !== undefined) hit.score += weight / (k + rank);
  }
  return [...fused.values()].sort((a, b) => b.score - a.score || a.id.localeCompare(b.id)).slice(0, limit);
}
