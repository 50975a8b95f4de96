import { useState } from 'react';
import { ErrorBox, formatTime, Link, Loading, shortId, useAsync, useStudio } from '../components/ui';
import { enc, query } from '../lib/api';
import { listOf } from '../lib/model';
import {
  exportedIds,
  pairRows,
  sourceCounts,
  type PreferenceDatasetView,
  type PreferenceView,
  type ResolutionView,
} from '../lib/preferences';

const SOURCES = ['human', 'synthetic', 'model', 'red-team'] as const;
/** Preferences listed a page at a time; a version's pairs shown a hundred at a time (a version may hold thousands). */
const PAGE = 50;
const PAIRS_SHOWN = 100;
/** Lines of the exported train split shown (the download has them all). */
const EXPORT_LINES = 20;

const clip = (text: string, n = 140) => (text.length > n ? `${text.slice(0, n)}…` : text);
const weight = (w: number | null | undefined) => (w === null || w === undefined ? '—' : w.toFixed(3));

/**
 * The context's preferences and what the aggregation made of them: the preference dataset
 * versions (create the next one; its pairs with their weights, new pairs, counts by source, its
 * train split as exported), the resolutions of conflicts (which preferences, which values, which
 * side won and why), and every preference with its source, values and weight.
 */
export function PreferencesView({ contextId }: { contextId: string }) {
  const { api, me } = useStudio();
  const base = `/v1/contexts/${enc(contextId)}`;
  const [source, setSource] = useState('');
  const [offset, setOffset] = useState(0);
  const preferences = useAsync(
    (signal) => api.get<unknown>(`${base}/preferences${query({ source, limit: PAGE, offset })}`, signal),
    [base, source, offset],
  );
  const items = listOf<PreferenceView>(preferences.data, 'items', 'preferences');
  const total = (preferences.data as { total?: number } | null)?.total ?? items.length;
  // Every preference (for the pairs of a version): unfiltered.
  const all = useAsync(
    async (signal) => {
      const found: PreferenceView[] = [];
      // Page by page (1000 at most each), up to 20,000 preferences.
      for (let page = 0; page < 20; page++) {
        const body = await api.get<unknown>(`${base}/preferences${query({ limit: 1000, offset: found.length })}`, signal);
        const items = listOf<PreferenceView>(body, 'items');
        found.push(...items);
        const count = (body as { total?: number } | null)?.total ?? found.length;
        if (items.length === 0 || found.length >= count) break;
      }
      return found;
    },
    [base],
  );
  const datasets = useAsync(
    (signal) =>
      api
        .get<unknown>(`${base}/preference-datasets`, signal)
        .then((b) => listOf<PreferenceDatasetView>(b, 'datasets', 'versions', 'items')),
    [base],
  );
  const [chosenId, setChosenId] = useState<string | null>(null);
  const selected = datasets.data?.find((d) => d.id === chosenId) ?? datasets.data?.[0] ?? null;
  const resolutions = useAsync(
    (signal) =>
      selected
        ? api
            .get<unknown>(`${base}/resolutions${query({ preferenceDatasetId: selected.id })}`, signal)
            .then((b) => listOf<ResolutionView>(b, 'resolutions', 'items'))
        : Promise.resolve([] as ResolutionView[]),
    [base, selected?.id],
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [made, setMade] = useState<PreferenceDatasetView | null>(null);
  const [exported, setExported] = useState<{ id: string; text: string } | null>(null);
  const [exportError, setExportError] = useState<unknown>(null);
  const [pairsShown, setPairsShown] = useState<'new' | 'all'>('new');
  const [pairSource, setPairSource] = useState('');
  const [pairLimit, setPairLimit] = useState(PAIRS_SHOWN);

  const create = async () => {
    setBusy(true);
    setError(null);
    setMade(null);
    try {
      const dataset = await api.post<PreferenceDatasetView>(`${base}/preference-datasets`, {});
      setMade(dataset);
      setChosenId(dataset.id);
      setExported(null);
      datasets.reload();
      preferences.reload();
      all.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const exportTrain = async (id: string) => {
    setExportError(null);
    try {
      setExported({ id, text: await api.text(`${base}/preference-datasets/${enc(id)}/export`) });
    } catch (err) {
      setExportError(err);
    }
  };

  const download = (id: string, text: string) => {
    const url = URL.createObjectURL(new Blob([text], { type: 'application/jsonl' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${id}.train.jsonl`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  const canPublish = me.permissions.includes('preferences:publish');
  const rows = (selected ? pairRows(selected, all.data ?? []) : []).filter(
    (r) => (pairsShown === 'all' || r.isNew) && (!pairSource || r.preference?.source === pairSource),
  );
  const exportedRows = exported && selected && exported.id === selected.id ? exportedIds(exported.text) : null;

  return (
    <section aria-labelledby="preferences-title">
      <h1 id="preferences-title">Preferences</h1>
      <p className="muted">
        Judgements from the <Link to={`/contexts/${enc(contextId)}/feedback`}>feedback view</Link>, synthetic pairs from the framing, and
        pairs from audited answers; a preference dataset version weighs them (value priority × agreement × source × verdict balance) for DPO
        and the reward model.
      </p>

      <h2>Preference dataset versions</h2>
      <div className="card inline">
        <button type="button" disabled={busy || !canPublish} onClick={() => void create()}>
          {busy ? 'Creating…' : 'Create preference dataset'}
        </button>
        {!canPublish ? <span className="muted">Your role may not publish preference datasets (preferences:publish).</span> : null}
        {made ? (
          <span role="status" data-testid="preference-dataset-result" data-preference-dataset-id={made.id}>
            Preference dataset <code>{shortId(made.id)}</code> created: {made.preferenceIds.length} pairs, {made.newPreferenceIds.length}{' '}
            new.
          </span>
        ) : null}
        <ErrorBox error={error} what="creating a preference dataset" />
      </div>
      <ErrorBox error={datasets.error} what="listing the preference datasets" />
      {datasets.loading && !datasets.data ? <Loading what="preference datasets" /> : null}
      {datasets.data && datasets.data.length === 0 ? <p>No preference dataset yet.</p> : null}
      {datasets.data && datasets.data.length > 0 ? (
        <table className="table" aria-label="Preference dataset versions">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Created</th>
              <th scope="col">Pairs</th>
              <th scope="col">New pairs</th>
              <th scope="col">By source</th>
              <th scope="col">Train / held out</th>
              <th scope="col">Resolutions</th>
              <th scope="col">
                <span className="sr-only">Show</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {datasets.data.map((d) => (
              <tr key={d.id} data-preference-dataset-id={d.id} aria-current={selected?.id === d.id ? 'true' : undefined}>
                <td>
                  <code title={`${d.id}\nsha256 ${d.sha256}`}>{shortId(d.id)}</code>
                  {d.previousId ? <span className="muted"> after {shortId(d.previousId)}</span> : null}
                </td>
                <td>{formatTime(d.createdAt)}</td>
                <td>{d.preferenceIds.length}</td>
                <td>{d.newPreferenceIds.length}</td>
                <td>{sourceCounts(d.bySource)}</td>
                <td>
                  {d.train.examples} / {d.heldOut.examples}
                </td>
                <td>{d.resolutions}</td>
                <td>
                  <button type="button" className="link" aria-pressed={selected?.id === d.id} onClick={() => setChosenId(d.id)}>
                    Show
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}

      {selected ? (
        <div className="card" data-testid="preference-dataset" data-preference-dataset-id={selected.id}>
          <h2>
            Version <code>{shortId(selected.id)}</code>: its pairs
          </h2>
          <div className="toolbar">
            <label htmlFor="pairs-shown">Pairs</label>
            <select
              id="pairs-shown"
              value={pairsShown}
              onChange={(e) => {
                setPairsShown(e.target.value as 'new' | 'all');
                setPairLimit(PAIRS_SHOWN);
              }}
            >
              <option value="new">new in this version</option>
              <option value="all">all it weighs</option>
            </select>
            <label htmlFor="pairs-source">Source</label>
            <select
              id="pairs-source"
              value={pairSource}
              onChange={(e) => {
                setPairSource(e.target.value);
                setPairLimit(PAIRS_SHOWN);
              }}
            >
              <option value="">all</option>
              {SOURCES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
            <span className="muted" data-testid="pair-count">
              {rows.length} pair{rows.length === 1 ? '' : 's'}
            </span>
          </div>
          <table className="table" aria-label="Pairs of the version">
            <thead>
              <tr>
                <th scope="col">Preference</th>
                <th scope="col">Source</th>
                <th scope="col">Chosen answer</th>
                <th scope="col">Values</th>
                <th scope="col" title="priority × agreement × source × verdict balance">
                  Weight
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.slice(0, pairLimit).map((r) => (
                <tr key={r.preferenceId} data-preference-id={r.preferenceId} className={r.weight === 0 ? 'muted' : undefined}>
                  <td>
                    <code>{r.preferenceId}</code>
                    {r.isNew ? <span className="badge">new</span> : null}
                  </td>
                  <td>{r.preference?.source ?? '—'}</td>
                  <td className="answer-text">
                    {r.preference ? clip(r.preference.chosen, 400) : '—'}
                    {r.preference?.edited ? <span className="muted"> (edited)</span> : null}
                  </td>
                  <td>{r.preference?.values.join(', ') || '—'}</td>
                  <td>
                    {weight(r.weight)}{' '}
                    <span className="muted">
                      = {r.components.priority.toFixed(2)} × {r.components.agreement.toFixed(2)} × {r.components.source.toFixed(2)} ×{' '}
                      {(r.components.verdict ?? 1).toFixed(2)}
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {rows.length > pairLimit ? (
            <button type="button" onClick={() => setPairLimit((n) => n + PAIRS_SHOWN)}>
              Show {Math.min(PAIRS_SHOWN, rows.length - pairLimit)} more of {rows.length - pairLimit}
            </button>
          ) : null}
          <div className="inline">
            <button type="button" onClick={() => void exportTrain(selected.id)}>
              Show the train split (JSON lines)
            </button>
            {exported && exported.id === selected.id ? (
              <button type="button" onClick={() => download(selected.id, exported.text)}>
                Download
              </button>
            ) : null}
          </div>
          <ErrorBox error={exportError} what="exporting the version" />
          {exportedRows ? (
            <>
              <p data-testid="exported-count" data-rows={exportedRows.length}>
                {exportedRows.length} rows in the train split
                {selected.heldOut.examples > 0 ? ` (${selected.heldOut.examples} held out to measure the reward model)` : ''}
                {exportedRows.length > EXPORT_LINES ? `; the first ${EXPORT_LINES} below, all of them in the download` : ''}.
              </p>
              <pre className="jsonl" aria-label="Exported JSON lines" tabIndex={0}>
                {(exported?.text ?? '').split('\n').slice(0, EXPORT_LINES).join('\n')}
              </pre>
            </>
          ) : null}

          <h2>Resolutions</h2>
          <ErrorBox error={resolutions.error} what="reading the resolutions" />
          {resolutions.data && resolutions.data.length === 0 ? (
            <p className="muted">No conflict between preferences in this version.</p>
          ) : null}
          {resolutions.data && resolutions.data.length > 0 ? (
            <table className="table" aria-label="Resolutions">
              <thead>
                <tr>
                  <th scope="col">Conflict</th>
                  <th scope="col">Prompt</th>
                  <th scope="col">Preferences (✓ won)</th>
                  <th scope="col">Values</th>
                  <th scope="col">Why</th>
                </tr>
              </thead>
              <tbody>
                {resolutions.data.map((r) => (
                  <tr key={r.id} data-resolution-id={r.id}>
                    <td>{r.kind === 'annotators-disagree' ? 'annotators disagree' : 'values conflict'}</td>
                    <td>{clip(r.prompt)}</td>
                    <td>
                      <ul className="plain">
                        {r.preferenceIds.map((id) => (
                          <li key={id}>
                            <code>{shortId(id)}</code> {r.winnerIds.includes(id) ? <strong aria-label="won">✓</strong> : null}
                          </li>
                        ))}
                      </ul>
                    </td>
                    <td>
                      {r.values.join(', ') || '—'}
                      {r.winningValue ? (
                        <>
                          {' '}
                          → <strong>{r.winningValue}</strong>
                        </>
                      ) : null}
                    </td>
                    <td>{r.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </div>
      ) : null}

      <h2>All preferences</h2>
      <div className="toolbar">
        <label htmlFor="preferences-source">Source</label>
        <select
          id="preferences-source"
          value={source}
          onChange={(e) => {
            setSource(e.target.value);
            setOffset(0);
          }}
        >
          <option value="">all</option>
          {SOURCES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <span className="muted" data-testid="preference-count">
          {total === 0 ? 'none' : `${offset + 1}–${offset + items.length} of ${total}`}
        </span>
        <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
          Previous
        </button>
        <button type="button" disabled={offset + items.length >= total} onClick={() => setOffset(offset + PAGE)}>
          Next
        </button>
      </div>
      <ErrorBox error={preferences.error} what="listing the preferences" />
      {preferences.loading && !preferences.data ? <Loading what="preferences" /> : null}
      {items.length > 0 ? (
        <table className="table" aria-label="Preferences">
          <thead>
            <tr>
              <th scope="col">Preference</th>
              <th scope="col">Source</th>
              <th scope="col">Prompt</th>
              <th scope="col">Chosen / rejected</th>
              <th scope="col">Values</th>
              <th scope="col">Weight</th>
              <th scope="col">By</th>
            </tr>
          </thead>
          <tbody>
            {items.map((p) => (
              <tr key={p.id} data-preference-id={p.id}>
                <td>
                  <code title={p.id}>{shortId(p.id)}</code>
                  <br />
                  <span className="muted">{formatTime(p.createdAt)}</span>
                </td>
                <td>
                  {p.source}
                  {p.rejectedKind ? <span className="muted"> ({p.rejectedKind})</span> : null}
                </td>
                <td>{clip(p.prompt)}</td>
                <td>
                  <p className="pref-chosen">
                    <span className="sr-only">Chosen: </span>✓ {clip(p.chosen, 200)}
                    {p.edited ? <span className="muted"> (edited)</span> : null}
                  </p>
                  <p className="pref-rejected muted">
                    <span className="sr-only">Rejected: </span>✗ {clip(p.rejected, 200)}
                  </p>
                  {p.explanation ? <p className="muted">Why: {clip(p.explanation, 200)}</p> : null}
                </td>
                <td>{p.values.join(', ') || '—'}</td>
                <td>{weight(p.weight)}</td>
                <td>
                  <code>{p.annotator}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : preferences.data ? (
        <p>No preference yet.</p>
      ) : null}
    </section>
  );
}
