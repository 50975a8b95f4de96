import type { Concept, ConceptRole, ConflictStatus, Relation, RelationType } from '@studio/contracts';

/**
 * The concepts view's logic that runs without a browser: what the ontology routes answer (the
 * shared contracts' Concept and Relation, wrapped as the ontology service serves them), the
 * governing clauses grouped by statement kind, the layout of a concept's neighbourhood graph (drawn
 * as SVG by components/ConceptGraph), moving through its nodes by keyboard, and a curator's
 * decision on a conflict candidate.
 */

/** A statement's kind (obligation, prohibition, permission, exception, definition), as relations carry it. */
export type NormativeKind = NonNullable<Relation['statementKind']>;

export const CONCEPT_ROLES: readonly ConceptRole[] = ['term', 'actor', 'action', 'object'];
/** The order governing clauses are shown in: what the clause makes of the concept. */
export const GOVERNING_KINDS: readonly NormativeKind[] = ['obligation', 'prohibition', 'permission', 'exception', 'definition'];

/** GET …/ontology: the latest version's counts (404 while the context has none). */
export interface OntologySummary {
  version: number;
  createdAt: string;
  documents: { documentId: string; sha256: string; version: number }[];
  conceptCount: number;
  relationCount: number;
  conceptsByRole: Partial<Record<ConceptRole, number>>;
  relationsByType: Partial<Record<RelationType, number>>;
}

/** GET …/ontology/concepts: a page of the concepts matching the search. */
export interface ConceptPage {
  total: number;
  concepts: Concept[];
}

/** A clause as the ontology routes name it. */
export interface ClauseRef {
  clauseId: string;
  numbering: string;
  text: string;
}

export interface GoverningClause {
  clauseId: string;
  numbering: string;
  citation?: string;
  /** The kind of the governing statement (null only where the graph did not record one). */
  statementKind: NormativeKind | null;
}

/** GET …/ontology/concepts/{id}: a concept with its clauses and its SKOS neighbours. */
export interface ConceptDetail {
  concept: Concept;
  definedBy: ClauseRef[];
  governedBy: GoverningClause[];
  broader: Concept[];
  narrower: Concept[];
  related: Concept[];
}

export interface GraphNode {
  id: string;
  kind: 'concept' | 'clause';
  label: string;
}

export interface GraphEdge {
  id: string;
  type: RelationType;
  from: string;
  to: string;
  statementKind: NormativeKind | null;
}

/** GET …/ontology/concepts/{id}/neighbourhood?depth=1|2 */
export interface Neighbourhood {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** One conflict candidate (or decided conflict) with both clauses. */
export type Conflict = Relation & { left: ClauseRef; right: ClauseRef };

export type ConflictDecision = 'confirm' | 'dismiss';

/** The body of POST …/ontology/conflicts/{relationId}: the decision, and the reason when one is written. */
export function conflictDecisionBody(decision: ConflictDecision, reason: string): { decision: ConflictDecision; reason?: string } {
  const said = reason.trim();
  return said ? { decision, reason: said } : { decision };
}

/** The status a decision gives a conflict. */
export function decidedStatus(decision: ConflictDecision): ConflictStatus {
  return decision === 'confirm' ? 'confirmed' : 'dismissed';
}

/**
 * A dataset version's coverage of the concepts (GET …/datasets/{v}/coverage): shares of concepts and
 * of governed (concept, kind) pairs exercised by an example, and which examples exercise each concept.
 */
export interface DatasetCoverage {
  concepts: { covered: number; total: number; share: number };
  pairs: { covered: number; total: number; share: number };
  uncoveredConcepts: string[];
  uncoveredPairs: { conceptId: string; statementKind: NormativeKind }[];
  examplesByConcept: Record<string, string[]>;
}

/** The examples of a coverage that exercise a concept (none when it is uncovered), without repeats, in the order given. */
export function examplesCovering(coverage: DatasetCoverage, conceptId: string): string[] {
  return [...new Set(coverage.examplesByConcept[conceptId] ?? [])];
}

/** The governing clauses grouped by the statement kind, in GOVERNING_KINDS order (then those without a kind), each clause once per kind; empty kinds left out. */
export function governingByKind(governedBy: readonly GoverningClause[]): { kind: NormativeKind | null; clauses: GoverningClause[] }[] {
  const groups: { kind: NormativeKind | null; clauses: GoverningClause[] }[] = [];
  for (const kind of [...GOVERNING_KINDS, null]) {
    const seen = new Set<string>();
    const clauses = governedBy.filter((g) => g.statementKind === kind && !seen.has(g.clauseId) && seen.add(g.clauseId));
    if (clauses.length) groups.push({ kind, clauses });
  }
  return groups;
}

/** What an edge says, read from its `from` node to its `to` node ("governs · prohibition", "broader"). */
export function edgeLabel(edge: Pick<GraphEdge, 'type' | 'statementKind'>): string {
  const words: Record<RelationType, string> = {
    broader: 'broader',
    related: 'related',
    defines: 'defines',
    governs: 'governs',
    exceptionOf: 'exception of',
    refersTo: 'refers to',
    conflictsWith: 'conflicts with',
  };
  const word = words[edge.type] ?? edge.type;
  return edge.type === 'governs' && edge.statementKind ? `${word} · ${edge.statementKind}` : word;
}

/** A label short enough for a node (the full one goes in its title). */
export function shortLabel(label: string, max = 28): string {
  const flat = label.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
}

export interface PlacedNode {
  id: string;
  /** A concept, a clause, or the stand-in for the neighbours of one node left out of a crowded ring. */
  kind: GraphNode['kind'] | 'more';
  label: string;
  /** Hops from the centre (0 for the centre; nodes the edges do not reach are one ring further out than the rest). */
  depth: number;
  x: number;
  y: number;
  /** Whether the ring is sparse enough for the node's label to be drawn (always for the centre and the first ring). */
  labelled: boolean;
  /** For a stand-in: the node whose neighbours it stands for, and which they are. */
  more: { parentId: string; ids: string[] } | null;
}

export interface PlacedEdge extends GraphEdge {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  /** Where its label goes (the middle of the line). */
  lx: number;
  ly: number;
  label: string;
  /** Whether the label is drawn: every edge's when there are few, else those touching the centre unless they too are many. */
  labelled: boolean;
}

export interface GraphLayout {
  width: number;
  height: number;
  /** The centre first, then ring by ring, each ring clockwise from the top: the keyboard's order. */
  nodes: PlacedNode[];
  /** The edges between drawn nodes (none to a stand-in). */
  edges: PlacedEdge[];
  /** How many nodes of the neighbourhood are not drawn (held by stand-ins, or reached only through those). */
  hidden: number;
}

export interface LayoutOptions {
  /** Distance between rings. */
  ringGap?: number;
  /** The least arc between two nodes of a ring (a crowded ring grows its radius). */
  minSpacing?: number;
  /** A ring with more nodes than this draws labels only on focus and hover. */
  maxLabelledRing?: number;
  /** More edges than this: only those touching the centre carry a drawn label (the others show theirs on hover). */
  maxLabelledEdges?: number;
  /** More edges touching the centre than this: none carries a drawn label. */
  maxCentreLabels?: number;
  /** The most nodes drawn around the centre; the rest are one stand-in. */
  maxFirstRing?: number;
  /** The most nodes drawn around any other node (on the next ring out); the rest are one stand-in. */
  maxChildren?: number;
  /** Room left and right of the outermost nodes (for their labels). */
  margin?: number;
  /** Room above and below them. */
  marginY?: number;
}

const compareNodes = (a: GraphNode, b: GraphNode): number =>
  a.kind !== b.kind
    ? a.kind === 'concept'
      ? -1
      : 1
    : a.label !== b.label
      ? a.label < b.label
        ? -1
        : 1
      : a.id < b.id
        ? -1
        : a.id > b.id
          ? 1
          : 0;

const round = (n: number): number => Math.round(n * 10) / 10;

/**
 * A radial layout of a neighbourhood around `centreId`: the centre in the middle, the nodes one
 * hop away (edges read both ways) on the first ring, two hops on the second. Deterministic: the
 * same graph gives the same picture whatever order the server lists it in. A ring is sorted by
 * kind (concepts first) and label; an outer ring's nodes sit in the sector of their parent on the
 * inner ring (a radial tree), so lines cross little. A crowded ring grows its radius. A node with
 * more neighbours on the next ring than `maxChildren` (`maxFirstRing` for the centre) shows the
 * first of them and one stand-in ("+N more") for the rest, whose own neighbours are left out too:
 * a hub does not drown the picture. Throws when the centre is not among the nodes. Edges naming a
 * node the graph lacks are left out.
 */
export function layoutNeighbourhood(graph: Neighbourhood, centreId: string, options: LayoutOptions = {}): GraphLayout {
  const ringGap = options.ringGap ?? 170;
  const minSpacing = options.minSpacing ?? 34;
  const maxLabelledRing = options.maxLabelledRing ?? 16;
  const maxLabelledEdges = options.maxLabelledEdges ?? 8;
  const maxCentreLabels = options.maxCentreLabels ?? 24;
  const maxFirstRing = options.maxFirstRing ?? 40;
  const maxChildren = options.maxChildren ?? 8;
  const margin = options.margin ?? 110;
  const marginY = options.marginY ?? 48;

  const byId = new Map<string, GraphNode>();
  for (const n of graph.nodes) if (!byId.has(n.id)) byId.set(n.id, n);
  const centre = byId.get(centreId);
  if (!centre) throw new Error(`the neighbourhood does not hold its centre ${centreId}`);
  const edges = graph.edges.filter((e) => byId.has(e.from) && byId.has(e.to) && e.from !== e.to);
  const seenEdges = new Set<string>();
  const uniqueEdges = edges
    .filter((e) => !seenEdges.has(e.id) && seenEdges.add(e.id))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  const adjacent = new Map<string, string[]>();
  for (const e of uniqueEdges) {
    for (const [a, b] of [
      [e.from, e.to],
      [e.to, e.from],
    ] as const) {
      const list = adjacent.get(a);
      if (list) list.push(b);
      else adjacent.set(a, [b]);
    }
  }

  // Breadth first from the centre: each node's depth and its parent (its first neighbour on the ring
  // inside, in that ring's order); a parent's neighbours beyond its share go into a stand-in.
  type RingNode = { id: string; kind: PlacedNode['kind']; label: string; more: PlacedNode['more'] };
  const depth = new Map<string, number>([[centreId, 0]]);
  const rings: RingNode[][] = [[{ ...centre, more: null }]];
  const order = new Map<string, number>([[centreId, 0]]);
  const children = new Map<string, string[]>();
  const left = new Set<string>();
  for (let d = 1; ; d++) {
    const inner = rings[d - 1] as RingNode[];
    const parentOf = new Map<string, number>();
    for (const node of inner) {
      if (node.more) continue;
      for (const next of adjacent.get(node.id) ?? []) {
        if (depth.has(next) || left.has(next)) continue;
        const at = order.get(node.id) as number;
        parentOf.set(next, Math.min(parentOf.get(next) ?? Infinity, at));
      }
    }
    if (parentOf.size === 0) break;
    const reached = [...parentOf.keys()]
      .map((id) => byId.get(id) as GraphNode)
      .sort((a, b) => (parentOf.get(a.id) as number) - (parentOf.get(b.id) as number) || compareNodes(a, b));
    const cap = d === 1 ? maxFirstRing : maxChildren;
    const ring: RingNode[] = [];
    for (let i = 0; i < reached.length;) {
      const parentAt = parentOf.get((reached[i] as GraphNode).id) as number;
      const parent = (inner[parentAt] as RingNode).id;
      let j = i;
      while (j < reached.length && parentOf.get((reached[j] as GraphNode).id) === parentAt) j++;
      const group = reached.slice(i, j);
      const shown = group.length > cap ? group.slice(0, cap - 1) : group;
      const rest = group.slice(shown.length);
      const kids: RingNode[] = shown.map((n) => ({ ...n, more: null }));
      if (rest.length) {
        for (const n of rest) left.add(n.id);
        kids.push({
          id: `more:${parent}`,
          kind: 'more',
          label: `+${rest.length} more`,
          more: { parentId: parent, ids: rest.map((n) => n.id) },
        });
      }
      children.set(
        parent,
        kids.map((k) => k.id),
      );
      ring.push(...kids);
      i = j;
    }
    ring.forEach((n, i) => {
      depth.set(n.id, d);
      order.set(n.id, i);
    });
    rings.push(ring);
  }
  // Nodes no edge path reaches get a ring of their own; those reached only through a stand-in's nodes stay out with them.
  const reachable = new Set([centreId]);
  for (let frontier = [centreId]; frontier.length;) {
    const next: string[] = [];
    for (const id of frontier)
      for (const other of adjacent.get(id) ?? [])
        if (!reachable.has(other)) {
          reachable.add(other);
          next.push(other);
        }
    frontier = next;
  }
  const unreached = [...byId.values()]
    .filter((n) => !reachable.has(n.id))
    .sort(compareNodes)
    .map((n): RingNode => ({ ...n, more: null }));
  if (unreached.length) {
    unreached.forEach((n, i) => {
      depth.set(n.id, rings.length);
      order.set(n.id, i);
    });
    rings.push(unreached);
  }

  // Angles: each node of the first ring gets a sector of the circle, half an even share and half in
  // proportion to how many nodes hang from it further out; a node's children share its sector the
  // same way, so a node sits among the nodes it leads to. The first node of the first ring is at the top.
  const weight = new Map<string, number>();
  const weigh = (id: string): number => {
    const w = Math.max(
      1,
      (children.get(id) ?? []).reduce((sum, c) => sum + weigh(c), 0),
    );
    weight.set(id, w);
    return w;
  };
  weigh(centreId);
  const shares = (ids: readonly string[], span: number): number[] => {
    const total = ids.reduce((sum, id) => sum + (weight.get(id) as number), 0);
    return ids.map((id) => span * (0.5 / ids.length + (0.5 * (weight.get(id) as number)) / total));
  };
  const angle = new Map<string, number>([[centreId, -Math.PI / 2]]);
  const spread = (ids: readonly string[], start: number, span: number) => {
    const parts = shares(ids, span);
    let from = start;
    ids.forEach((id, i) => {
      const part = parts[i] as number;
      angle.set(id, from + part / 2);
      spread(children.get(id) ?? [], from, part);
      from += part;
    });
  };
  const first = children.get(centreId) ?? [];
  spread(first, -Math.PI / 2 - (shares(first, 2 * Math.PI)[0] ?? 0) / 2, 2 * Math.PI);
  unreached.forEach((n, i) => angle.set(n.id, -Math.PI / 2 + (2 * Math.PI * i) / unreached.length));

  // Radii: one gap per ring, more where a ring is crowded (and never inside the ring before it).
  const radii: number[] = [0];
  for (let d = 1; d < rings.length; d++) {
    const count = (rings[d] as RingNode[]).length;
    const needed = (count * minSpacing) / (2 * Math.PI);
    radii.push(Math.max((radii[d - 1] as number) + ringGap * (d === 1 ? 1 : 0.85), needed));
  }

  // Placed around (0, 0), then moved so that the picture is as big as what it holds plus the margins (room for the labels).
  const raw = new Map<string, { x: number; y: number; depth: number; labelled: boolean }>();

  rings.forEach((ring, d) => {
    const r = radii[d] as number;
    const labelled = d <= 1 || ring.length <= maxLabelledRing;
    for (const n of ring) {
      const a = angle.get(n.id) as number;
      raw.set(n.id, { x: r * Math.cos(a), y: r * Math.sin(a), depth: d, labelled });
    }
  });
  const xs = [...raw.values()].map((p) => p.x);
  const ys = [...raw.values()].map((p) => p.y);
  const dx = margin - Math.min(...xs);
  const dy = marginY - Math.min(...ys);
  const width = round(Math.max(...xs) - Math.min(...xs) + 2 * margin);
  const height = round(Math.max(...ys) - Math.min(...ys) + 2 * marginY);

  const placed: PlacedNode[] = [];
  const at = new Map<string, PlacedNode>();
  for (const ring of rings)
    for (const n of ring) {
      const r = raw.get(n.id) as { x: number; y: number; depth: number; labelled: boolean };
      const p: PlacedNode = {
        id: n.id,
        kind: n.kind,
        label: n.label,
        depth: r.depth,
        x: round(r.x + dx),
        y: round(r.y + dy),
        labelled: r.labelled || n.kind === 'more',
        more: n.more,
      };
      placed.push(p);
      at.set(n.id, p);
    }

  const drawn = uniqueEdges.filter((e) => at.has(e.from) && at.has(e.to));
  const fewEdges = drawn.length <= maxLabelledEdges;
  const centreEdges = drawn.filter((e) => e.from === centreId || e.to === centreId).length;
  const placedEdges = drawn.map((e): PlacedEdge => {
    const a = at.get(e.from) as PlacedNode;
    const b = at.get(e.to) as PlacedNode;
    return {
      ...e,
      x1: a.x,
      y1: a.y,
      x2: b.x,
      y2: b.y,
      lx: round((a.x + b.x) / 2),
      ly: round((a.y + b.y) / 2),
      label: edgeLabel(e),
      labelled: fewEdges || ((e.from === centreId || e.to === centreId) && centreEdges <= maxCentreLabels),
    };
  });
  const hidden = [...byId.keys()].filter((id) => !at.has(id)).length;
  return { width, height, nodes: placed, edges: placedEdges, hidden };
}

/**
 * Where the keyboard goes from `currentId` among the layout's nodes: the next (→, ↓) or previous
 * (←, ↑) node in the layout's order, wrapping; Home: the centre; End: the last node. Null for other keys.
 */
export function graphKeyTarget(layout: Pick<GraphLayout, 'nodes'>, currentId: string, key: string): string | null {
  const ids = layout.nodes.map((n) => n.id);
  if (ids.length === 0) return null;
  const at = Math.max(0, ids.indexOf(currentId));
  switch (key) {
    case 'ArrowRight':
    case 'ArrowDown':
      return ids[(at + 1) % ids.length] as string;
    case 'ArrowLeft':
    case 'ArrowUp':
      return ids[(at - 1 + ids.length) % ids.length] as string;
    case 'Home':
      return ids[0] as string;
    case 'End':
      return ids[ids.length - 1] as string;
    default:
      return null;
  }
}

/** The concept search as the route's query (empty parts left out). */
export function conceptsQuery(params: { q?: string; role?: ConceptRole | null; limit: number; offset: number }): string {
  const search = new URLSearchParams();
  const q = params.q?.trim();
  if (q) search.set('q', q);
  if (params.role) search.set('role', params.role);
  search.set('limit', String(params.limit));
  if (params.offset > 0) search.set('offset', String(params.offset));
  return `?${search.toString()}`;
}

/** A role from a URL's query, or null when it names none of the roles. */
export function roleFrom(value: string | null): ConceptRole | null {
  return CONCEPT_ROLES.find((r) => r === value) ?? null;
}
