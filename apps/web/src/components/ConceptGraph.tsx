import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { enc } from '../lib/api';
import {
  edgesOf,
  graphKeyTarget,
  layoutNeighbourhood,
  shortLabel,
  type GraphLayout,
  type Neighbourhood,
  type PlacedNode,
} from '../lib/ontology';
import { ErrorBox, Loading, useAsync, useStudio } from './ui';

const CONCEPT_RADIUS = 20;
const CENTRE_RADIUS = 28;
const CLAUSE_HEIGHT = 26;
const CLAUSE_LABEL = 20;

/** A clause's box: as wide as its (shortened) citation. */
function clauseWidth(label: string): number {
  return Math.min(170, Math.max(44, shortLabel(label, CLAUSE_LABEL).length * 7.4 + 16));
}

/** How far from a node's middle an edge along (ux, uy) stops: just outside its shape, so the arrowhead shows. */
function reach(node: PlacedNode, ux: number, uy: number): number {
  if (node.kind === 'concept') return (node.depth === 0 ? CENTRE_RADIUS : CONCEPT_RADIUS) + 3;
  const hw = clauseWidth(node.label) / 2;
  const hh = CLAUSE_HEIGHT / 2;
  return Math.min(Math.abs(ux) > 1e-6 ? hw / Math.abs(ux) : Infinity, Math.abs(uy) > 1e-6 ? hh / Math.abs(uy) : Infinity) + 3;
}

/**
 * The neighbourhood of a concept as an interactive SVG graph (drawn here, radial by depth, see
 * layoutNeighbourhood): concepts are circles, clauses rectangles; edges are labelled by type
 * (governs with its statement kind) and point from → to. Activating a concept (click, Enter or
 * Space) opens it (`onOpenConcept`: its page, its neighbourhood); activating a clause re-centres
 * the drawn graph on it. Arrow keys move between nodes (one tab stop for the whole graph), Home
 * goes back to the centre. Depth 1 or 2.
 */
export function ConceptGraph({
  contextId,
  conceptId,
  onOpenConcept,
}: {
  contextId: string;
  conceptId: string;
  onOpenConcept: (conceptId: string) => void;
}) {
  const { api } = useStudio();
  const [depth, setDepth] = useState<1 | 2>(1);
  const graph = useAsync(
    (signal) =>
      api.get<Neighbourhood>(`/v1/contexts/${enc(contextId)}/ontology/concepts/${enc(conceptId)}/neighbourhood?depth=${depth}`, signal),
    [contextId, conceptId, depth],
  );
  // The drawn centre: the concept, or a clause of its neighbourhood the reader re-centred on.
  const [centre, setCentre] = useState(conceptId);
  const [focused, setFocused] = useState(conceptId);
  useEffect(() => {
    setCentre(conceptId);
    setFocused(conceptId);
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
  const moveFocus = (id: string) => {
    setFocused(id);
    nodeRefs.current.get(id)?.focus();
  };

  const recentre = (id: string) => {
    setCentre(id);
    setFocused(id);
    requestAnimationFrame(() => nodeRefs.current.get(id)?.focus());
  };

  const activate = (node: PlacedNode) => {
    if (node.kind === 'concept' && node.id !== conceptId) {
      onOpenConcept(node.id);
      return;
    }
    // A clause, or the page's own concept after a clause was centred: centre the drawing on it.
    recentre(node.id);
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
  const centreNode = l?.nodes[0] ?? null;
  const tabStop = l && l.nodes.some((n) => n.id === focused) ? focused : (centreNode?.id ?? null);
  const concepts = l ? l.nodes.filter((n) => n.kind === 'concept').length : 0;
  const clauses = l ? l.nodes.length - concepts : 0;

  return (
    <div className="concept-graph">
      <div className="toolbar">
        <fieldset className="legend" aria-label="Depth">
          <legend className="sr-only">Depth</legend>
          {([1, 2] as const).map((d) => (
            <label key={d} className="chip">
              <input type="radio" name="graph-depth" value={d} checked={depth === d} onChange={() => setDepth(d)} /> depth {d}
            </label>
          ))}
        </fieldset>
        <span className="muted small" aria-live="polite" data-testid="graph-summary">
          {l
            ? `${concepts} concept${concepts === 1 ? '' : 's'}, ${clauses} clause${clauses === 1 ? '' : 's'}, ${l.edges.length} edges`
            : ''}
        </span>
        {shown !== conceptId ? (
          <button type="button" className="link" onClick={() => recentre(conceptId)}>
            Back to the concept
          </button>
        ) : null}
      </div>
      {graph.loading && !graph.data ? <Loading what="the neighbourhood" /> : null}
      <ErrorBox error={graph.error ?? layout.error} what="reading the neighbourhood" />
      {l && centreNode ? (
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
            aria-label={`Neighbourhood of ${centreNode.label}, depth ${depth}: ${concepts} concepts and ${clauses} clauses`}
            aria-describedby="graph-help"
            data-centre={centreNode.id}
          >
            <defs>
              <marker id="graph-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                <path d="M 0 0 L 10 5 L 0 10 z" className="graph-arrowhead" />
              </marker>
            </defs>
            <g className="edges">
              {l.edges.map((e) => {
                const from = l.nodes.find((n) => n.id === e.from) as PlacedNode;
                const to = l.nodes.find((n) => n.id === e.to) as PlacedNode;
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
                const links = edgesOf(l, n.id).length;
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
                    aria-label={`${n.kind} ${n.label}${isCentre ? ', the centre' : `, ${n.depth} step${n.depth === 1 ? '' : 's'} away`}, ${links} edge${links === 1 ? '' : 's'}`}
                    data-node-id={n.id}
                    data-kind={n.kind}
                    onClick={() => activate(n)}
                    onKeyDown={(e) => onKey(e, n)}
                    onFocus={() => setFocused(n.id)}
                  >
                    <title>{n.label}</title>
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
                          x={-clauseWidth(n.label) / 2}
                          y={-CLAUSE_HEIGHT / 2}
                          width={clauseWidth(n.label)}
                          height={CLAUSE_HEIGHT}
                          rx={4}
                        />
                        <text className="node-label in-box" y={1} textAnchor="middle" dominantBaseline="middle">
                          {shortLabel(n.label, CLAUSE_LABEL)}
                        </text>
                      </>
                    )}
                  </g>
                );
              })}
            </g>
          </svg>
          <CentreEdges layout={l} onActivate={activate} />
        </>
      ) : null}
    </div>
  );
}

/** The centre's edges as a list: the graph's text for those who do not see it, and a way on to each neighbour. */
function CentreEdges({ layout, onActivate }: { layout: GraphLayout; onActivate: (node: PlacedNode) => void }) {
  const centre = layout.nodes[0] as PlacedNode;
  const edges = edgesOf(layout, centre.id);
  return (
    <details className="graph-edges">
      <summary>
        The {edges.length} edge{edges.length === 1 ? '' : 's'} of {shortLabel(centre.label, 60)} as a list
      </summary>
      <ul>
        {edges.map(({ edge, other, outgoing }) => (
          <li key={edge.id}>
            {outgoing ? (
              <>
                <em>{edge.label}</em> →{' '}
              </>
            ) : (
              <>
                ← <em>{edge.label}</em> from{' '}
              </>
            )}
            <button type="button" className="link" onClick={() => onActivate(other)}>
              {other.kind} {shortLabel(other.label, 80)}
            </button>
          </li>
        ))}
      </ul>
    </details>
  );
}
