import { useState, type FormEvent } from 'react';
import { ErrorBox, formatTime, Link, Loading, shortId, useAsync, useStudio } from '../components/ui';
import { enc } from '../lib/api';
import { listOf, type DatasetVersion, type TrainingRun } from '../lib/model';
import { navigate } from '../lib/router';

/** The context's training runs, and starting one on a dataset version. */
export function RunsView({ contextId }: { contextId: string }) {
  const { api } = useStudio();
  const base = `/v1/contexts/${enc(contextId)}`;
  const runs = useAsync((signal) => api.get<unknown>(`${base}/runs`, signal).then((b) => listOf<TrainingRun>(b, 'runs')), [contextId]);
  const datasets = useAsync(
    (signal) => api.get<unknown>(`${base}/datasets`, signal).then((b) => listOf<DatasetVersion>(b, 'datasets', 'versions')),
    [contextId],
  );
  const [datasetVersionId, setDatasetVersionId] = useState('');
  const [baseModel, setBaseModel] = useState('tiny');
  const [hyper, setHyper] = useState('{}');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const start = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    let hyperparameters: unknown;
    try {
      hyperparameters = JSON.parse(hyper || '{}');
    } catch (err) {
      setError(new Error(`Hyper-parameters: not JSON (${err instanceof Error ? err.message : String(err)})`));
      return;
    }
    const dataset = datasetVersionId || datasets.data?.[0]?.id || '';
    if (!dataset) {
      setError(new Error('Pick a dataset version (generate one on the Datasets page first)'));
      return;
    }
    setBusy(true);
    try {
      const run = await api.post<TrainingRun>(`${base}/runs`, { datasetVersionId: dataset, baseModel: baseModel.trim(), hyperparameters });
      navigate(`/contexts/${enc(contextId)}/runs/${enc(run.id)}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="runs-title">
      <h1 id="runs-title">Training runs</h1>
      <form className="card form" onSubmit={start} aria-labelledby="start-run-title">
        <h2 id="start-run-title">Start a run</h2>
        <label htmlFor="run-dataset">Dataset version</label>
        <select
          id="run-dataset"
          value={datasetVersionId || datasets.data?.[0]?.id || ''}
          onChange={(e) => setDatasetVersionId(e.target.value)}
        >
          {(datasets.data ?? []).length === 0 ? <option value="">no dataset version yet</option> : null}
          {(datasets.data ?? []).map((d, i) => (
            <option key={d.id} value={d.id}>
              {shortId(d.id)} · {d.train?.examples ?? '?'} examples · {formatTime(d.createdAt)}
              {i === 0 ? ' (newest)' : ''}
            </option>
          ))}
        </select>
        <label htmlFor="run-base-model">Base model</label>
        <input id="run-base-model" value={baseModel} onChange={(e) => setBaseModel(e.target.value)} required />
        <label htmlFor="run-hyper">Hyper-parameters (JSON: epochs, max_steps, learning_rate, batch_size, lora_r…)</label>
        <textarea id="run-hyper" rows={3} value={hyper} onChange={(e) => setHyper(e.target.value)} spellCheck={false} />
        <button type="submit" disabled={busy}>
          {busy ? 'Starting…' : 'Start run'}
        </button>
        <ErrorBox error={error} what="starting the run" />
      </form>
      {runs.loading && !runs.data ? <Loading what="runs" /> : null}
      <ErrorBox error={runs.error} what="listing the runs" />
      {runs.data && runs.data.length === 0 ? <p>No run yet.</p> : null}
      {runs.data && runs.data.length > 0 ? (
        <table className="table" aria-label="Runs">
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">State</th>
              <th scope="col">Base model</th>
              <th scope="col">Step</th>
              <th scope="col">Dataset</th>
              <th scope="col">Requested</th>
            </tr>
          </thead>
          <tbody>
            {runs.data.map((r) => (
              <tr key={r.id} data-run-id={r.id}>
                <td>
                  <Link to={`/contexts/${enc(contextId)}/runs/${enc(r.id)}`}>
                    <code title={r.id}>{shortId(r.id)}</code>
                  </Link>
                </td>
                <td>
                  <span className={`status status-${r.state}`}>{r.state}</span>
                </td>
                <td>{r.baseModel}</td>
                <td>
                  {r.step}
                  {r.totalSteps ? ` / ${r.totalSteps}` : ''}
                </td>
                <td>
                  <code title={r.datasetVersionId}>{shortId(r.datasetVersionId)}</code>
                </td>
                <td>{formatTime(r.requestedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
