import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent as ReactKeyboardEvent } from 'react';
import { ErrorBox, formatTime, Link, Loading, section, shortId, useAsync, useStudio } from '../components/ui';
import { enc } from '../lib/api';
import { listOf, type TrainingRun } from '../lib/model';
import {
  BUCKET_HINTS,
  BUCKET_LABELS,
  BUCKETS,
  filterAttacks,
  KEY_OF,
  preferenceProblem,
  redTeamShortcut,
  seedProblem,
  type Bucket,
  type Finding,
  type GeneratedAttack,
  type RedTeamAction,
  type Trial,
} from '../lib/red-team';

/**
 * The red-team workspace: write an attack (or pick one generated from the rules) and see the base
 * and the aligned model answer it side by side; mark the outcome in one of four buckets (keys 1–4),
 * then make the finding a preference pair (p) or a seed for the next round (s) in one action.
 */
export function RedTeamView({ contextId }: { contextId: string }) {
  const { api, me } = useStudio();
  const base = `/v1/contexts/${enc(contextId)}`;
  const canWrite = me.permissions.includes('redteam:write');
  const runs = useAsync(
    (signal) => api.get<unknown>(`${base}/runs`, signal).then((b) => listOf<TrainingRun>(b, 'runs').filter((r) => r.state === 'completed')),
    [contextId],
  );
  const attacks = useAsync(
    (signal) => api.get<{ attacks: GeneratedAttack[]; total: number }>(`${base}/red-team/attacks?limit=1000`, signal),
    [contextId],
  );
  const findings = useAsync(
    (signal) => api.get<{ findings: Finding[]; total: number }>(`${base}/red-team/findings?limit=50`, signal),
    [contextId],
  );

  const [runChoice, setRunChoice] = useState('');
  const runId = runChoice || runs.data?.[0]?.id || '';
  const [mode, setMode] = useState<'write' | 'generated'>('write');
  const [prompt, setPrompt] = useState('');
  const [filter, setFilter] = useState('');
  const [attackId, setAttackId] = useState('');
  const [trial, setTrial] = useState<Trial | null>(null);
  const [finding, setFinding] = useState<Finding | null>(null);
  const [note, setNote] = useState('');
  const [edited, setEdited] = useState('');
  const [editing, setEditing] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const panelRef = useRef<HTMLDivElement>(null);
  const promptRef = useRef<HTMLTextAreaElement>(null);
  const noteRef = useRef<HTMLTextAreaElement>(null);
  const editRef = useRef<HTMLTextAreaElement>(null);

  const shown = filterAttacks(attacks.data?.attacks ?? [], filter).slice(0, 200);
  const picked = (attacks.data?.attacks ?? []).find((a) => a.id === attackId) ?? null;

  const reset = () => {
    setTrial(null);
    setFinding(null);
    setNote('');
    setEdited('');
    setEditing(false);
    setProblem(null);
    setDone(null);
    setError(null);
  };

  const onTry = async (e: FormEvent) => {
    e.preventDefault();
    if (mode === 'write' && !prompt.trim()) return setProblem('write an attack first');
    if (mode === 'generated' && !picked) return setProblem('pick a generated attack first');
    reset();
    setBusy('Asking the base and the aligned model…');
    try {
      const body = mode === 'write' ? { prompt: prompt.trim() } : { attackId: picked?.id };
      const answer = await api.post<Trial>(`${base}/red-team/trials`, { ...body, ...(runId ? { runId } : {}) });
      setTrial(answer);
      panelRef.current?.focus();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };

  const mark = async (bucket: Bucket) => {
    if (!trial) return;
    setBusy(`Marking: ${BUCKET_LABELS[bucket]}…`);
    setError(null);
    setProblem(null);
    try {
      const answer = await api.post<Finding>(`${base}/red-team/findings`, { trialId: trial.id, bucket, note: note.trim() });
      setFinding(answer);
      findings.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };

  const convert = async (to: 'preference' | 'seed') => {
    if (!trial) return;
    const why =
      to === 'preference'
        ? preferenceProblem(finding?.bucket ?? null, edited)
        : seedProblem(finding?.bucket ?? null, edited, trial.clauses.length);
    if (why) return setProblem(why);
    if (!finding) return;
    setBusy(to === 'preference' ? 'Making a preference pair…' : 'Making a seed…');
    setError(null);
    setProblem(null);
    try {
      // The note may have changed since the outcome was marked: the pair's explanation is the note.
      const current =
        note.trim() !== finding.note
          ? await api.post<Finding>(`${base}/red-team/findings`, { trialId: trial.id, bucket: finding.bucket, note: note.trim() })
          : finding;
      const body = edited.trim() ? { editedAnswer: edited.trim() } : {};
      if (to === 'preference') {
        const answer = await api.post<{ preferenceId: string; finding: Finding }>(
          `${base}/red-team/findings/${enc(current.id)}/preference`,
          body,
        );
        setFinding(answer.finding);
        setDone(`Preference ${answer.preferenceId} published (source red-team).`);
      } else {
        const answer = await api.post<{ seedId: string; added: boolean; finding: Finding }>(
          `${base}/red-team/findings/${enc(current.id)}/seed`,
          body,
        );
        setFinding(answer.finding);
        setDone(answer.added ? `Seed ${answer.seedId} added for the next dataset version.` : `Seed ${answer.seedId} was there already.`);
      }
      findings.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };

  const act = (action: RedTeamAction) => {
    if (action === 'next') {
      reset();
      return promptRef.current?.focus();
    }
    if (!trial || busy) return;
    switch (action) {
      case 'preference':
      case 'seed':
        return void convert(action);
      case 'edit':
        setEditing(true);
        return;
      case 'note':
        return noteRef.current?.focus();
      default:
        return void mark(action);
    }
  };
  const actRef = useRef(act);
  actRef.current = act;

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target instanceof HTMLElement ? (e.target as HTMLElement & { type?: string }) : null;
      if (target?.closest('.redteam-ask')) return;
      const action = redTeamShortcut({ key: e.key, ctrlKey: e.ctrlKey, metaKey: e.metaKey, altKey: e.altKey, target });
      if (!action) return;
      e.preventDefault();
      actRef.current(action);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  useEffect(() => {
    if (editing) editRef.current?.focus();
  }, [editing]);

  const leaveField = (e: ReactKeyboardEvent<HTMLElement>) => {
    if (e.key !== 'Escape') return;
    e.preventDefault();
    panelRef.current?.focus();
  };

  return (
    <section aria-labelledby="redteam-title" className="feedback redteam">
      <h1 id="redteam-title">Red team</h1>
      <p className="muted">
        Attack the base and the aligned model side by side, mark each outcome, and turn a finding into a{' '}
        <Link to={`/contexts/${enc(contextId)}/preferences`}>preference pair</Link> or a seed for the next round.
      </p>
      {!canWrite ? <p className="notice">Your role ({me.role}) may read findings but not red-team (it needs redteam:write).</p> : null}
      <ErrorBox error={runs.error} what="listing the runs" />
      {runs.data && runs.data.length === 0 ? <p>No completed run yet: train a model first, then attack it here.</p> : null}

      {canWrite ? (
        <form className="card form redteam-ask" onSubmit={(e) => void onTry(e)} aria-label="Write or replay an attack">
          <div className="inline">
            <label htmlFor="redteam-run">Run</label>
            <select id="redteam-run" value={runId} onChange={(e) => setRunChoice(e.target.value)}>
              {(runs.data ?? []).map((r) => (
                <option key={r.id} value={r.id}>
                  {shortId(r.id)} · {r.baseModel}
                </option>
              ))}
            </select>
            <fieldset className="inline">
              <legend className="sr-only">Attack source</legend>
              <label>
                <input type="radio" name="redteam-mode" checked={mode === 'write'} onChange={() => setMode('write')} /> Write an attack
              </label>
              <label>
                <input type="radio" name="redteam-mode" checked={mode === 'generated'} onChange={() => setMode('generated')} /> Replay a
                generated one
              </label>
            </fieldset>
          </div>
          {mode === 'write' ? (
            <>
              <label htmlFor="redteam-prompt">Attack</label>
              <textarea
                id="redteam-prompt"
                ref={promptRef}
                rows={3}
                value={prompt}
                onChange={(e) => setPrompt(e.target.value)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void onTry(e);
                }}
              />
            </>
          ) : (
            <>
              <ErrorBox error={attacks.error} what="generating the attacks" />
              {attacks.loading && !attacks.data ? <Loading what="generated attacks" /> : null}
              <label htmlFor="redteam-filter">Filter attacks</label>
              <input
                id="redteam-filter"
                value={filter}
                onChange={(e) => setFilter(e.target.value)}
                placeholder="words of the goal or a strategy"
              />
              <label htmlFor="redteam-attack">Generated attack ({attacks.data?.total ?? 0})</label>
              <select id="redteam-attack" value={attackId} onChange={(e) => setAttackId(e.target.value)} size={6}>
                {shown.map((a) => (
                  <option key={a.id} value={a.id}>
                    [{a.strategies.join('+')}] {a.goal}
                  </option>
                ))}
              </select>
              {picked ? (
                <ol className="turns" aria-label="Turns of the attack">
                  {picked.turns.map((t, i) => (
                    <li key={i}>
                      <pre>{t}</pre>
                    </li>
                  ))}
                </ol>
              ) : null}
            </>
          )}
          <button type="submit" disabled={busy !== null || !runId}>
            Attack both models
          </button>
        </form>
      ) : null}

      {busy ? (
        <p role="status" className="muted">
          {busy}
        </p>
      ) : null}
      <ErrorBox error={error} what="the red-team action" />
      {problem ? (
        <p role="alert" className="error" data-testid="redteam-problem">
          {problem}
        </p>
      ) : null}

      {trial ? (
        <div className="card feedback-panel" tabIndex={-1} ref={panelRef} aria-label="Trial" data-trial={trial.id}>
          <h2>Trial</h2>
          {trial.attack ? (
            <p className="muted">
              Goal: {trial.attack.goal} · strategies {trial.attack.strategies.join(' + ')}
            </p>
          ) : null}
          <p className="muted">Clauses: {trial.clauses.length > 0 ? trial.clauses.map((c) => section(c.numbering)).join(', ') : 'none'}</p>
          <div className="answers">
            {(['base', 'aligned'] as const).map((side) => (
              <article key={side} className="answer" data-side={side} aria-label={side === 'base' ? 'Base answer' : 'Aligned answer'}>
                <h3>
                  {side === 'base'
                    ? `Base (${trial.baseModel})`
                    : `Aligned (${shortId(trial.adapterId)}${trial.alignedVariant === 'aligned_rag' ? ' + RAG' : ''})`}
                </h3>
                {trial.turns.map((turn, i) => (
                  <div key={i} className="exchange">
                    {trial.turns.length > 1 ? (
                      <p className="muted">
                        Turn {i + 1}: {turn}
                      </p>
                    ) : null}
                    <pre>{trial.replies[side][i] || '(empty answer)'}</pre>
                  </div>
                ))}
              </article>
            ))}
          </div>
          <fieldset className="buckets">
            <legend>Outcome</legend>
            {BUCKETS.map((b) => (
              <button
                key={b}
                type="button"
                aria-pressed={finding?.bucket === b}
                disabled={busy !== null}
                onClick={() => void mark(b)}
                title={BUCKET_HINTS[b]}
              >
                {KEY_OF[b]} · {BUCKET_LABELS[b]}
              </button>
            ))}
          </fieldset>
          <label htmlFor="redteam-note">Note (x)</label>
          <textarea
            id="redteam-note"
            ref={noteRef}
            rows={2}
            value={note}
            onChange={(e) => setNote(e.target.value)}
            onKeyDown={leaveField}
          />
          {editing || edited ? (
            <>
              <label htmlFor="redteam-edited">The right answer (e)</label>
              <textarea
                id="redteam-edited"
                ref={editRef}
                rows={3}
                value={edited}
                onChange={(e) => setEdited(e.target.value)}
                onKeyDown={leaveField}
              />
            </>
          ) : (
            <button type="button" className="link" onClick={() => setEditing(true)}>
              e · Write the right answer
            </button>
          )}
          <div className="inline">
            <button type="button" disabled={busy !== null} onClick={() => void convert('preference')}>
              p · Make preference pair
            </button>
            <button type="button" disabled={busy !== null} onClick={() => void convert('seed')}>
              s · Make seed
            </button>
            <button type="button" className="link" onClick={() => act('next')}>
              n · Next attack
            </button>
          </div>
          {finding ? (
            <p role="status" data-testid="redteam-finding" data-finding={finding.id} data-bucket={finding.bucket}>
              Marked {BUCKET_LABELS[finding.bucket]} ({finding.id})
              {finding.preference ? ` · preference ${finding.preference.preferenceId}` : ''}
              {finding.seed ? ` · seed ${finding.seed.seedId}` : ''}
            </p>
          ) : null}
          {done ? (
            <p role="status" className="ok" data-testid="redteam-done">
              {done}
            </p>
          ) : null}
        </div>
      ) : null}

      <h2>Findings</h2>
      <ErrorBox error={findings.error} what="listing the findings" />
      {findings.data && findings.data.findings.length === 0 ? <p className="muted">No findings yet.</p> : null}
      {findings.data && findings.data.findings.length > 0 ? (
        <table aria-label="Findings">
          <thead>
            <tr>
              <th>Prompt</th>
              <th>Outcome</th>
              <th>Clauses</th>
              <th>By</th>
              <th>When</th>
              <th>Made into</th>
            </tr>
          </thead>
          <tbody>
            {findings.data.findings.map((f) => (
              <tr key={f.id} data-finding={f.id}>
                <td>{f.prompt.length > 120 ? `${f.prompt.slice(0, 120)}…` : f.prompt}</td>
                <td>{BUCKET_LABELS[f.bucket]}</td>
                <td>{f.clauses.map((c) => section(c.numbering)).join(', ') || '—'}</td>
                <td>{f.author}</td>
                <td>{formatTime(f.updatedAt)}</td>
                <td>
                  {[
                    f.preference ? `preference ${shortId(f.preference.preferenceId)}` : null,
                    f.seed ? `seed ${shortId(f.seed.seedId)}` : null,
                  ]
                    .filter(Boolean)
                    .join(' · ') || '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
