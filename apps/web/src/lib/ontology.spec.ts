import {
  conceptsQuery,
  conflictDecisionBody,
  decidedStatus,
  edgeLabel,
  examplesCovering,
  governingByKind,
  graphKeyTarget,
  layoutNeighbourhood,
  roleFrom,
  shortLabel,
  type GraphEdge,
  type GraphNode,
  type Neighbourhood,
} from './ontology';

const concept = (id: string, label: string): GraphNode => ({ id, kind: 'concept', label });
const clause = (id: string, label: string): GraphNode => ({ id, kind: 'clause', label });
const edge = (type: GraphEdge['type'], from: string, to: string, statementKind: GraphEdge['statementKind'] = null): GraphEdge => ({
  id: `${type}:${from}>${to}${statementKind ? `:${statementKind}` : ''}`,
  type,
  from,
  to,
  statementKind,
});

/** A gift (centre), its broader "benefit", a defining clause, two governing clauses, and one node two hops away. */
const GRAPH: Neighbourhood = {
  nodes: [
    concept('c-gift', 'gift'),
    concept('c-benefit', 'benefit'),
    clause('k-1', '§1.2 Gift means anything of value'),
    clause('k-3', '§3.1 Employees must not accept gifts'),
    clause('k-4', '§4 Employees may accept gifts under 50'),
    concept('c-employee', 'employee'),
  ],
  edges: [
    edge('broader', 'c-gift', 'c-benefit'),
    edge('defines', 'k-1', 'c-gift'),
    edge('governs', 'k-3', 'c-gift', 'prohibition'),
    edge('governs', 'k-4', 'c-gift', 'permission'),
    edge('governs', 'k-3', 'c-employee', 'prohibition'),
  ],
};

describe('the neighbourhood layout', () => {
  it('puts the centre in the middle, one hop on the first ring, two hops on the second, concepts first', () => {
    const layout = layoutNeighbourhood(GRAPH, 'c-gift');
    expect(layout.nodes.map((n) => [n.id, n.depth])).toEqual([
      ['c-gift', 0],
      ['c-benefit', 1],
      ['k-1', 1],
      ['k-3', 1],
      ['k-4', 1],
      ['c-employee', 2],
    ]);
    const centre = layout.nodes[0];
    // The first ring is a circle around the centre, with room for labels: 110 left and right, 48 above and below.
    expect(centre).toMatchObject({ x: 110 + 170, y: 48 + 170 });
    expect(layout.width).toBeCloseTo(2 * 110 + 2 * 170, 0);
    const dist = (id: string) => {
      const n = layout.nodes.find((x) => x.id === id);
      if (!n || !centre) throw new Error(id);
      return Math.hypot(n.x - centre.x, n.y - centre.y);
    };
    expect(dist('c-benefit')).toBeCloseTo(170, 0);
    expect(dist('k-4')).toBeCloseTo(170, 0);
    expect(dist('c-employee')).toBeGreaterThan(dist('k-3'));
    // The first node of a ring is at the top.
    expect(layout.nodes[1]).toMatchObject({ x: centre?.x });
    expect(layout.nodes[1]?.y).toBeLessThan(centre?.y ?? 0);
    // Everything inside the picture.
    for (const n of layout.nodes) {
      expect(n.x).toBeGreaterThan(0);
      expect(n.x).toBeLessThan(layout.width);
      expect(n.y).toBeGreaterThan(0);
      expect(n.y).toBeLessThan(layout.height);
    }
  });

  it('puts an outer node in the sector of the node it hangs from (a radial tree)', () => {
    const layout = layoutNeighbourhood(GRAPH, 'c-gift');
    const c = layout.nodes[0];
    const bearing = (id: string) => {
      const n = layout.nodes.find((x) => x.id === id);
      return Math.atan2((n?.y ?? 0) - (c?.y ?? 0), (n?.x ?? 0) - (c?.x ?? 0));
    };
    // The employee is reached through §3.1 only: it lies on §3.1's bearing, further out.
    expect(bearing('c-employee')).toBeCloseTo(bearing('k-3'), 1);
    // Two children of one parent lie on either side of it.
    const fan: Neighbourhood = {
      nodes: [concept('c-x', 'x'), concept('c-p', 'p'), concept('c-q', 'q'), concept('c-p1', 'p1'), concept('c-p2', 'p2')],
      edges: [edge('related', 'c-x', 'c-p'), edge('related', 'c-x', 'c-q'), edge('broader', 'c-p1', 'c-p'), edge('broader', 'c-p2', 'c-p')],
    };
    const fanned = layoutNeighbourhood(fan, 'c-x');
    const fc = fanned.nodes[0];
    const b = (id: string) => {
      const n = fanned.nodes.find((x) => x.id === id);
      return Math.atan2((n?.y ?? 0) - (fc?.y ?? 0), (n?.x ?? 0) - (fc?.x ?? 0));
    };
    expect(b('c-p1')).toBeLessThan(b('c-p'));
    expect(b('c-p2')).toBeGreaterThan(b('c-p'));
    expect(b('c-p')).toBeCloseTo(-Math.PI / 2, 5);
  });

  it('is the same whatever order the server lists nodes and edges in', () => {
    const shuffled: Neighbourhood = { nodes: [...GRAPH.nodes].reverse(), edges: [...GRAPH.edges].reverse() };
    expect(layoutNeighbourhood(shuffled, 'c-gift')).toEqual(layoutNeighbourhood(GRAPH, 'c-gift'));
  });

  it('re-centres on another node', () => {
    const layout = layoutNeighbourhood(GRAPH, 'k-3');
    expect(layout.nodes.map((n) => [n.id, n.depth])).toEqual([
      ['k-3', 0],
      ['c-employee', 1],
      ['c-gift', 1],
      ['c-benefit', 2],
      ['k-1', 2],
      ['k-4', 2],
    ]);
  });

  it('labels edges by type (governs with its kind), from the line between their ends', () => {
    const layout = layoutNeighbourhood(GRAPH, 'c-gift');
    const governs = layout.edges.find((e) => e.id === 'governs:k-3>c-gift:prohibition');
    expect(governs?.label).toBe('governs · prohibition');
    const from = layout.nodes.find((n) => n.id === 'k-3');
    const to = layout.nodes[0];
    expect(governs).toMatchObject({ x1: from?.x, y1: from?.y, x2: to?.x, y2: to?.y });
    expect(governs?.lx).toBeCloseTo(((from?.x ?? 0) + (to?.x ?? 0)) / 2, 0);
    expect(edgeLabel({ type: 'broader', statementKind: null })).toBe('broader');
    expect(edgeLabel({ type: 'exceptionOf', statementKind: null })).toBe('exception of');
    expect(edgeLabel({ type: 'conflictsWith', statementKind: null })).toBe('conflicts with');
  });

  it('grows a crowded ring and draws its labels only on focus; labels only the centre’s edges when there are many', () => {
    const many = Array.from({ length: 60 }, (_, i) => concept(`c-${String(i).padStart(2, '0')}`, `thing ${i}`));
    const graph: Neighbourhood = {
      nodes: [concept('c-hub', 'hub'), concept('c-mid', 'mid'), ...many],
      edges: [edge('related', 'c-hub', 'c-mid'), ...many.map((n) => edge('broader', n.id, 'c-mid'))],
    };
    const layout = layoutNeighbourhood(graph, 'c-hub', { minSpacing: 30, ringGap: 100, maxChildren: 100 });
    const ring2 = layout.nodes.filter((n) => n.depth === 2);
    expect(ring2).toHaveLength(60);
    const radius = Math.hypot((ring2[0]?.x ?? 0) - (layout.nodes[0]?.x ?? 0), (ring2[0]?.y ?? 0) - (layout.nodes[0]?.y ?? 0));
    expect(radius).toBeGreaterThanOrEqual((60 * 30) / (2 * Math.PI) - 0.5);
    expect(ring2.every((n) => !n.labelled)).toBe(true);
    expect(layout.nodes.filter((n) => n.depth <= 1).every((n) => n.labelled)).toBe(true);
    expect(layout.edges.filter((e) => e.labelled).map((e) => e.id)).toEqual(['related:c-hub>c-mid']);
    // Centred on the middle node, 61 edges touch the centre: too many labels to draw.
    expect(layoutNeighbourhood(graph, 'c-mid', { maxFirstRing: 100 }).edges.filter((e) => e.labelled)).toEqual([]);
    // A small graph labels every edge.
    expect(layoutNeighbourhood(GRAPH, 'c-gift').edges.every((e) => e.labelled)).toBe(true);
  });

  it('draws the first neighbours of a hub and one stand-in for the rest, whose own neighbours stay out', () => {
    const many = Array.from({ length: 20 }, (_, i) => concept(`c-${String(i).padStart(2, '0')}`, `thing ${String(i).padStart(2, '0')}`));
    const graph: Neighbourhood = {
      nodes: [concept('c-hub', 'hub'), concept('c-mid', 'mid'), concept('c-far', 'far'), ...many],
      edges: [
        edge('related', 'c-hub', 'c-mid'),
        ...many.map((n) => edge('broader', n.id, 'c-mid')),
        // Reached only through a neighbour the stand-in holds: not drawn either.
        edge('broader', 'c-far', 'c-19'),
      ],
    };
    const layout = layoutNeighbourhood(graph, 'c-hub', { maxChildren: 8 });
    const ring2 = layout.nodes.filter((n) => n.depth === 2);
    expect(ring2.map((n) => n.id)).toEqual([...many.slice(0, 7).map((n) => n.id), 'more:c-mid']);
    const more = ring2[7];
    expect(more).toMatchObject({ kind: 'more', label: '+13 more', labelled: true });
    expect(more?.more).toEqual({ parentId: 'c-mid', ids: many.slice(7).map((n) => n.id) });
    expect(layout.hidden).toBe(14);
    expect(layout.nodes.some((n) => n.id === 'c-far' || n.id === 'c-19')).toBe(false);
    // Edges only between drawn nodes.
    const drawn = new Set(layout.nodes.map((n) => n.id));
    expect(layout.edges.every((e) => drawn.has(e.from) && drawn.has(e.to))).toBe(true);
    expect(layout.edges).toHaveLength(1 + 7);
    // Around the centre the cap is its own: 5 at most here, the fifth a stand-in.
    const first = layoutNeighbourhood(graph, 'c-mid', { maxFirstRing: 5 }).nodes.filter((n) => n.depth === 1);
    expect(first.map((n) => n.id)).toEqual(['c-hub', 'c-00', 'c-01', 'c-02', 'more:c-mid']);
  });

  it('puts nodes no edge reaches on a ring of their own, drops edges to unknown nodes and repeated ones', () => {
    const graph: Neighbourhood = {
      nodes: [concept('c-a', 'a'), concept('c-b', 'b'), concept('c-lone', 'lone')],
      edges: [edge('related', 'c-a', 'c-b'), edge('related', 'c-a', 'c-b'), edge('related', 'c-a', 'c-ghost')],
    };
    const layout = layoutNeighbourhood(graph, 'c-a');
    expect(layout.nodes.map((n) => [n.id, n.depth])).toEqual([
      ['c-a', 0],
      ['c-b', 1],
      ['c-lone', 2],
    ]);
    expect(layout.edges.map((e) => e.id)).toEqual(['related:c-a>c-b']);
  });

  it('names a centre the neighbourhood lacks', () => {
    expect(() => layoutNeighbourhood(GRAPH, 'c-nothing')).toThrow(/does not hold its centre c-nothing/);
  });

  it('moves the keyboard through the nodes in the layout order, wrapping, Home to the centre', () => {
    const layout = layoutNeighbourhood(GRAPH, 'c-gift');
    expect(graphKeyTarget(layout, 'c-gift', 'ArrowRight')).toBe('c-benefit');
    expect(graphKeyTarget(layout, 'c-gift', 'ArrowLeft')).toBe('c-employee');
    expect(graphKeyTarget(layout, 'c-employee', 'ArrowDown')).toBe('c-gift');
    expect(graphKeyTarget(layout, 'k-3', 'Home')).toBe('c-gift');
    expect(graphKeyTarget(layout, 'k-3', 'End')).toBe('c-employee');
    expect(graphKeyTarget(layout, 'k-3', 'a')).toBeNull();
  });
});

describe('the concept page', () => {
  it('groups governing clauses by statement kind, obligations first, each clause once per kind', () => {
    const groups = governingByKind([
      { clauseId: 'k-4', numbering: '4', statementKind: 'permission' },
      { clauseId: 'k-3', numbering: '3.1', citation: '§ 3.1', statementKind: 'prohibition' },
      { clauseId: 'k-2', numbering: '2', statementKind: 'obligation' },
      { clauseId: 'k-3', numbering: '3.1', statementKind: 'prohibition' },
      { clauseId: 'k-3', numbering: '3.1', statementKind: 'permission' },
      { clauseId: 'k-9', numbering: '9', statementKind: null },
    ]);
    expect(groups.map((g) => [g.kind, g.clauses.map((c) => c.clauseId)])).toEqual([
      ['obligation', ['k-2']],
      ['prohibition', ['k-3']],
      ['permission', ['k-4', 'k-3']],
      [null, ['k-9']],
    ]);
    expect(governingByKind([])).toEqual([]);
  });

  it('takes the covering examples from the coverage, none for an uncovered concept', () => {
    const coverage = {
      concepts: { covered: 1, total: 2, share: 0.5 },
      pairs: { covered: 1, total: 3, share: 1 / 3 },
      uncoveredConcepts: ['c-benefit'],
      uncoveredPairs: [],
      examplesByConcept: { 'c-gift': ['e-2', 'e-1', 'e-2'] },
    };
    expect(examplesCovering(coverage, 'c-gift')).toEqual(['e-2', 'e-1']);
    expect(examplesCovering(coverage, 'c-benefit')).toEqual([]);
  });

  it('builds the search query and reads a role from the address', () => {
    expect(conceptsQuery({ q: '  gift ', role: 'object', limit: 50, offset: 0 })).toBe('?q=gift&role=object&limit=50');
    expect(conceptsQuery({ q: '', role: null, limit: 50, offset: 100 })).toBe('?limit=50&offset=100');
    expect(conceptsQuery({ q: 'a&b', limit: 10, offset: 0 })).toBe('?q=a%26b&limit=10');
    expect(roleFrom('actor')).toBe('actor');
    expect(roleFrom('boss')).toBeNull();
    expect(roleFrom(null)).toBeNull();
  });

  it('shortens long node labels at a word-ish boundary with an ellipsis', () => {
    expect(shortLabel('gift')).toBe('gift');
    expect(shortLabel('§3.1 Employees must not accept gifts from suppliers', 20)).toBe('§3.1 Employees must…');
    expect(shortLabel('§3.1 Employees must not accept gifts from suppliers', 20)).toHaveLength(20);
  });
});

describe('a conflict decision', () => {
  it('sends the reason only when one is written', () => {
    expect(conflictDecisionBody('confirm', '   ')).toEqual({ decision: 'confirm' });
    expect(conflictDecisionBody('dismiss', ' different conditions ')).toEqual({ decision: 'dismiss', reason: 'different conditions' });
    expect(decidedStatus('confirm')).toBe('confirmed');
    expect(decidedStatus('dismiss')).toBe('dismissed');
  });
});
