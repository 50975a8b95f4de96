import { useEffect, useMemo, useState } from 'react';
import type { Concept, ConceptRole } from '@studio/contracts';
import { ConceptGraph } from '../components/ConceptGraph';
import { ErrorBox, KindBadge, Link, Loading, percent, section, shortId, useAsync, useStudio } from '../components/ui';
import { ApiError, enc } from '../lib/api';
import { listOf, type Clause, type DatasetVersion, type Example, type ExamplePage } from '../lib/model';
import {
  CONCEPT_ROLES,
  conceptsQuery,
  examplesCovering,
  governingByKind,
  roleFrom,
  shortLabel,
  type ConceptDetail,
  type ConceptPage as ConceptPageBody,
  type DatasetCoverage,
  type GoverningClause,
  type NormativeKind,
  type OntologySummary,
} from '../lib/ontology';
import { navigate, useLocation } from '../lib/router';

const PAGE = 50;
/** How many covering examples the concept page shows in full. */
const SHOWN_EXAMPLES = 8;

const conceptPath = (contextId: string, conceptId: string) => `/contexts/${enc(contextId)}/concepts/${enc(conceptId)}`;
/** A clause in the clause browser. */
const clausePath = (contextId: string, clauseId: string) => `/contexts/${enc(contextId)}/clauses?clause=${enc(clauseId)}`;

/** null for a 404 (the context has no graph yet), the error otherwise. */
async function orNone<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

function RoleBadges({ roles }: { roles: readonly ConceptRole[] }) {
  return (
    <span className="kinds">
      {roles.map((r) => (
        <span key={r} className={`role-badge role-${r}`}>
          {r}
        </span>
      ))}
    </span>
  );
}

/**
 * The context's concepts (its ontology's latest version): search by label, other labels and
 * definition; filter by role (term, actor, action, object); each opens its page. The search and
 * the role live in the address, so the back button comes back to them.
 */
export function ConceptsView({ contextId }: { contextId: string }) {
  const { api } = useStudio();
  const { search: params } = useLocation();
  const q = params.get('q') ?? '';
  const role = roleFrom(params.get('role'));
  const base = `/v1/contexts/${enc(contextId)}/ontology`;
  const [typed, setTyped] = useState(q);
  const [offset, setOffset] = useState(0);

  const summary = useAsync((signal) => orNone(api.get<OntologySummary>(base, signal)), [base]);
  const concepts = useAsync(
    (signal) => api.get<ConceptPageBody>(`${base}/concepts${conceptsQuery({ q, role, limit: PAGE, offset })}`, signal),
    [base, q, role, offset],
  );

  const place = (next: { q?: string; role?: ConceptRole | null }) => {
    const search = new URLSearchParams();
    const nq = (next.q ?? q).trim();
    const nr = next.role === undefined ? role : next.role;
    if (nq) search.set('q', nq);
    if (nr) search.set('role', nr);
    const text = search.toString();
    setOffset(0);
    navigate(`/contexts/${enc(contextId)}/concepts${text ? `?${text}` : ''}`, true);
  };

  // Typing searches after a short pause (each keystroke would be a request); the back button brings its search back.
  useEffect(() => {
    if (typed.trim() === q.trim()) return;
    const timer = setTimeout(() => place({ q: typed }), 250);
    return () => clearTimeout(timer);
  }, [typed]);
  useEffect(() => setTyped((t) => (t.trim() === q.trim() ? t : q)), [q]);

  const s = summary.data;
  const total = concepts.data?.total ?? 0;
  return (
    <section aria-labelledby="concepts-title" className="concepts">
      <h1 id="concepts-title">Concepts</h1>
      {summary.loading && !summary.data ? <Loading what="the ontology" /> : null}
      <ErrorBox error={summary.error} what="reading the ontology" />
      {!summary.loading && !summary.error && s === null ? (
        <p>No ontology yet: upload a document and wait until it is framed; its concepts appear here.</p>
      ) : null}
      {s ? (
        <p className="muted" data-testid="ontology-summary">
          Version {s.version} of the graph, from {s.documents.length} document{s.documents.length === 1 ? '' : 's'}: {s.conceptCount}{' '}
          concepts, {s.relationCount} relations
          {s.relationsByType.conflictsWith ? (
            <>
              {' '}
              (
              <Link to={`/contexts/${enc(contextId)}/review?tab=conflicts`}>
                {s.relationsByType.conflictsWith} possible conflict{s.relationsByType.conflictsWith === 1 ? '' : 's'} in the review queue
              </Link>
              )
            </>
          ) : null}
          .
        </p>
      ) : null}
      {s ? (
        <>
          <div className="toolbar" role="search">
            <label htmlFor="concept-search">Search</label>
            <input
              id="concept-search"
              type="search"
              value={typed}
              onChange={(e) => setTyped(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter') place({ q: typed });
              }}
              placeholder="label, other label, definition…"
            />
            <span aria-live="polite" className="muted" data-testid="concept-count">
              {concepts.data ? `${total} concept${total === 1 ? '' : 's'}` : ''}
            </span>
          </div>
          <fieldset className="legend">
            <legend>Roles</legend>
            <button
              type="button"
              className={`chip ${role === null ? 'on' : ''}`}
              aria-pressed={role === null}
              onClick={() => place({ role: null })}
            >
              all
            </button>
            {CONCEPT_ROLES.map((r) => (
              <button
                key={r}
                type="button"
                className={`chip role-${r} ${role === r ? 'on' : ''}`}
                aria-pressed={role === r}
                onClick={() => place({ role: role === r ? null : r })}
              >
                {r} {s.conceptsByRole[r] ? <span className="count">{s.conceptsByRole[r]}</span> : null}
              </button>
            ))}
          </fieldset>
          <ErrorBox error={concepts.error} what="searching the concepts" />
          {concepts.data && total === 0 ? <p>No concept matches.</p> : null}
          {concepts.data && concepts.data.concepts.length ? (
            <table className="table" aria-label="Concepts">
              <thead>
                <tr>
                  <th scope="col">Concept</th>
                  <th scope="col">Roles</th>
                  <th scope="col">Definition</th>
                  <th scope="col">Clauses</th>
                </tr>
              </thead>
              <tbody>
                {concepts.data.concepts.map((c) => (
                  <tr key={c.id} data-concept-id={c.id}>
                    <td>
                      <Link to={conceptPath(contextId, c.id)}>{c.prefLabel}</Link>
                      {c.altLabels.length ? <span className="muted small"> ({c.altLabels.join(', ')})</span> : null}
                    </td>
                    <td>
                      <RoleBadges roles={c.roles} />
                    </td>
                    <td className="small">{c.definition ? shortLabel(c.definition.text, 140) : <span className="muted">—</span>}</td>
                    <td>{c.clauseIds.length}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          {total > PAGE ? (
            <div className="pager">
              <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
                Previous
              </button>
              <span>
                {offset + 1}–{Math.min(offset + PAGE, total)} of {total}
              </span>
              <button type="button" disabled={offset + PAGE >= total} onClick={() => setOffset(offset + PAGE)}>
                Next
              </button>
            </div>
          ) : null}
        </>
      ) : null}
    </section>
  );
}

/**
 * One concept: its definition and the clause that gives it, the clauses that govern it by statement
 * kind, its broader, narrower and related concepts, the examples of the latest dataset version that
 * exercise it, and the graph of its neighbourhood.
 */
export function ConceptView({ contextId, conceptId }: { contextId: string; conceptId: string }) {
  const { api } = useStudio();
  const { search } = useLocation();
  const depth: 1 | 2 = search.get('depth') === '2' ? 2 : 1;
  const at = (id: string, d: 1 | 2) => `${conceptPath(contextId, id)}${d === 2 ? '?depth=2' : ''}`;
  const base = `/v1/contexts/${enc(contextId)}`;
  const detail = useAsync((signal) => api.get<ConceptDetail>(`${base}/ontology/concepts/${enc(conceptId)}`, signal), [base, conceptId]);
  const clauses = useAsync(
    (signal) => api.get<unknown>(`${base}/clauses`, signal).then((b) => new Map(listOf<Clause>(b, 'clauses').map((c) => [c.id, c]))),
    [base],
  );
  const d = detail.data && detail.data.concept.id === conceptId ? detail.data : null;
  const groups = useMemo(() => (d ? governingByKind(d.governedBy) : []), [d]);

  return (
    <section aria-labelledby="concept-title" className="concept">
      <p className="muted small">
        <Link to={`/contexts/${enc(contextId)}/concepts`}>Concepts</Link> /
      </p>
      {detail.loading && !d ? <Loading what="the concept" /> : null}
      <ErrorBox error={detail.error} what={`reading the concept ${conceptId}`} />
      {d ? (
        <>
          <h1 id="concept-title" data-concept-id={d.concept.id}>
            {d.concept.prefLabel} <RoleBadges roles={d.concept.roles} />
          </h1>
          <dl className="facts">
            <div>
              <dt>Other labels</dt>
              <dd>{d.concept.altLabels.length ? d.concept.altLabels.join(', ') : '—'}</dd>
            </div>
            <div>
              <dt>Origin</dt>
              <dd>{d.concept.origin === 'imported' ? 'imported (SKOS)' : 'extracted from the documents'}</dd>
            </div>
            <div>
              <dt>Mentioned in</dt>
              <dd>
                {d.concept.clauseIds.length} clause{d.concept.clauseIds.length === 1 ? '' : 's'} of {d.concept.documentIds.length} document
                {d.concept.documentIds.length === 1 ? '' : 's'}
              </dd>
            </div>
          </dl>
          <div className="concept-columns">
            <div>
              <h2>Definition</h2>
              {d.concept.definition ? (
                <blockquote className="definition" data-testid="concept-definition">
                  {d.concept.definition.text}
                </blockquote>
              ) : (
                <p className="muted">The documents do not define it.</p>
              )}
              {d.definedBy.map((c) => (
                <div key={c.clauseId} className="card clause-ref" data-testid="defining-clause" data-clause-id={c.clauseId}>
                  <p className="small muted">
                    Defined in{' '}
                    <Link to={clausePath(contextId, c.clauseId)}>
                      <strong>{section(c.numbering)}</strong>
                    </Link>
                  </p>
                  <p className="clause-full">{c.text}</p>
                </div>
              ))}
              <h2>Governing clauses</h2>
              {groups.length === 0 ? <p className="muted">No statement governs it.</p> : null}
              {groups.map((g) => (
                <GoverningGroup key={g.kind ?? 'none'} contextId={contextId} kind={g.kind} clauses={g.clauses} texts={clauses.data} />
              ))}
            </div>
            <div>
              <Neighbours title="Broader" contextId={contextId} concepts={d.broader} />
              <Neighbours title="Narrower" contextId={contextId} concepts={d.narrower} />
              <Neighbours title="Related" contextId={contextId} concepts={d.related} />
              <CoveringExamples contextId={contextId} conceptId={conceptId} />
            </div>
          </div>
          <h2 id="graph-title">Neighbourhood</h2>
          <ConceptGraph
            contextId={contextId}
            conceptId={conceptId}
            depth={depth}
            onDepth={(d) => navigate(at(conceptId, d), true)}
            onOpenConcept={(id) => navigate(at(id, depth))}
          />
        </>
      ) : null}
    </section>
  );
}

function Neighbours({ title, contextId, concepts }: { title: string; contextId: string; concepts: readonly Concept[] }) {
  return (
    <>
      <h2>{title}</h2>
      {concepts.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <ul className="plain neighbours" aria-label={`${title} concepts`}>
          {concepts.map((c) => (
            <li key={c.id}>
              <Link to={conceptPath(contextId, c.id)}>{c.prefLabel}</Link> <RoleBadges roles={c.roles} />
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/** How many governing clauses of one kind are listed before "Show all". */
const SHOWN_CLAUSES = 8;

/** The clauses that govern the concept with one kind of statement; a long list shows its first few until asked for all. */
function GoverningGroup({
  contextId,
  kind,
  clauses,
  texts,
}: {
  contextId: string;
  kind: NormativeKind | null;
  clauses: readonly GoverningClause[];
  texts: Map<string, Clause> | null;
}) {
  const [all, setAll] = useState(false);
  const shown = all ? clauses : clauses.slice(0, SHOWN_CLAUSES);
  return (
    <div className="governing" data-kind={kind ?? ''}>
      <h3>
        {kind ? <KindBadge kind={kind} /> : <span className="muted">kind not stated</span>} {clauses.length} clause
        {clauses.length === 1 ? '' : 's'}
      </h3>
      <ul className="statements" aria-label={kind ? `Clauses with a ${kind} on it` : 'Clauses governing it, kind not stated'}>
        {shown.map((c) => {
          const text = texts?.get(c.clauseId)?.text;
          return (
            <li key={c.clauseId} data-testid="governing-clause" data-clause-id={c.clauseId}>
              <Link to={clausePath(contextId, c.clauseId)}>
                <strong>{c.citation ?? section(c.numbering)}</strong>
              </Link>{' '}
              {text ? shortLabel(text, 180) : null}
            </li>
          );
        })}
      </ul>
      {clauses.length > shown.length ? (
        <button type="button" className="link show-all" onClick={() => setAll(true)}>
          Show all {clauses.length}
        </button>
      ) : null}
    </div>
  );
}

interface Covering {
  dataset: DatasetVersion;
  coverage: DatasetCoverage;
  ids: string[];
  examples: Example[];
}

/**
 * The examples of the latest dataset version that exercise the concept, as the dataset's coverage
 * (GET …/datasets/{v}/coverage) names them; the first few read in full from the version's examples.
 */
function CoveringExamples({ contextId, conceptId }: { contextId: string; conceptId: string }) {
  const { api } = useStudio();
  const base = `/v1/contexts/${enc(contextId)}/datasets`;
  const covering = useAsync(
    async (signal): Promise<Covering | null> => {
      const datasets = listOf<DatasetVersion>(await api.get<unknown>(base, signal), 'datasets', 'versions');
      const dataset = [...datasets].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))[0];
      if (!dataset) return null;
      const coverage = await api.get<DatasetCoverage>(`${base}/${enc(dataset.id)}/coverage`, signal);
      const ids = examplesCovering(coverage, conceptId);
      const wanted = new Set(ids.slice(0, SHOWN_EXAMPLES));
      const found = new Map<string, Example>();
      for (let offset = 0; found.size < wanted.size; offset += 500) {
        const page = await api.get<ExamplePage>(`${base}/${enc(dataset.id)}/examples?limit=500&offset=${offset}`, signal);
        for (const e of page.examples) if (wanted.has(e.id)) found.set(e.id, e);
        if (offset + page.examples.length >= page.total || page.examples.length === 0) break;
      }
      return { dataset, coverage, ids, examples: ids.flatMap((id) => found.get(id) ?? []) };
    },
    [base, conceptId],
  );
  const c = covering.data;
  return (
    <div className="covering" aria-labelledby="covering-title">
      <h2 id="covering-title">Covering examples</h2>
      {covering.loading && !c ? <Loading what="the dataset's coverage" /> : null}
      <ErrorBox error={covering.error} what="reading the dataset's coverage" />
      {!covering.loading && !covering.error && c === null ? (
        <p className="muted">
          No dataset version yet: <Link to={`/contexts/${enc(contextId)}/datasets`}>generate one</Link> to see which examples exercise it.
        </p>
      ) : null}
      {c ? (
        <>
          <p data-testid="covering-count">
            {c.ids.length === 0 ? 'No example' : `${c.ids.length} example${c.ids.length === 1 ? '' : 's'}`} of dataset version{' '}
            <Link to={`/contexts/${enc(contextId)}/datasets/${enc(c.dataset.id)}`}>
              <code title={c.dataset.id}>{shortId(c.dataset.id)}</code>
            </Link>{' '}
            exercise{c.ids.length === 1 ? 's' : ''} it.{' '}
            <span className="muted small">
              The version covers {c.coverage.concepts.covered} of {c.coverage.concepts.total} concepts ({percent(c.coverage.concepts.share)}
              ) and {c.coverage.pairs.covered} of {c.coverage.pairs.total} governed (concept, kind) pairs ({percent(c.coverage.pairs.share)}
              ).
            </span>
          </p>
          <ul className="plain covering-examples">
            {c.examples.map((e) => (
              <li key={e.id} className="card" data-example-id={e.id}>
                <p className="small muted">
                  {e.kind}
                  {e.label ? ` · ${e.label}` : ''}
                  {e.statementKind ? (
                    <>
                      {' '}
                      · <KindBadge kind={e.statementKind} />
                    </>
                  ) : null}
                </p>
                <p className="question">{e.question}</p>
                <p className="answer small">{shortLabel(e.answer, 300)}</p>
              </li>
            ))}
          </ul>
          {c.ids.length > c.examples.length ? (
            <p className="muted small">
              And {c.ids.length - c.examples.length} more in{' '}
              <Link to={`/contexts/${enc(contextId)}/datasets/${enc(c.dataset.id)}`}>the dataset</Link>.
            </p>
          ) : null}
        </>
      ) : null}
    </div>
  );
}
