import { useEffect, useMemo, useState } from 'react';
import { ErrorBox, KindBadge, Loading, useAsync, useStudio } from '../components/ui';
import { enc, query } from '../lib/api';
import { clauseTree, filterTree, kindsOf, type ClauseNode } from '../lib/clause-tree';
import { listOf, STATEMENT_KINDS, type Clause, type DocumentView } from '../lib/model';
import { navigate, useLocation } from '../lib/router';

/** The clause browser: the numbering tree of the context's current clauses, statement kinds colour-coded, search; `?clause=` selects one. */
export function ClausesView({ contextId }: { contextId: string }) {
  const { api } = useStudio();
  const { search: params } = useLocation();
  const documentId = params.get('documentId');
  const base = `/v1/contexts/${enc(contextId)}`;
  const documents = useAsync(
    (signal) => api.get<unknown>(`${base}/documents`, signal).then((b) => listOf<DocumentView>(b, 'documents')),
    [contextId],
  );
  const clauses = useAsync(
    (signal) => api.get<unknown>(`${base}/clauses${query({ documentId })}`, signal).then((b) => listOf<Clause>(b, 'clauses')),
    [contextId, documentId],
  );
  const [search, setSearch] = useState('');
  const [kind, setKind] = useState<string | null>(null);
  // A link may name the clause to show (`?clause=<id>`, from a concept's page or its graph).
  const [selected, setSelected] = useState<string | null>(params.get('clause'));
  const linked = params.get('clause');
  useEffect(() => {
    if (!linked) return;
    setSelected(linked);
    requestAnimationFrame(() => document.querySelector(`li[data-clause-id="${CSS.escape(linked)}"]`)?.scrollIntoView({ block: 'center' }));
  }, [linked, clauses.data]);
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());

  const tree = useMemo(() => clauseTree(clauses.data ?? []), [clauses.data]);
  const shown = useMemo(() => filterTree(tree, search, kind), [tree, search, kind]);
  const filtering = search.trim() !== '' || kind !== null;
  const count = useMemo(() => countMatches(shown), [shown]);
  const selectedClause = (clauses.data ?? []).find((c) => c.id === selected) ?? null;
  const kindCounts = useMemo(() => {
    const counts: Record<string, number> = {};
    for (const c of clauses.data ?? []) for (const s of c.statements ?? []) counts[s.kind] = (counts[s.kind] ?? 0) + 1;
    return counts;
  }, [clauses.data]);

  const toggle = (id: string) =>
    setCollapsed((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <section aria-labelledby="clauses-title" className="clauses">
      <h1 id="clauses-title">Clauses</h1>
      <div className="toolbar" role="search">
        <label htmlFor="clause-document">Document</label>
        <select
          id="clause-document"
          value={documentId ?? ''}
          onChange={(e) => navigate(`/contexts/${enc(contextId)}/clauses${query({ documentId: e.target.value })}`, true)}
        >
          <option value="">All current documents</option>
          {(documents.data ?? []).map((d) => (
            <option key={d.id} value={d.id}>
              {d.title ?? d.filename}
            </option>
          ))}
        </select>
        <label htmlFor="clause-search">Search</label>
        <input
          id="clause-search"
          type="search"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          placeholder="words, numbering…"
        />
        <span aria-live="polite" className="muted" data-testid="clause-count">
          {clauses.data ? `${count} of ${clauses.data.length} clauses` : ''}
        </span>
      </div>
      <fieldset className="legend">
        <legend>Statement kinds</legend>
        <button type="button" className={`chip ${kind === null ? 'on' : ''}`} aria-pressed={kind === null} onClick={() => setKind(null)}>
          all
        </button>
        {STATEMENT_KINDS.map((k) => (
          <button
            key={k}
            type="button"
            className={`chip kind kind-${k} ${kind === k ? 'on' : ''}`}
            aria-pressed={kind === k}
            onClick={() => setKind(kind === k ? null : k)}
          >
            {k} {kindCounts[k] ? <span className="count">{kindCounts[k]}</span> : null}
          </button>
        ))}
      </fieldset>
      {clauses.loading && !clauses.data ? <Loading what="clauses" /> : null}
      <ErrorBox error={clauses.error} what="reading the clauses" />
      {clauses.data && clauses.data.length === 0 ? <p>No clauses: upload a document and wait until it is framed.</p> : null}
      <div className="split">
        <ul className="tree" aria-label="Clause numbering tree">
          {shown.map((n) => (
            <TreeItem
              key={n.clause.id}
              node={n}
              selected={selected}
              select={setSelected}
              collapsed={filtering ? new Set() : collapsed}
              toggle={toggle}
            />
          ))}
        </ul>
        <aside className="detail" aria-label="Selected clause" aria-live="polite">
          {selectedClause ? (
            <ClauseDetail clause={selectedClause} />
          ) : (
            <p className="muted">Select a clause to read it and its statements.</p>
          )}
        </aside>
      </div>
    </section>
  );
}

function countMatches(nodes: readonly ClauseNode[]): number {
  return nodes.reduce((n, node) => n + 1 + countMatches(node.children), 0);
}

function TreeItem({
  node,
  selected,
  select,
  collapsed,
  toggle,
}: {
  node: ClauseNode;
  selected: string | null;
  select: (id: string) => void;
  collapsed: Set<string>;
  toggle: (id: string) => void;
}) {
  const c = node.clause;
  const open = !collapsed.has(c.id);
  const heading = c.heading ?? c.title ?? null;
  return (
    <li data-clause-id={c.id} data-numbering={c.numbering}>
      <div className={`tree-row ${selected === c.id ? 'selected' : ''}`}>
        {node.children.length ? (
          <button
            type="button"
            className="twisty"
            aria-expanded={open}
            aria-label={`${open ? 'Collapse' : 'Expand'} ${c.numbering}`}
            onClick={() => toggle(c.id)}
          >
            {open ? '▾' : '▸'}
          </button>
        ) : (
          <span className="twisty" aria-hidden="true" />
        )}
        <button type="button" className="clause-button" aria-pressed={selected === c.id} onClick={() => select(c.id)}>
          <span className="numbering">{c.citation ?? c.numbering}</span> <span className="clause-text">{heading ?? c.text}</span>
        </button>
        <span className="kinds">
          {kindsOf(c).map((k) => (
            <KindBadge key={k} kind={k} />
          ))}
        </span>
      </div>
      {node.children.length && open ? (
        <ul>
          {node.children.map((child) => (
            <TreeItem key={child.clause.id} node={child} selected={selected} select={select} collapsed={collapsed} toggle={toggle} />
          ))}
        </ul>
      ) : null}
    </li>
  );
}

function ClauseDetail({ clause }: { clause: Clause }) {
  return (
    <article>
      <h2>
        {clause.citation ?? clause.numbering} {clause.heading ?? clause.title ?? ''}
      </h2>
      <p className="clause-full">{clause.text}</p>
      <p className="muted small">
        Clause id <code>{clause.id}</code>
      </p>
      <h3>Statements</h3>
      {(clause.statements ?? []).length === 0 ? (
        <p className="muted">No normative statement in this clause.</p>
      ) : (
        <ul className="statements">
          {(clause.statements ?? []).map((s, i) => (
            <li key={s.id ?? i}>
              <KindBadge kind={s.kind} /> {s.sentence ?? s.text ?? s.action ?? ''}
              {s.actor ? <span className="muted small"> — who: {s.actor}</span> : null}
            </li>
          ))}
        </ul>
      )}
    </article>
  );
}
