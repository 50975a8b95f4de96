import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { enc } from '../lib/api';
import {
  edgeLabel,
  graphKeyTarget,
  layoutNeighbourhood,
  shortLabel,
  type GraphLayout,
  type GraphNode,
  type Neighbourhood,
  type PlacedNode,
} from '../lib/ontology';
import { ErrorBox, Link, Loading, useAsync, useStudio } from './ui';

const CONCEPT_RADIUS = 20;
const CENTRE_RADIUS = 28;
const BOX_HEIGHT = 26;
const BOX_LABEL = 20;

/** A clause's (or stand-in's) box: as wide as its shortened label. */
function boxWidth(label: string): number {
  return Math.min(170, Math.max(44, shortLabel(label, BOX_LABEL).length * 7.4 + 16));
}

/** How far from a node's middle an edge along (ux, uy) stops: just outside its shape, so the arrowhead shows. */
function reach(node: PlacedNode, ux: number, uy: number): number {
  if (node.kind === 'concept') return (node.depth === 0 ? CENTRE_RADIUS : CONCEPT_RADIUS) + 3;
  const hw = boxWidth(node.label) / 2;
  const hh = BOX_HEIGHT / 2;
  return Math.min(Math.abs(ux) > 1e-6 ? hw / Math.abs(ux) : Infinity, Math.abs(uy) > 1e-6 ? hh / Math.abs(uy) : Infinity) + 3;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * The neighbourhood of a concept as an interactive SVG graph (drawn here, radial by depth, see
 * layoutNeighbourhood): concepts are circles, clauses rectangles; edges are labelled by type
 * (governs with its statement kind) and point from → to. Activating a concept (click, Enter or
 * Space) opens it (`onOpenConcept`: its page, its neighbourhood); activating a clause re-centres
 * the drawn graph on it. A hub's neighbours beyond a few are one "+N more" node: activating it
 * opens the node they belong to (or, around the centre, the list of the centre's edges). Arrow
 * keys move between nodes (one tab stop for the whole graph), Home goes back to the centre. Depth 1
 * or 2 (the page keeps it, so it holds from one concept to the next).
 */
export function ConceptGraph({
  contextId,
  conceptId,
  depth,
  onDepth,
  onOpenConcept,
}: {
  contextId: string;
  conceptId: string;
  depth: 1 | 2;
  onDepth: (depth: 1 | 2) => void;
  onOpenConcept: (conceptId: string) => void;
}) {
  const { api } = useStudio();
  const graph = useAsync(
    (signal) =>
      api.get<Neighbourhood>(`/v1/contexts/${enc(contextId)}/ontology/concepts/${enc(conceptId)}/neighbourhood?depth=${depth}`, signal),
    [contextId, conceptId, depth],
  );
  // The drawn centre: the concept, or a clause of its neighbourhood the reader re-centred on.
  const [centre, setCentre] = useState(conceptId);
  const [focused, setFocused] = useState(conceptId);
  const [listOpen, setListOpen] = useState(false);
  useEffect(() => {
    setCentre(conceptId);
    setFocused(conceptId);
    setListOpen(false);
  }, [conceptId]);

  const shown = graph.data && graph.data.nodes.some((n) => n.id === centre) ? centre : conceptId;
  const layout = useMemo<{ layout: GraphLayout | null; error: unknown }>(() => {
    if (!graph.data) return { layout: null, error: null };
    try {
      return { layout: layoutNeighbourhood(graph.data, shown), error: null };
    } catch (e) {
      return { layout: null, error: e };
    }
  }, [graph.data, shown]);

  const nodeRefs = useRef(new Map<string, SVGGElement>());
  const listRef = useRef<HTMLElement | null>(null);
  const moveFocus = (id: string) => {
    setFocused(id);
    nodeRefs.current.get(id)?.focus();
  };

  const recentre = (id: string) => {
    setCentre(id);
    setFocused(id);
    requestAnimationFrame(() => nodeRefs.current.get(id)?.focus());
  };

  /** A node of the neighbourhood (drawn or not): a concept opens, a clause (or the page's own concept) takes the centre. */
  const go = (node: Pick<GraphNode, 'id' | 'kind'>) => {
    if (node.kind === 'concept' && node.id !== conceptId) onOpenConcept(node.id);
    else recentre(node.id);
  };

  const activate = (node: PlacedNode) => {
    if (!node.more) {
      go({ id: node.id, kind: node.kind === 'concept' ? 'concept' : 'clause' });
      return;
    }
    const parent = graph.data?.nodes.find((n) => n.id === node.more?.parentId);
    if (!parent || parent.id === shown) {
      // The centre's own neighbours: all of them are in the list under the graph.
      setListOpen(true);
      requestAnimationFrame(() => listRef.current?.focus());
    } else go(parent);
  };

  const onKey = (e: KeyboardEvent<SVGGElement>, node: PlacedNode) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      activate(node);
      return;
    }
    if (!layout.layout) return;
    const next = graphKeyTarget(layout.layout, node.id, e.key);
    if (next) {
      e.preventDefault();
      moveFocus(next);
    }
  };

  const l = layout.layout;
  const data = graph.data;
  const centreNode = l?.nodes[0] ?? null;
  const tabStop = l && l.nodes.some((n) => n.id === focused) ? focused : (centreNode?.id ?? null);
  const concepts = data ? data.nodes.filter((n) => n.kind === 'concept').length : 0;
  const clauses = data ? data.nodes.length - concepts : 0;
  const byId = new Map((l?.nodes ?? []).map((n) => [n.id, n]));

  return (
    <div className="concept-graph">
      <div className="toolbar">
        <fieldset className="legend" aria-label="Depth">
          <legend className="sr-only">Depth</legend>
          {([1, 2] as const).map((d) => (
            <label key={d} className="chip">
              <input type="radio" name="graph-depth" value={d} checked={depth === d} onChange={() => onDepth(d)} /> depth {d}
            </label>
          ))}
        </fieldset>
        <span
          className="muted small"
          aria-live="polite"
          data-testid="graph-summary"
          data-nodes={data?.nodes.length ?? ''}
          data-hidden={l?.hidden ?? ''}
        >
          {data && l
            ? `${plural(concepts, 'concept')}, ${plural(clauses, 'clause')}, ${plural(data.edges.length, 'edge')}${
                l.hidden ? ` (${l.hidden} not drawn: open a “more” node)` : ''
              }`
            : ''}
        </span>
        {shown !== conceptId ? (
          <button type="button" className="link" onClick={() => recentre(conceptId)}>
            Back to the concept
          </button>
        ) : null}
        {centreNode && centreNode.kind === 'clause' ? (
          <Link to={`/contexts/${enc(contextId)}/clauses?clause=${enc(centreNode.id)}`}>Read {centreNode.label} in the clause browser</Link>
        ) : null}
      </div>
      {graph.loading && !graph.data ? <Loading what="the neighbourhood" /> : null}
      <ErrorBox error={graph.error ?? layout.error} what="reading the neighbourhood" />
      {l && centreNode && data ? (
        <>
          <p className="muted small" id="graph-help">
            Arrow keys move between nodes, Enter opens a concept or centres the graph on a clause, Home comes back to the centre.
          </p>
          <svg
            className="graph"
            viewBox={`0 0 ${l.width} ${l.height}`}
            width={l.width}
            height={l.height}
            role="group"
            aria-label={`Neighbourhood of ${centreNode.label}, depth ${depth}: ${plural(concepts, 'concept')} and ${plural(clauses, 'clause')}`}
            aria-describedby="graph-help"
            data-centre={centreNode.id}
          >
            <defs>
              <marker id="graph-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                <path d="M 0 0 L 10 5 L 0 10 z" className="graph-arrowhead" />
              </marker>
            </defs>
            <g className="edges">
              {l.nodes
                .filter((n) => n.more)
                .map((n) => {
                  const parent = byId.get(n.more?.parentId ?? '');
                  return parent ? <line key={n.id} className="more-link" x1={parent.x} y1={parent.y} x2={n.x} y2={n.y} /> : null;
                })}
              {l.edges.map((e) => {
                const from = byId.get(e.from) as PlacedNode;
                const to = byId.get(e.to) as PlacedNode;
                const len = Math.hypot(e.x2 - e.x1, e.y2 - e.y1) || 1;
                const ux = (e.x2 - e.x1) / len;
                const uy = (e.y2 - e.y1) / len;
                const a = reach(from, ux, uy);
                const b = reach(to, ux, uy);
                return (
                  <g key={e.id} className={`edge edge-${e.type} ${e.statementKind ? `kind-${e.statementKind}` : ''}`} data-edge-id={e.id}>
                    <line
                      x1={e.x1 + ux * a}
                      y1={e.y1 + uy * a}
                      x2={e.x2 - ux * b}
                      y2={e.y2 - uy * b}
                      markerEnd={e.type === 'related' ? undefined : 'url(#graph-arrow)'}
                    />
                    {e.labelled ? (
                      <text x={e.lx} y={e.ly} className="edge-label" textAnchor="middle" dominantBaseline="middle">
                        {e.label}
                      </text>
                    ) : null}
                    <title>{`${from.label} — ${e.label} → ${to.label}`}</title>
                  </g>
                );
              })}
            </g>
            <g className="nodes">
              {l.nodes.map((n) => {
                const isCentre = n.id === centreNode.id;
                const links = l.edges.filter((e) => e.from === n.id || e.to === n.id).length;
                const parent = n.more ? data.nodes.find((p) => p.id === n.more?.parentId) : undefined;
                const label = n.more
                  ? `${plural(n.more.ids.length, 'more neighbour')} of ${parent?.label ?? n.more.parentId}, not drawn`
                  : `${n.kind} ${n.label}${isCentre ? ', the centre' : `, ${plural(n.depth, 'step')} away`}, ${plural(links, 'edge')}`;
                return (
                  <g
                    key={n.id}
                    ref={(el) => {
                      if (el) nodeRefs.current.set(n.id, el);
                      else nodeRefs.current.delete(n.id);
                    }}
                    className={`node node-${n.kind} ${isCentre ? 'centre' : ''} depth-${n.depth}`}
                    transform={`translate(${n.x} ${n.y})`}
                    role="button"
                    tabIndex={tabStop === n.id ? 0 : -1}
                    aria-label={label}
                    data-node-id={n.id}
                    data-kind={n.kind}
                    data-more={n.more ? n.more.ids.length : undefined}
                    onClick={() => activate(n)}
                    onKeyDown={(e) => onKey(e, n)}
                    onFocus={() => setFocused(n.id)}
                  >
                    <title>{n.more ? label : n.label}</title>
                    {n.kind === 'concept' ? (
                      <>
                        <circle r={isCentre ? CENTRE_RADIUS : CONCEPT_RADIUS} />
                        <text
                          className={`node-label ${n.labelled || isCentre ? '' : 'on-focus'}`}
                          y={(isCentre ? CENTRE_RADIUS : CONCEPT_RADIUS) + 14}
                          textAnchor="middle"
                        >
                          {shortLabel(n.label)}
                        </text>
                      </>
                    ) : (
                      <>
                        <rect
                          x={-boxWidth(n.label) / 2}
                          y={-BOX_HEIGHT / 2}
                          width={boxWidth(n.label)}
                          height={BOX_HEIGHT}
                          rx={n.more ? 13 : 4}
                        />
                        <text className="node-label in-box" y={1} textAnchor="middle" dominantBaseline="middle">
                          {shortLabel(n.label, BOX_LABEL)}
                        </text>
                      </>
                    )}
                  </g>
                );
              })}
            </g>
          </svg>
          <CentreEdges
            graph={data}
            centreId={centreNode.id}
            open={listOpen}
            onToggle={setListOpen}
            summaryRef={(el) => {
              listRef.current = el;
            }}
            onGo={go}
          />
        </>
      ) : null}
    </div>
  );
}

/** All the centre's edges as a list (drawn or not): the graph's text for those who do not see it, and a way on to each neighbour. */
function CentreEdges({
  graph,
  centreId,
  open,
  onToggle,
  summaryRef,
  onGo,
}: {
  graph: Neighbourhood;
  centreId: string;
  open: boolean;
  onToggle: (open: boolean) => void;
  summaryRef: (el: HTMLElement | null) => void;
  onGo: (node: GraphNode) => void;
}) {
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
  const centre = nodes.get(centreId);
  const seen = new Set<string>();
  const edges = graph.edges
    .filter((e) => (e.from === centreId || e.to === centreId) && nodes.has(e.from) && nodes.has(e.to) && !seen.has(e.id) && seen.add(e.id))
    .map((edge) => {
      const outgoing = edge.from === centreId;
      return { edge, outgoing, other: nodes.get(outgoing ? edge.to : edge.from) as GraphNode };
    })
    .sort((a, b) => (a.other.label < b.other.label ? -1 : a.other.label > b.other.label ? 1 : 0));
  return (
    <details className="graph-edges" open={open} onToggle={(e) => onToggle((e.currentTarget as HTMLDetailsElement).open)}>
      <summary ref={summaryRef} data-testid="graph-edge-list">
        The {plural(edges.length, 'edge')} of {shortLabel(centre?.label ?? centreId, 60)} as a list
      </summary>
      <ul>
        {edges.map(({ edge, other, outgoing }) => (
          <li key={edge.id}>
            {outgoing ? (
              <>
                <em>{edgeLabel(edge)}</em> →{' '}
              </>
            ) : (
              <>
                ← <em>{edgeLabel(edge)}</em> from{' '}
              </>
            )}
            <button type="button" className="link" onClick={() => onGo(other)}>
              {other.kind} {shortLabel(other.label, 80)}
            </button>
          </li>
        ))}
      </ul>
    </details>
  );
}
