import { useState, type FormEvent } from 'react';
import { ErrorBox, formatTime, Link, Loading, useAsync, useStudio } from '../components/ui';
import { listOf, type ContextSummary } from '../lib/model';
import { navigate } from '../lib/router';

/** The tenant's contexts (rule sets), and a form to create one with its values and seed examples. */
export function ContextsView() {
  const { api } = useStudio();
  const contexts = useAsync((signal) => api.get<unknown>('/v1/contexts', signal).then((b) => listOf<ContextSummary>(b, 'contexts')), []);
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [values, setValues] = useState<File | null>(null);
  const [seeds, setSeeds] = useState<File | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      let valuesJson: unknown = null;
      if (values) {
        try {
          valuesJson = JSON.parse(await values.text());
        } catch (err) {
          throw new Error(`${values.name} is not JSON: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      await api.post('/v1/contexts', { id: id.trim(), name: name.trim(), values: valuesJson, seeds: seeds ? await seeds.text() : null });
      navigate(`/contexts/${encodeURIComponent(id.trim())}/documents`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="contexts-title">
      <h1 id="contexts-title">Contexts</h1>
      <p className="muted">
        A context is one rule set: its documents, the datasets made from them, the models trained on them and their audits.
      </p>
      {contexts.loading && !contexts.data ? <Loading what="contexts" /> : null}
      <ErrorBox error={contexts.error} what="listing the contexts" />
      {contexts.data ? (
        contexts.data.length === 0 ? (
          <p>No context yet: create the first one below.</p>
        ) : (
          <table className="table" aria-label="Contexts">
            <thead>
              <tr>
                <th scope="col">Context</th>
                <th scope="col">Name</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {contexts.data.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link to={`/contexts/${encodeURIComponent(c.id)}/documents`}>{c.id}</Link>
                  </td>
                  <td>{c.name ?? ''}</td>
                  <td>{formatTime(c.updatedAt ?? c.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      ) : null}

      <form className="card form" onSubmit={create} aria-labelledby="create-context-title">
        <h2 id="create-context-title">Create a context</h2>
        <label htmlFor="context-id">Context id</label>
        <input id="context-id" value={id} onChange={(e) => setId(e.target.value)} required pattern="[A-Za-z0-9][A-Za-z0-9._\-]*" />
        <label htmlFor="context-name">Name</label>
        <input id="context-name" value={name} onChange={(e) => setName(e.target.value)} required />
        <label htmlFor="context-values">Values file (JSON, optional)</label>
        <input id="context-values" type="file" accept=".json,application/json" onChange={(e) => setValues(e.target.files?.[0] ?? null)} />
        <label htmlFor="context-seeds">Seed examples (JSON lines or qna.yaml, optional)</label>
        <input id="context-seeds" type="file" accept=".jsonl,.yaml,.yml" onChange={(e) => setSeeds(e.target.files?.[0] ?? null)} />
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create context'}
        </button>
        <ErrorBox error={error} what="creating the context" />
      </form>
    </section>
  );
}
