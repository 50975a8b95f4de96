import { useState, type KeyboardEvent } from 'react';
import { ErrorBox, KindBadge, Link, Loading, section, shortId, useAsync, useStudio } from '../components/ui';
import { enc } from '../lib/api';
import { navigate, useLocation } from '../lib/router';
import { listOf, type DatasetVersion, type Example, type ReviewAction, type ReviewAnswer, type ReviewDecision } from '../lib/model';
import { ConflictQueue } from './Conflicts';

interface Draft {
  action: ReviewAction;
  question: string;
  answer: string;
}

const TABS = [
  ['examples', 'Examples'],
  ['conflicts', 'Conflict candidates'],
] as const;
type Tab = (typeof TABS)[number][0];

/**
 * The review queue: a dataset version's examples (approve, edit, reject → a new dataset version)
 * and the ontology's conflict candidates of the context (confirm, dismiss), on two tabs; the tab
 * is in the address (`?tab=conflicts`). Without a dataset version (/contexts/{id}/review) the
 * examples tab leads to the latest version's queue.
 */
export function ReviewView({ contextId, datasetVersionId }: { contextId: string; datasetVersionId: string | null }) {
  const { api } = useStudio();
  const { path, search } = useLocation();
  const tab: Tab = search.get('tab') === 'conflicts' ? 'conflicts' : 'examples';
  // How many conflict candidates await a decision, on their tab (none before the context has a graph; the tab itself says why on error).
  const pending = useAsync(
    (signal) =>
      api
        .get<{ conflicts: unknown[] }>(`/v1/contexts/${enc(contextId)}/ontology/conflicts?status=candidate`, signal)
        .then((b) => b.conflicts.length),
    [contextId],
  );
  const select = (next: Tab) => {
    navigate(`${path}${next === 'examples' ? '' : `?tab=${next}`}`, true);
    requestAnimationFrame(() => document.getElementById(`review-tab-${next}`)?.focus());
  };
  const onKey = (e: KeyboardEvent<HTMLButtonElement>) => {
    const at = TABS.findIndex(([t]) => t === tab);
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    e.preventDefault();
    select(TABS[(at + step + TABS.length) % TABS.length]?.[0] ?? 'examples');
  };
  return (
    <section aria-labelledby="review-title">
      <h1 id="review-title">Review queue</h1>
      <div role="tablist" aria-label="What to review" className="tabs">
        {TABS.map(([t, label]) => (
          <button
            key={t}
            type="button"
            role="tab"
            id={`review-tab-${t}`}
            aria-selected={tab === t}
            aria-controls={`review-panel-${t}`}
            tabIndex={tab === t ? 0 : -1}
            className={`tab ${tab === t ? 'on' : ''}`}
            onClick={() => select(t)}
            onKeyDown={onKey}
          >
            {label}
            {t === 'conflicts' && pending.data ? (
              <span className="count" data-testid="pending-conflicts">
                {pending.data}
              </span>
            ) : null}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`review-panel-${tab}`} aria-labelledby={`review-tab-${tab}`}>
        {tab === 'conflicts' ? (
          <ConflictQueue contextId={contextId} onDecided={pending.reload} />
        ) : datasetVersionId ? (
          <ExampleQueue contextId={contextId} datasetVersionId={datasetVersionId} />
        ) : (
          <LatestQueue contextId={contextId} />
        )}
      </div>
    </section>
  );
}

/** Where the examples to review are: the latest dataset version's queue. */
function LatestQueue({ contextId }: { contextId: string }) {
  const { api } = useStudio();
  const datasets = useAsync(
    (signal) =>
      api.get<unknown>(`/v1/contexts/${enc(contextId)}/datasets`, signal).then((b) => listOf<DatasetVersion>(b, 'datasets', 'versions')),
    [contextId],
  );
  const latest = [...(datasets.data ?? [])].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))[0];
  return (
    <>
      {datasets.loading && !datasets.data ? <Loading what="the dataset versions" /> : null}
      <ErrorBox error={datasets.error} what="reading the dataset versions" />
      {datasets.data && !latest ? (
        <p>
          No dataset version yet: <Link to={`/contexts/${enc(contextId)}/datasets`}>generate one</Link>, then review its examples.
        </p>
      ) : null}
      {latest ? (
        <p>
          Examples are reviewed per dataset version:{' '}
          <Link to={`/contexts/${enc(contextId)}/datasets/${enc(latest.id)}/review`}>
            the latest version <code title={latest.id}>{shortId(latest.id)}</code>
          </Link>
          , or another one under <Link to={`/contexts/${enc(contextId)}/datasets`}>Datasets</Link>.
        </p>
      ) : null}
    </>
  );
}

/**
 * The review queue of a dataset version: a curator approves, edits or rejects examples; the
 * decisions submitted together make a new, immutable dataset version.
 */
function ExampleQueue({ contextId, datasetVersionId }: { contextId: string; datasetVersionId: string }) {
  const { api } = useStudio();
  const base = `/v1/contexts/${enc(contextId)}/datasets/${enc(datasetVersionId)}`;
  const queue = useAsync(
    (signal) => api.get<unknown>(`${base}/review`, signal).then((b) => listOf<Example>(b, 'examples', 'queue')),
    [base],
  );
  const [drafts, setDrafts] = useState<Record<string, Draft>>({});
  const [editing, setEditing] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [made, setMade] = useState<string | null>(null);

  const decide = (e: Example, action: ReviewAction) => {
    setDrafts((d) => ({ ...d, [e.id]: { action, question: d[e.id]?.question ?? e.question, answer: d[e.id]?.answer ?? e.answer } }));
    setEditing(action === 'edit' ? e.id : null);
  };
  const undo = (id: string) =>
    setDrafts((d) => {
      const next = { ...d };
      delete next[id];
      return next;
    });

  const decisions = (): ReviewDecision[] =>
    Object.entries(drafts).map(([exampleId, d]) => {
      if (d.action !== 'edit') return { exampleId, action: d.action };
      const original = (queue.data ?? []).find((e) => e.id === exampleId);
      const edited: { prompt?: string; response?: string } = {};
      if (d.question !== original?.question) edited.prompt = d.question;
      if (d.answer !== original?.answer) edited.response = d.answer;
      return { exampleId, action: 'edit', edited };
    });

  const submit = async () => {
    setError(null);
    const all = decisions();
    const unchanged = all.find((d) => d.action === 'edit' && d.edited?.prompt === undefined && d.edited?.response === undefined);
    if (unchanged) {
      setError(new Error(`Example ${unchanged.exampleId}: the edit changes nothing; change its question or answer, or approve it instead`));
      return;
    }
    setBusy(true);
    try {
      const answer = await api.post<ReviewAnswer>(`${base}/reviews`, { decisions: all });
      setMade(answer.dataset.id);
      setDrafts({});
      setEditing(null);
      // The reviewed version stays as it was: go on with the new version's queue (what nobody has reviewed yet).
      navigate(`/contexts/${enc(contextId)}/datasets/${enc(answer.dataset.id)}/review`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const count = Object.keys(drafts).length;
  return (
    <>
      <p className="muted">
        Dataset version <code title={datasetVersionId}>{shortId(datasetVersionId)}</code>. Your decisions make a new dataset version; this
        one stays as it is.
      </p>
      <div className="card inline sticky" role="region" aria-label="Decisions">
        <span aria-live="polite">{count === 0 ? 'No decision yet.' : `${count} decision${count === 1 ? '' : 's'} ready.`}</span>
        <button type="button" disabled={busy || count === 0} onClick={() => void submit()}>
          {busy ? 'Submitting…' : 'Submit decisions'}
        </button>
        {made ? (
          <span role="status" data-testid="review-result" data-dataset-id={made}>
            New dataset version{' '}
            <Link to={`/contexts/${enc(contextId)}/datasets/${enc(made)}`}>
              <code>{shortId(made)}</code>
            </Link>{' '}
            made.
          </span>
        ) : null}
        <ErrorBox error={error} what="submitting the review" />
      </div>
      {queue.loading && !queue.data ? <Loading what="the review queue" /> : null}
      <ErrorBox error={queue.error} what="reading the review queue" />
      {queue.data && queue.data.length === 0 ? <p>Nothing awaits review.</p> : null}
      <ol className="review-list">
        {(queue.data ?? []).map((e) => {
          const d = drafts[e.id];
          return (
            <li
              key={e.id}
              className={`card review-item ${d ? `decided-${d.action}` : ''}`}
              data-example-id={e.id}
              aria-label={`Example ${e.id}`}
            >
              <div className="meta">
                <span>{e.kind}</span>
                {e.label ? <span>label: {e.label}</span> : null}
                {e.statementKind ? <KindBadge kind={e.statementKind} /> : null}
                <span>clauses: {(e.clauseRefs ?? e.clauseIds).map(section).join(', ')}</span>
                {e.values.length ? <span>values: {e.values.join(', ')}</span> : null}
              </div>
              {editing === e.id && d ? (
                <div className="form">
                  <label htmlFor={`q-${e.id}`}>Question</label>
                  <textarea
                    id={`q-${e.id}`}
                    value={d.question}
                    rows={2}
                    onChange={(ev) => setDrafts((all) => ({ ...all, [e.id]: { ...d, question: ev.target.value } }))}
                  />
                  <label htmlFor={`a-${e.id}`}>Answer</label>
                  <textarea
                    id={`a-${e.id}`}
                    value={d.answer}
                    rows={4}
                    onChange={(ev) => setDrafts((all) => ({ ...all, [e.id]: { ...d, answer: ev.target.value } }))}
                  />
                  <button type="button" onClick={() => setEditing(null)}>
                    Done editing
                  </button>
                </div>
              ) : (
                <>
                  <p className="question">
                    <span className="sr-only">Question: </span>
                    {d?.action === 'edit' ? d.question : e.question}
                  </p>
                  <p className="answer">
                    <span className="sr-only">Answer: </span>
                    {d?.action === 'edit' ? d.answer : e.answer}
                  </p>
                </>
              )}
              <div className="actions" role="group" aria-label={`Decision on example ${e.id}`}>
                <button type="button" aria-pressed={d?.action === 'approve'} onClick={() => decide(e, 'approve')}>
                  Approve
                </button>
                <button type="button" aria-pressed={d?.action === 'edit'} onClick={() => decide(e, 'edit')}>
                  Edit
                </button>
                <button type="button" aria-pressed={d?.action === 'reject'} onClick={() => decide(e, 'reject')}>
                  Reject
                </button>
                {d ? (
                  <button type="button" className="link" onClick={() => undo(e.id)}>
                    Undo
                  </button>
                ) : null}
                {d ? (
                  <span className="decision">{d.action === 'approve' ? 'approved' : d.action === 'edit' ? 'edited' : 'rejected'}</span>
                ) : null}
              </div>
            </li>
          );
        })}
      </ol>
    </>
  );
}
