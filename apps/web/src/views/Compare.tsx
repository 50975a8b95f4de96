import { useState, type FormEvent } from 'react';
import { ErrorBox, Loading, section, shortId, useAsync, useStudio } from '../components/ui';
import { enc } from '../lib/api';
import { readCompare, type CompareView as Comparison } from '../lib/compare';
import { BUCKET_LABELS, listOf, VARIANT_LABELS, type Example, type TrainingRun } from '../lib/model';
import { useLocation } from '../lib/router';

/** A prompt (or a held-out item) answered by the base model, the aligned model and the aligned model with retrieval, side by side. */
export function CompareView({ contextId }: { contextId: string }) {
  const { api } = useStudio();
  const { search } = useLocation();
  const base = `/v1/contexts/${enc(contextId)}`;
  const runs = useAsync(
    (signal) => api.get<unknown>(`${base}/runs`, signal).then((b) => listOf<TrainingRun>(b, 'runs').filter((r) => r.state === 'completed')),
    [contextId],
  );
  const [runChoice, setRunChoice] = useState(search.get('runId') ?? '');
  const runId = runChoice || runs.data?.[0]?.id || '';
  const run = runs.data?.find((r) => r.id === runId) ?? null;
  const heldOut = useAsync(
    (signal) =>
      run
        ? api
            .get<unknown>(`${base}/datasets/${enc(run.datasetVersionId)}/held-out`, signal)
            .then((b) => listOf<Example>(b, 'items', 'examples', 'heldOut'))
        : Promise.resolve([] as Example[]),
    [base, run?.datasetVersionId],
  );
  const [mode, setMode] = useState<'prompt' | 'held-out'>('prompt');
  const [prompt, setPrompt] = useState('');
  const [itemId, setItemId] = useState('');
  const [result, setResult] = useState<Comparison | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const compare = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const heldOutItemId = itemId || heldOut.data?.[0]?.id || '';
      const body = mode === 'prompt' ? { prompt: prompt.trim(), runId } : { heldOutItemId, runId };
      setResult(readCompare(await api.post<unknown>(`${base}/compare`, body)));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="compare-title" className="compare">
      <h1 id="compare-title">Compare answers</h1>
      {runs.loading && !runs.data ? <Loading what="runs" /> : null}
      <ErrorBox error={runs.error} what="listing the runs" />
      {runs.data && runs.data.length === 0 ? <p>No completed run yet: train a model first.</p> : null}
      <form className="card form" onSubmit={compare} aria-label="Compare the models on a prompt">
        <label htmlFor="compare-run">Aligned model (run)</label>
        <select id="compare-run" value={runId} onChange={(e) => setRunChoice(e.target.value)}>
          {(runs.data ?? []).map((r) => (
            <option key={r.id} value={r.id}>
              {shortId(r.id)} · {r.baseModel}
            </option>
          ))}
        </select>
        <fieldset className="inline">
          <legend>Ask</legend>
          <label>
            <input type="radio" name="compare-mode" checked={mode === 'prompt'} onChange={() => setMode('prompt')} /> a prompt
          </label>
          <label>
            <input type="radio" name="compare-mode" checked={mode === 'held-out'} onChange={() => setMode('held-out')} /> a held-out item
            (scored)
          </label>
        </fieldset>
        {mode === 'prompt' ? (
          <>
            <label htmlFor="compare-prompt">Prompt</label>
            <textarea id="compare-prompt" rows={3} value={prompt} onChange={(e) => setPrompt(e.target.value)} required />
          </>
        ) : (
          <>
            <label htmlFor="compare-item">Held-out item</label>
            <select id="compare-item" value={itemId || heldOut.data?.[0]?.id || ''} onChange={(e) => setItemId(e.target.value)}>
              {(heldOut.data ?? []).map((item) => (
                <option key={item.id} value={item.id}>
                  {item.question.slice(0, 110)}
                </option>
              ))}
            </select>
            <ErrorBox error={heldOut.error} what="listing the held-out items" />
          </>
        )}
        <button type="submit" disabled={busy || !runId}>
          {busy ? 'Asking the three models…' : 'Compare'}
        </button>
        <ErrorBox error={error} what="comparing" />
      </form>
      {result ? <ComparisonResult result={result} /> : null}
    </section>
  );
}

function ComparisonResult({ result }: { result: Comparison }) {
  return (
    <div aria-live="polite">
      {result.question ? (
        <p>
          <strong>Question:</strong> {result.question}
        </p>
      ) : null}
      {result.reference ? (
        <p>
          <strong>Reference answer:</strong> {result.reference}
        </p>
      ) : null}
      {result.bucket ? (
        <p data-testid="compare-bucket">
          <strong>Outcome:</strong> {BUCKET_LABELS[result.bucket] ?? result.bucket}
        </p>
      ) : null}
      <div className="columns" role="list" aria-label="Answers side by side">
        {result.sides.map((side) => (
          <article
            key={side.variant}
            className="card answer-card"
            role="listitem"
            aria-labelledby={`answer-${side.variant}`}
            data-variant={side.variant}
          >
            <h2 id={`answer-${side.variant}`}>{VARIANT_LABELS[side.variant]}</h2>
            <p className="answer-text">{side.answer || <span className="muted">(empty answer)</span>}</p>
            {Object.keys(side.scores).length ? (
              <dl className="scores">
                {Object.entries(side.scores).map(([k, v]) => (
                  <div key={k}>
                    <dt>{k}</dt>
                    <dd>{typeof v === 'number' ? v.toFixed(3) : String(v)}</dd>
                  </div>
                ))}
              </dl>
            ) : null}
          </article>
        ))}
      </div>
      <h2>Retrieved clauses</h2>
      {result.retrieved.length === 0 ? (
        <p className="muted">No clause was retrieved.</p>
      ) : (
        <table className="table" aria-label="Retrieved clauses">
          <thead>
            <tr>
              <th scope="col">Clause</th>
              <th scope="col">Text</th>
              <th scope="col">Score</th>
            </tr>
          </thead>
          <tbody>
            {result.retrieved.map((c, i) => (
              <tr key={c.clauseId ?? c.id ?? i}>
                <td>{section(c.citation ?? c.numbering ?? c.clauseId ?? c.id ?? '')}</td>
                <td>
                  {(c.heading ?? c.title) ? <strong>{c.heading ?? c.title} </strong> : null}
                  {c.text}
                </td>
                <td>{typeof c.score === 'number' ? c.score.toFixed(3) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
