import { useCallback, useEffect, useRef, useState, type FormEvent, type KeyboardEvent as ReactKeyboardEvent } from 'react';
import { ErrorBox, Link, Loading, shortId, useAsync, useStudio } from '../components/ui';
import { enc } from '../lib/api';
import { readCompare, type CompareView as Comparison } from '../lib/compare';
import {
  EMPTY_JUDGEMENT,
  feedbackBody,
  PAIRS,
  pairProblem,
  shortcutOf,
  shuffledPair,
  SOURCE_LABELS,
  type Judgement,
  type PairId,
  type ShownAnswer,
  type ShortcutAction,
} from '../lib/feedback';
import { listOf, type Example, type TrainingRun } from '../lib/model';
import type { ContextValueView } from '../lib/preferences';

interface ContextSettingsView {
  values: null | { values: ContextValueView[] };
}

interface Judged {
  id: string;
  edited: boolean;
  question: string;
}

const LABELS = ['A', 'B'] as const;

/**
 * Human feedback, fast: two answers to the same prompt side by side (from the compare API, in a
 * random order as A and B), judged with the keyboard — 1/2 choose, e edit the better one into the
 * chosen answer, x explain, v tag values, Enter submit, n next — each judgement a preference.
 */
export function FeedbackView({ contextId }: { contextId: string }) {
  const { api, me } = useStudio();
  const base = `/v1/contexts/${enc(contextId)}`;
  const runs = useAsync(
    (signal) => api.get<unknown>(`${base}/runs`, signal).then((b) => listOf<TrainingRun>(b, 'runs').filter((r) => r.state === 'completed')),
    [contextId],
  );
  const settings = useAsync((signal) => api.get<ContextSettingsView>(base, signal), [contextId]);
  const values = [...(settings.data?.values?.values ?? [])].sort((a, b) => a.priority - b.priority);
  const [runChoice, setRunChoice] = useState('');
  const runId = runChoice || runs.data?.[0]?.id || '';
  const run = runs.data?.find((r) => r.id === runId) ?? null;
  const heldOut = useAsync(
    (signal) =>
      run
        ? api.get<unknown>(`${base}/datasets/${enc(run.datasetVersionId)}/held-out`, signal).then((b) => listOf<Example>(b, 'items'))
        : Promise.resolve([] as Example[]),
    [base, run?.datasetVersionId],
  );
  const dataset = useAsync(
    (signal) =>
      run
        ? api.get<{ systemPrompt?: string | null }>(`${base}/datasets/${enc(run.datasetVersionId)}`, signal)
        : Promise.resolve({ systemPrompt: null }),
    [base, run?.datasetVersionId],
  );

  const [mode, setMode] = useState<'prompt' | 'held-out'>('prompt');
  const [prompt, setPrompt] = useState('');
  const [itemIndex, setItemIndex] = useState(0);
  const [pairId, setPairId] = useState<PairId>('base-aligned');
  const [comparison, setComparison] = useState<Comparison | null>(null);
  const [pair, setPair] = useState<[ShownAnswer, ShownAnswer] | null>(null);
  const [judgement, setJudgement] = useState<Judgement>(EMPTY_JUDGEMENT);
  const [editing, setEditing] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [judged, setJudged] = useState<Judged[]>([]);
  const [revealed, setRevealed] = useState<[ShownAnswer, ShownAnswer] | null>(null);

  const panelRef = useRef<HTMLDivElement>(null);
  const editRef = useRef<HTMLTextAreaElement>(null);
  const explainRef = useRef<HTMLTextAreaElement>(null);
  const valuesRef = useRef<HTMLFieldSetElement>(null);
  const promptRef = useRef<HTMLTextAreaElement>(null);

  const showPair = useCallback((found: Comparison, which: PairId) => {
    const shuffled = shuffledPair(found, which, Math.random);
    setJudgement(EMPTY_JUDGEMENT);
    setEditing(false);
    setRevealed(null);
    if (typeof shuffled === 'string') {
      setPair(null);
      setProblem(shuffled);
      return;
    }
    setPair(shuffled);
    setProblem(pairProblem(shuffled));
  }, []);

  const ask = async (item: Example | null) => {
    if (!runId) return;
    setBusy('Asking the models…');
    setError(null);
    setProblem(null);
    setComparison(null);
    setPair(null);
    try {
      const body = item ? { runId, heldOutItemId: item.id } : { runId, prompt: prompt.trim() };
      const found = readCompare(await api.post<unknown>(`${base}/compare`, body));
      setComparison(found);
      showPair(found, pairId);
      panelRef.current?.focus();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };
  const items = heldOut.data ?? [];
  const currentItem = mode === 'held-out' ? (items[itemIndex] ?? null) : null;

  const onAsk = (e: FormEvent) => {
    e.preventDefault();
    void ask(currentItem);
  };

  const submit = async () => {
    if (!comparison || !pair || !run || busy) return;
    const body = feedbackBody(
      {
        question: comparison.question ?? prompt.trim(),
        systemPrompt: dataset.data?.systemPrompt ?? null,
        pair,
        retrievedClauseIds: comparison.retrieved.map((c) => c.clauseId ?? c.id ?? '').filter((id) => id.length > 0),
        heldOutItem: currentItem ? { id: currentItem.id, clauseIds: currentItem.clauseIds ?? [] } : null,
        runId: run.id,
        datasetVersionId: run.datasetVersionId,
      },
      judgement,
    );
    if (typeof body === 'string') {
      setProblem(body);
      return;
    }
    setBusy('Submitting…');
    setError(null);
    setProblem(null);
    try {
      const answer = await api.post<{ preferenceId: string }>(`${base}/feedback`, body);
      setJudged((all) => [{ id: answer.preferenceId, edited: body.editedChosen !== undefined, question: body.prompt }, ...all]);
      setRevealed(pair);
      setEditing(false);
      panelRef.current?.focus();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };

  const next = () => {
    setJudgement(EMPTY_JUDGEMENT);
    setEditing(false);
    setRevealed(null);
    setProblem(null);
    setError(null);
    if (mode === 'held-out' && items.length > 0) {
      const index = (itemIndex + 1) % items.length;
      setItemIndex(index);
      void ask(items[index] ?? null);
    } else {
      setComparison(null);
      setPair(null);
      setPrompt('');
      promptRef.current?.focus();
    }
  };

  const choose = (choice: 0 | 1) => {
    if (!pair || revealed) return;
    setJudgement((j) => ({ ...j, choice, edited: j.choice === choice ? j.edited : null }));
    setProblem(null);
  };

  const act = (action: ShortcutAction) => {
    if (action === 'next') return next();
    if (!pair || revealed) return;
    switch (action) {
      case 'choose-a':
        return choose(0);
      case 'choose-b':
        return choose(1);
      case 'edit':
        if (judgement.choice === null) return setProblem('choose the better answer first (1 for A, 2 for B), then press e to edit it');
        setJudgement((j) => ({ ...j, edited: j.edited ?? pair[j.choice ?? 0].text }));
        setEditing(true);
        return;
      case 'explain':
        return explainRef.current?.focus();
      case 'values':
        return valuesRef.current?.querySelector<HTMLInputElement>('input')?.focus();
      case 'submit':
        return void submit();
    }
  };
  const actRef = useRef(act);
  actRef.current = act;

  // The labelling keys work anywhere in the view but in a field being typed in (there Escape leaves it, Ctrl+Enter submits).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target instanceof HTMLElement ? (e.target as HTMLElement & { type?: string }) : null;
      if (target?.closest('.feedback-ask')) return;
      const action = shortcutOf({ key: e.key, ctrlKey: e.ctrlKey, metaKey: e.metaKey, altKey: e.altKey, target });
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

  const toggleValue = (name: string) =>
    setJudgement((j) => ({ ...j, values: j.values.includes(name) ? j.values.filter((v) => v !== name) : [...j.values, name] }));

  const canJudge = me.permissions.includes('feedback:submit');
  const last = judged[0] ?? null;

  return (
    <section aria-labelledby="feedback-title" className="feedback">
      <h1 id="feedback-title">Feedback</h1>
      <p className="muted">
        Judge two answers to the same prompt; each judgement becomes a preference that the next{' '}
        <Link to={`/contexts/${enc(contextId)}/preferences`}>preference dataset</Link> weighs.
      </p>
      {!canJudge ? (
        <p className="notice">Your role ({me.role}) may read preferences but not judge answers (it needs feedback:submit).</p>
      ) : null}
      <ErrorBox error={runs.error} what="listing the runs" />
      <ErrorBox error={settings.error} what="reading the context's values" />
      {runs.loading && !runs.data ? <Loading what="runs" /> : null}
      {runs.data && runs.data.length === 0 ? <p>No completed run yet: train a model first, then judge its answers here.</p> : null}

      <form className="card form feedback-ask" onSubmit={onAsk} aria-label="Ask for two answers">
        <div className="inline">
          <label htmlFor="feedback-run">Run</label>
          <select id="feedback-run" value={runId} onChange={(e) => setRunChoice(e.target.value)}>
            {(runs.data ?? []).map((r) => (
              <option key={r.id} value={r.id}>
                {shortId(r.id)} · {r.baseModel}
              </option>
            ))}
          </select>
          <label htmlFor="feedback-pair">Answer pair</label>
          <select
            id="feedback-pair"
            value={pairId}
            onChange={(e) => {
              const which = e.target.value as PairId;
              setPairId(which);
              if (comparison) showPair(comparison, which);
            }}
          >
            {PAIRS.map((p) => (
              <option key={p.id} value={p.id}>
                {p.label}
              </option>
            ))}
          </select>
        </div>
        <fieldset className="inline">
          <legend>Prompt</legend>
          <label>
            <input type="radio" name="feedback-mode" checked={mode === 'prompt'} onChange={() => setMode('prompt')} /> type one
          </label>
          <label>
            <input type="radio" name="feedback-mode" checked={mode === 'held-out'} onChange={() => setMode('held-out')} /> a held-out item
          </label>
        </fieldset>
        {mode === 'prompt' ? (
          <>
            <label htmlFor="feedback-prompt">Your prompt</label>
            <textarea
              ref={promptRef}
              id="feedback-prompt"
              rows={2}
              value={prompt}
              onChange={(e) => setPrompt(e.target.value)}
              onKeyDown={(e) => {
                // Ctrl+Enter asks, as Ctrl+Enter submits a judgement.
                if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && prompt.trim()) {
                  e.preventDefault();
                  void ask(null);
                }
              }}
              aria-describedby="feedback-prompt-hint"
              required
            />
            <span id="feedback-prompt-hint" className="muted">
              <kbd>Ctrl</kbd>+<kbd>Enter</kbd> asks
            </span>
          </>
        ) : (
          <>
            <label htmlFor="feedback-item">Held-out item</label>
            <select id="feedback-item" value={String(itemIndex)} onChange={(e) => setItemIndex(Number(e.target.value))}>
              {items.map((item, i) => (
                <option key={item.id} value={String(i)}>
                  {item.question.slice(0, 110)}
                </option>
              ))}
            </select>
            <ErrorBox error={heldOut.error} what="listing the held-out items" />
          </>
        )}
        <button type="submit" disabled={!!busy || !runId || (mode === 'held-out' && !currentItem)}>
          Get answers
        </button>
      </form>

      <p className="muted keys" id="feedback-keys">
        Keys: <kbd>1</kbd>/<kbd>2</kbd> choose A/B · <kbd>e</kbd> edit the better one · <kbd>x</kbd> explain · <kbd>v</kbd> values ·{' '}
        <kbd>Enter</kbd> submit (<kbd>Ctrl</kbd>+<kbd>Enter</kbd> in a field, <kbd>Esc</kbd> leaves it) · <kbd>n</kbd> next
      </p>
      {busy ? (
        <p role="status" className="muted">
          {busy}
        </p>
      ) : null}
      <ErrorBox error={error} what="feedback" />
      {problem ? (
        <p role="alert" className="error" data-testid="feedback-problem">
          {problem}
        </p>
      ) : null}

      <div ref={panelRef} tabIndex={-1} className="feedback-panel" aria-describedby="feedback-keys" aria-label="Judgement">
        {comparison && pair ? (
          <>
            <p>
              <strong>Prompt:</strong> <span data-testid="feedback-question">{comparison.question ?? prompt}</span>
            </p>
            <div className="columns two" role="group" aria-label="Which answer is better?">
              {pair.map((answer, i) => {
                const chosen = judgement.choice === i;
                const label = LABELS[i] as string;
                return (
                  <article
                    key={label}
                    className={`card answer-card pick ${chosen ? 'chosen' : ''}`}
                    data-label={label}
                    aria-labelledby={`feedback-answer-${label}`}
                  >
                    <h2 id={`feedback-answer-${label}`}>
                      Answer {label}
                      {revealed ? <span className="muted"> · {SOURCE_LABELS[answer.source]}</span> : null}
                    </h2>
                    {chosen && editing ? (
                      <>
                        <label htmlFor="feedback-edit">Chosen answer, edited</label>
                        <textarea
                          ref={editRef}
                          id="feedback-edit"
                          rows={6}
                          value={judgement.edited ?? answer.text}
                          onChange={(e) => setJudgement((j) => ({ ...j, edited: e.target.value }))}
                          onKeyDown={leaveField}
                        />
                      </>
                    ) : (
                      <p className="answer-text">{chosen && judgement.edited !== null ? judgement.edited : answer.text}</p>
                    )}
                    {chosen && judgement.edited !== null && judgement.edited !== answer.text && !editing ? (
                      <p className="muted">(edited)</p>
                    ) : null}
                    <button type="button" aria-pressed={chosen} disabled={!!revealed} onClick={() => choose(i as 0 | 1)}>
                      {label} is better ({i + 1})
                    </button>
                  </article>
                );
              })}
            </div>
            <div className="card form">
              <label htmlFor="feedback-explanation">Why is it better? (x)</label>
              <textarea
                ref={explainRef}
                id="feedback-explanation"
                rows={2}
                value={judgement.explanation}
                onChange={(e) => setJudgement((j) => ({ ...j, explanation: e.target.value }))}
                onKeyDown={leaveField}
                disabled={!!revealed}
              />
              <fieldset ref={valuesRef} className="inline values-pick" disabled={!!revealed}>
                <legend>Values it concerns (v)</legend>
                {values.length === 0 ? <span className="muted">The context has no values file.</span> : null}
                {values.map((v) => (
                  <label key={v.name} title={v.description}>
                    <input type="checkbox" checked={judgement.values.includes(v.name)} onChange={() => toggleValue(v.name)} /> {v.name}
                  </label>
                ))}
              </fieldset>
              <div className="inline">
                {!revealed ? (
                  <>
                    {editing ? (
                      <button type="button" onClick={() => setEditing(false)}>
                        Done editing
                      </button>
                    ) : (
                      <button type="button" disabled={judgement.choice === null} onClick={() => act('edit')}>
                        Edit the better answer (e)
                      </button>
                    )}
                    <button type="button" disabled={!!busy || judgement.choice === null} onClick={() => void submit()}>
                      Submit judgement (Enter)
                    </button>
                  </>
                ) : null}
                <button type="button" onClick={next}>
                  Next (n)
                </button>
              </div>
            </div>
          </>
        ) : null}
        {last ? (
          <p role="status" className="notice" data-testid="feedback-result" data-preference-id={last.id}>
            Preference <code>{last.id}</code> recorded{last.edited ? ' (with your edited answer)' : ''}.
          </p>
        ) : null}
      </div>
      {judged.length > 0 ? (
        <div className="card">
          <h2>Judged in this session ({judged.length})</h2>
          <ol className="judged">
            {judged.map((j) => (
              <li key={j.id} data-preference-id={j.id}>
                <code>{j.id}</code> {j.edited ? '(edited) ' : ''}
                <span className="muted">{j.question.slice(0, 100)}</span>
              </li>
            ))}
          </ol>
        </div>
      ) : null}
    </section>
  );
}
