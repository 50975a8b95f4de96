import { useEffect, useState, type FormEvent } from 'react';
import { ErrorBox, formatTime, Link, Loading, useAsync, useStudio } from '../components/ui';
import { enc, type UploadProgress } from '../lib/api';
import { ACCEPT, formatBytes, mediaTypeOf } from '../lib/media';
import { listOf, type DocumentVersion, type DocumentView, type UploadAnswer } from '../lib/model';

/** The context's documents: upload with progress, framing status, versions. */
export function DocumentsView({ contextId }: { contextId: string }) {
  const { api } = useStudio();
  const base = `/v1/contexts/${enc(contextId)}`;
  const documents = useAsync(
    (signal) => api.get<unknown>(`${base}/documents`, signal).then((b) => listOf<DocumentView>(b, 'documents')),
    [contextId],
  );
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const [uploaded, setUploaded] = useState<UploadAnswer | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [openVersions, setOpenVersions] = useState<string | null>(null);

  // While a document is being framed (or the one just uploaded has not appeared framed yet), poll.
  const pending =
    (documents.data ?? []).some((d) => d.status === 'received') ||
    (uploaded !== null &&
      !(documents.data ?? []).some((d) => d.id === uploaded.documentId && d.status !== 'received' && d.uploadEventId === uploaded.eventId));
  useEffect(() => {
    if (!pending) return;
    const timer = setInterval(documents.reload, 1500);
    return () => clearInterval(timer);
  }, [pending, documents.reload]);

  const upload = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    setError(null);
    setUploaded(null);
    const mediaType = mediaTypeOf(file.name);
    if (!mediaType) {
      setError(new Error(`${file.name}: not a document type the studio reads (${ACCEPT})`));
      return;
    }
    setProgress({ loaded: 0, total: file.size });
    try {
      const answer = await api.upload<UploadAnswer>(`${base}/documents?filename=${enc(file.name)}`, file, mediaType, setProgress);
      setUploaded(answer);
      documents.reload();
    } catch (err) {
      setError(err);
      setProgress(null);
    }
  };

  const pct = progress && progress.total > 0 ? Math.round((progress.loaded / progress.total) * 100) : 0;
  return (
    <section aria-labelledby="documents-title">
      <h1 id="documents-title">Documents</h1>
      <form className="card form upload" onSubmit={upload} aria-label="Upload a policy document">
        <label htmlFor="document-file">Policy document (Markdown, text, HTML, PDF or DOCX)</label>
        <input id="document-file" type="file" accept={ACCEPT} onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
        <button type="submit" disabled={!file || (progress !== null && pct < 100 && !uploaded && !error)}>
          Upload
        </button>
        {progress ? (
          <div className="progress-row">
            <progress id="upload-progress" max={100} value={pct} aria-label="Upload progress">
              {pct} %
            </progress>
            <span aria-live="polite">
              {uploaded
                ? `Uploaded ${file?.name ?? ''} (${formatBytes(uploaded.sizeBytes)}); ${pending ? 'framing…' : 'framed.'}`
                : `${pct} % of ${formatBytes(progress.total)}`}
            </span>
          </div>
        ) : null}
        <ErrorBox error={error} what="uploading" />
      </form>

      {documents.loading && !documents.data ? <Loading what="documents" /> : null}
      <ErrorBox error={documents.error} what="listing the documents" />
      {documents.data && documents.data.length === 0 ? <p>No document yet.</p> : null}
      {documents.data && documents.data.length > 0 ? (
        <table className="table" aria-label="Documents">
          <thead>
            <tr>
              <th scope="col">Document</th>
              <th scope="col">Status</th>
              <th scope="col">Version</th>
              <th scope="col">Clauses</th>
              <th scope="col">Statements</th>
              <th scope="col">Received</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {documents.data.map((d) => (
              <DocumentRow
                key={d.id}
                contextId={contextId}
                document={d}
                open={openVersions === d.id}
                toggle={() => setOpenVersions(openVersions === d.id ? null : d.id)}
              />
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function DocumentRow({
  contextId,
  document: d,
  open,
  toggle,
}: {
  contextId: string;
  document: DocumentView;
  open: boolean;
  toggle: () => void;
}) {
  return (
    <>
      <tr data-document-id={d.id}>
        <td>
          <strong>{d.title ?? d.filename}</strong>
          <div className="muted small">{d.filename}</div>
        </td>
        <td>
          <span className={`status status-${d.status}`}>{d.status}</span>
          {d.error ? <div className="small error-text">{d.error}</div> : null}
        </td>
        <td>{d.version ?? '—'}</td>
        <td>{d.clauseCount ?? '—'}</td>
        <td>{d.statementCount ?? '—'}</td>
        <td>{formatTime(d.receivedAt)}</td>
        <td className="actions">
          {d.status === 'framed' ? <Link to={`/contexts/${enc(contextId)}/clauses?documentId=${enc(d.id)}`}>Clauses</Link> : null}
          <button type="button" className="link" aria-expanded={open} onClick={toggle}>
            Versions
          </button>
        </td>
      </tr>
      {open ? (
        <tr>
          <td colSpan={7}>
            <Versions contextId={contextId} documentId={d.id} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

function Versions({ contextId, documentId }: { contextId: string; documentId: string }) {
  const { api } = useStudio();
  const versions = useAsync(
    (signal) =>
      api
        .get<unknown>(`/v1/contexts/${enc(contextId)}/documents/${enc(documentId)}/versions`, signal)
        .then((b) => listOf<DocumentVersion>(b, 'versions')),
    [contextId, documentId],
  );
  if (versions.loading && !versions.data) return <Loading what="versions" />;
  if (versions.error) return <ErrorBox error={versions.error} what="listing the versions" />;
  return (
    <table className="table inner" aria-label={`Versions of ${documentId}`}>
      <thead>
        <tr>
          <th scope="col">Version</th>
          <th scope="col">Status</th>
          <th scope="col">Clauses</th>
          <th scope="col">Changes against the previous version</th>
          <th scope="col">Received</th>
        </tr>
      </thead>
      <tbody>
        {(versions.data ?? []).map((v) => (
          <tr key={v.version}>
            <td>v{v.version}</td>
            <td>
              {v.status}
              {v.error ? <div className="small error-text">{v.error}</div> : null}
            </td>
            <td>{v.clauseCount ?? '—'}</td>
            <td>
              {v.changes
                ? Object.entries(v.changes)
                    .filter(([, n]) => typeof n === 'number')
                    .map(([k, n]) => `${n} ${k}`)
                    .join(', ')
                : 'first version'}
            </td>
            <td>{formatTime(v.receivedAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
