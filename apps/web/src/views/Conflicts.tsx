import { useState } from 'react';
import type { ConflictStatus } from '@studio/contracts';
import { ErrorBox, Loading, section, useAsync, useStudio } from '../components/ui';
import { ApiError, enc } from '../lib/api';
import { conflictDecisionBody, decidedStatus, type Conflict, type ConflictDecision } from '../lib/ontology';

const STATUSES: readonly ConflictStatus[] = ['candidate', 'confirmed', 'dismissed'];
const STATUS_LABELS: Record<ConflictStatus, string> = { candidate: 'Candidates', confirmed: 'Confirmed', dismissed: 'Dismissed' };

/**
 * The ontology's conflict candidates in the review queue: two clauses that bind the same actor to
 * the same action with opposite modalities, side by side; a curator confirms or dismisses each
 * (with a reason if they want), and the decision holds for every later version of the graph.
 * The decided ones can be read under their status.
 */
export function ConflictQueue({ contextId, onDecided }: { contextId: string; onDecided?: () => void }) {
  const { api, me } = useStudio();
  const base = `/v1/contexts/${enc(contextId)}/ontology/conflicts`;
  const [status, setStatus] = useState<ConflictStatus>('candidate');
  // null: the context has no ontology yet (404), so nothing to decide.
  const conflicts = useAsync(
    (signal) =>
      api
        .get<{ conflicts: Conflict[] }>(`${base}?status=${status}`, signal)
        .then((b): Conflict[] | null => b.conflicts)
        .catch((e: unknown) => {
          if (e instanceof ApiError && e.status === 404) return null;
          throw e;
        }),
    [base, status],
  );
  const [reasons, setReasons] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<{ id: string; error: unknown } | null>(null);
  const [decided, setDecided] = useState<Record<string, { status: ConflictStatus; reason: string | null }>>({});
  const mayDecide = me.permissions.includes('datasets:curate');

  const decide = async (c: Conflict, decision: ConflictDecision) => {
    setError(null);
    setBusy(c.id);
    try {
      const body = conflictDecisionBody(decision, reasons[c.id] ?? '');
      const answer = await api.post<Partial<Conflict>>(`${base}/${enc(c.id)}`, body);
      setDecided((d) => ({ ...d, [c.id]: { status: answer.status ?? decidedStatus(decision), reason: body.reason ?? null } }));
      onDecided?.();
    } catch (e) {
      setError({ id: c.id, error: e });
    } finally {
      setBusy(null);
    }
  };

  const list = conflicts.data ?? [];
  const open = list.filter((c) => !decided[c.id]).length;
  return (
    <div className="conflicts">
      <p className="muted">
        Pairs of clauses the ontology found binding the same party to the same action with opposite modalities (one obliges or permits what
        the other forbids). Confirm a real conflict, dismiss one that is not (say why, if you like): the decision holds for later versions
        of the graph.
      </p>
      <fieldset className="legend">
        <legend>Status</legend>
        {STATUSES.map((s) => (
          <button
            key={s}
            type="button"
            className={`chip ${status === s ? 'on' : ''}`}
            aria-pressed={status === s}
            onClick={() => setStatus(s)}
          >
            {STATUS_LABELS[s]}
          </button>
        ))}
        <span className="muted" aria-live="polite" data-testid="conflict-count">
          {conflicts.data
            ? `${status === 'candidate' ? open : list.length} ${status === 'candidate' ? 'awaiting a decision' : status}`
            : ''}
        </span>
      </fieldset>
      {!mayDecide && status === 'candidate' ? (
        <p className="notice">Your role ({me.role}) may read the candidates; deciding them needs the permission datasets:curate.</p>
      ) : null}
      {conflicts.loading && !conflicts.data ? <Loading what="the conflict candidates" /> : null}
      <ErrorBox error={conflicts.error} what="reading the conflict candidates" />
      {!conflicts.loading && !conflicts.error && conflicts.data === null ? (
        <p data-testid="conflicts-empty">The context has no ontology yet: its conflict candidates appear once a document is framed.</p>
      ) : null}
      {conflicts.data && list.length === 0 ? (
        <p data-testid="conflicts-empty">
          {status === 'candidate' ? 'No conflict candidate awaits a decision.' : `No ${status} conflict.`}
        </p>
      ) : null}
      <ol className="review-list">
        {list.map((c) => {
          const made = decided[c.id];
          const shownStatus = made?.status ?? c.status ?? 'candidate';
          return (
            <li
              key={c.id}
              className={`card conflict-item ${made ? `decided-${made.status === 'confirmed' ? 'reject' : 'approve'}` : ''}`}
              data-relation-id={c.id}
              data-status={shownStatus}
              aria-label={`Conflict between ${section(c.left.numbering)} and ${section(c.right.numbering)}`}
            >
              <div className="conflict-pair">
                {[c.left, c.right].map((clause, i) => (
                  <div key={`${i}-${clause.clauseId}`} className="conflict-side" data-clause-id={clause.clauseId}>
                    <h3>{section(clause.numbering)}</h3>
                    <p className="clause-full">{clause.text}</p>
                  </div>
                ))}
              </div>
              {c.evidence.length ? (
                <details className="muted small">
                  <summary>Evidence</summary>
                  The statements that gave the candidate: <code>{c.evidence.join(', ')}</code>
                </details>
              ) : null}
              {status === 'candidate' && !made ? (
                <div
                  className="actions"
                  role="group"
                  aria-label={`Decision on ${section(c.left.numbering)} and ${section(c.right.numbering)}`}
                >
                  <label htmlFor={`reason-${c.id}`} className="sr-only">
                    Reason (optional)
                  </label>
                  <input
                    id={`reason-${c.id}`}
                    className="reason"
                    value={reasons[c.id] ?? ''}
                    onChange={(e) => setReasons((r) => ({ ...r, [c.id]: e.target.value }))}
                    placeholder="Reason (optional)"
                    disabled={!mayDecide}
                  />
                  <button type="button" disabled={!mayDecide || busy !== null} onClick={() => void decide(c, 'confirm')}>
                    Confirm conflict
                  </button>
                  <button type="button" disabled={!mayDecide || busy !== null} onClick={() => void decide(c, 'dismiss')}>
                    Dismiss candidate
                  </button>
                  {busy === c.id ? <span className="muted">Saving…</span> : null}
                </div>
              ) : null}
              {made ? (
                <p role="status" className="decision" data-testid="conflict-decision">
                  {made.status === 'confirmed' ? 'Confirmed as a conflict' : 'Dismissed'}
                  {made.reason ? `: ${made.reason}` : ''}.
                </p>
              ) : null}
              {error?.id === c.id ? <ErrorBox error={error.error} what="saving the decision" /> : null}
            </li>
          );
        })}
      </ol>
    </div>
  );
}
