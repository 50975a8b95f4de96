import { useState } from 'react';
import { ErrorBox, KindBadge, Link, Loading, section, useAsync, useStudio } from '../components/ui';
import { enc, query } from '../lib/api';
import { listOf, type DatasetVersion, type Example, type ExamplePage } from '../lib/model';

const PAGE = 25;

/** One dataset version's examples: clauses, kind, label, values; by split and kind, a page at a time. */
export function DatasetView({ contextId, datasetVersionId }: { contextId: string; datasetVersionId: string }) {
  const { api } = useStudio();
  const base = `/v1/contexts/${enc(contextId)}/datasets/${enc(datasetVersionId)}`;
  const [split, setSplit] = useState('train');
  const [kind, setKind] = useState('');
  const [review, setReview] = useState('');
  const [offset, setOffset] = useState(0);
  const version = useAsync((signal) => api.get<DatasetVersion>(base, signal), [base]);
  const examples = useAsync(
    (signal) =>
      api.get<ExamplePage>(`${base}/examples${query({ split, kind, review, offset, limit: PAGE })}`, signal).then((b) => ({
        examples: listOf<Example>(b, 'examples'),
        total: typeof b.total === 'number' ? b.total : null,
      })),
    [base, split, kind, review, offset],
  );
  const total = examples.data?.total ?? null;
  return (
    <section aria-labelledby="dataset-title">
      <h1 id="dataset-title">
        Dataset version <code>{datasetVersionId}</code>
      </h1>
      <p>
        <Link to={`/contexts/${enc(contextId)}/datasets`}>All versions</Link> ·{' '}
        <Link to={`/contexts/${enc(contextId)}/datasets/${enc(datasetVersionId)}/review`}>Review queue</Link>
      </p>
      <ErrorBox error={version.error} what="reading the dataset version" />
      {version.data ? (
        <p className="muted">
          {version.data.train?.examples ?? '?'} training and {version.data.heldOut?.examples ?? '?'} held-out examples · sha256{' '}
          <code>{version.data.sha256?.slice(0, 16)}</code>
          {version.data.conceptCoverage ? (
            <>
              {' '}
              · concepts exercised: {version.data.conceptCoverage.concepts.covered} of {version.data.conceptCoverage.concepts.total} (
              {Math.round(100 * version.data.conceptCoverage.concepts.share)} %), concept–kind pairs{' '}
              {version.data.conceptCoverage.pairs.covered} of {version.data.conceptCoverage.pairs.total}
            </>
          ) : null}
        </p>
      ) : null}
      <div className="toolbar">
        <label htmlFor="example-split">Split</label>
        <select
          id="example-split"
          value={split}
          onChange={(e) => {
            setSplit(e.target.value);
            setOffset(0);
          }}
        >
          <option value="train">train</option>
          <option value="heldOut">held out</option>
        </select>
        <label htmlFor="example-kind">Kind</label>
        <select
          id="example-kind"
          value={kind}
          onChange={(e) => {
            setKind(e.target.value);
            setOffset(0);
          }}
        >
          <option value="">all</option>
          <option value="qa">Q&amp;A</option>
          <option value="scenario">scenario</option>
        </select>
        <label htmlFor="example-review">Review</label>
        <select
          id="example-review"
          value={review}
          onChange={(e) => {
            setReview(e.target.value);
            setOffset(0);
          }}
        >
          <option value="">all</option>
          <option value="unreviewed">not reviewed</option>
          <option value="approved">approved</option>
          <option value="edited">edited</option>
        </select>
      </div>
      {examples.loading && !examples.data ? <Loading what="examples" /> : null}
      <ErrorBox error={examples.error} what="reading the examples" />
      {examples.data ? <ExampleTable examples={examples.data.examples} /> : null}
      <nav className="pager" aria-label="Pages of examples">
        <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
          Previous
        </button>
        <span>
          {offset + 1}–{offset + (examples.data?.examples.length ?? 0)}
          {total !== null ? ` of ${total}` : ''}
        </span>
        <button
          type="button"
          disabled={(examples.data?.examples.length ?? 0) < PAGE || (total !== null && offset + PAGE >= total)}
          onClick={() => setOffset(offset + PAGE)}
        >
          Next
        </button>
      </nav>
    </section>
  );
}

export function ExampleTable({ examples }: { examples: Example[] }) {
  if (examples.length === 0) return <p>No examples here.</p>;
  return (
    <table className="table examples" aria-label="Examples">
      <thead>
        <tr>
          <th scope="col">Question</th>
          <th scope="col">Answer</th>
          <th scope="col">Kind</th>
          <th scope="col">Label</th>
          <th scope="col">Clauses</th>
          <th scope="col">Values</th>
          <th scope="col">Review</th>
        </tr>
      </thead>
      <tbody>
        {examples.map((e) => (
          <tr key={e.id} data-example-id={e.id}>
            <td>{e.question}</td>
            <td>{e.answer}</td>
            <td>
              {e.kind}
              {e.statementKind ? (
                <>
                  {' '}
                  <KindBadge kind={e.statementKind} />
                </>
              ) : null}
            </td>
            <td>{e.label ?? '—'}</td>
            <td>{(e.clauseRefs ?? e.clauseIds).map(section).join(', ')}</td>
            <td>{e.values.join(', ')}</td>
            <td>{e.review ? `${e.review.status} by ${e.review.by}` : '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
