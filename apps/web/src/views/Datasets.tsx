import { useState, type FormEvent } from 'react';
import { ErrorBox, formatTime, Link, Loading, percent, shortId, useAsync, useStudio } from '../components/ui';
import { enc } from '../lib/api';
import { listOf, type DatasetVersion } from '../lib/model';

interface GenerationJob {
  jobId: string;
  state: string;
  progress: unknown;
  failedReason: string | null;
  result: { dataset_version_id?: string } | null;
  statusPath: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The context's dataset versions (newest first) and generating a new one. */
export function DatasetsView({ contextId }: { contextId: string }) {
  const { api } = useStudio();
  const base = `/v1/contexts/${enc(contextId)}/datasets`;
  const datasets = useAsync(
    (signal) => api.get<unknown>(base, signal).then((b) => listOf<DatasetVersion>(b, 'datasets', 'versions')),
    [contextId],
  );
  const [seed, setSeed] = useState('42');
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [made, setMade] = useState<string | null>(null);

  const generate = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setMade(null);
    setBusy('Generating the dataset version…');
    try {
      const answer = await api.post<Record<string, unknown>>(base, { seed: Number(seed) });
      let id = typeof answer['id'] === 'string' ? answer['id'] : null;
      if (!id && typeof answer['jobId'] === 'string') {
        // With a teacher the version is made on a queue: follow the job.
        for (;;) {
          const job = await api.get<GenerationJob>(`${base}/jobs/${enc(answer['jobId'])}`);
          if (job.state === 'failed') throw new Error(`the generation failed: ${job.failedReason ?? 'no reason given'}`);
          if (job.state === 'completed') {
            id = job.result?.dataset_version_id ?? null;
            break;
          }
          setBusy(`Generating (${job.state})…`);
          await sleep(1000);
        }
      }
      setMade(id);
      datasets.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };

  return (
    <section aria-labelledby="datasets-title">
      <h1 id="datasets-title">Datasets</h1>
      <form className="card form inline" onSubmit={generate} aria-label="Generate a dataset version">
        <label htmlFor="dataset-seed">Seed</label>
        <input id="dataset-seed" type="number" min={0} value={seed} onChange={(e) => setSeed(e.target.value)} required />
        <button type="submit" disabled={busy !== null}>
          Generate dataset
        </button>
        <span aria-live="polite" role="status">
          {busy ?? (made ? `Dataset version ${shortId(made)} is ready.` : '')}
        </span>
        <ErrorBox error={error} what="generating a dataset version" />
      </form>
      {datasets.loading && !datasets.data ? <Loading what="dataset versions" /> : null}
      <ErrorBox error={datasets.error} what="listing the dataset versions" />
      {datasets.data && datasets.data.length === 0 ? <p>No dataset version yet.</p> : null}
      {datasets.data && datasets.data.length > 0 ? (
        <table className="table" aria-label="Dataset versions">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Created</th>
              <th scope="col">Train</th>
              <th scope="col">Held out</th>
              <th scope="col">Kinds</th>
              <th scope="col">Clause coverage</th>
              <th scope="col">Derived from</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {datasets.data.map((d) => {
              const parent = d.review?.parentDatasetVersionId ?? null;
              const to = `/contexts/${enc(contextId)}/datasets/${enc(d.id)}`;
              return (
                <tr key={d.id} data-dataset-id={d.id}>
                  <td>
                    <Link to={to}>
                      <code title={d.id}>{shortId(d.id)}</code>
                    </Link>
                  </td>
                  <td>{formatTime(d.createdAt)}</td>
                  <td>{d.train?.examples ?? '—'}</td>
                  <td>{d.heldOut?.examples ?? '—'}</td>
                  <td>
                    {Object.entries(d.examplesByKind ?? {})
                      .map(([k, n]) => `${n} ${k}`)
                      .join(', ')}
                  </td>
                  <td>{percent(d.clauseCoverage)}</td>
                  <td>
                    {parent ? (
                      <>
                        review of <code title={parent}>{shortId(parent)}</code>
                        <div className="small muted">
                          {d.review?.approved} approved, {d.review?.edited} edited, {d.review?.rejected} rejected
                        </div>
                      </>
                    ) : (
                      'generated'
                    )}
                  </td>
                  <td className="actions">
                    <Link to={to}>Examples</Link> <Link to={`${to}/review`}>Review</Link>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
