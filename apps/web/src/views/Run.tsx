import { useEffect, useState } from 'react';
import { LossCurve } from '../components/LossCurve';
import { ScoreCurve } from '../components/ScoreCurve';
import { ErrorBox, Link, Loading, shortId, useStudio } from '../components/ui';
import { ApiError, enc } from '../lib/api';
import { formatDuration } from '../lib/loss-curve';
import type { TrainingRun } from '../lib/model';
import { applyRunEvent, FINAL_STATES, liveOf, type RunLive } from '../lib/run-events';

/**
 * One run, live: the loss curve, step and ETA from GET /v1/runs/{id}/events (read with fetch so
 * the Authorization header goes along); if the stream breaks, the run is polled instead. Cancel.
 */
export function RunView({ contextId, runId }: { contextId: string; runId: string }) {
  const { api } = useStudio();
  const [run, setRun] = useState<TrainingRun | null>(null);
  const [live, setLive] = useState<RunLive | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [streamNote, setStreamNote] = useState<string | null>(null);
  const [cancelError, setCancelError] = useState<unknown>(null);
  const [cancelling, setCancelling] = useState(false);

  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const r = await api.get<TrainingRun>(`/v1/runs/${enc(runId)}`, controller.signal);
        setRun(r);
        setLive((prev) => ({ ...liveOf(r), etaS: prev?.etaS ?? null, tokensPerS: prev?.tokensPerS ?? null }));
        if (!FINAL_STATES.has(r.state)) timer = setTimeout(() => void poll(), 2000);
      } catch (err) {
        if (!controller.signal.aborted) setError(err);
      }
    };
    (async () => {
      const r = await api.get<TrainingRun>(`/v1/runs/${enc(runId)}`, controller.signal);
      setRun(r);
      setLive(liveOf(r));
      if (FINAL_STATES.has(r.state)) return;
      try {
        await api.stream(
          `/v1/runs/${enc(runId)}/events`,
          (event) => setLive((prev) => (prev ? applyRunEvent(prev, event) : prev)),
          controller.signal,
        );
      } catch (err) {
        if (controller.signal.aborted) return;
        setStreamNote(
          `Live updates are unavailable (${err instanceof ApiError ? err.message : String(err)}); refreshing every 2 s instead.`,
        );
      }
      // The stream ended (the run finished, or the connection dropped): read the final state, polling until it is final.
      if (!controller.signal.aborted) await poll();
    })().catch((err: unknown) => {
      if (!controller.signal.aborted) setError(err);
    });
    return () => {
      controller.abort();
      if (timer) clearTimeout(timer);
    };
  }, [api, runId]);

  const cancel = async () => {
    setCancelling(true);
    setCancelError(null);
    try {
      const r = await api.post<Partial<TrainingRun>>(`/v1/runs/${enc(runId)}/cancel`);
      setLive((prev) => (prev ? { ...prev, state: typeof r.state === 'string' ? r.state : 'cancelled' } : prev));
    } catch (err) {
      setCancelError(err);
    } finally {
      setCancelling(false);
    }
  };

  if (error) return <ErrorBox error={error} what={`reading run ${runId}`} />;
  if (!run || !live) return <Loading what="the run" />;
  const done = FINAL_STATES.has(live.state);
  const pct = live.totalSteps ? Math.min(100, Math.round((live.step / live.totalSteps) * 100)) : null;
  return (
    <section aria-labelledby="run-title">
      <h1 id="run-title">
        Run <code title={runId}>{shortId(runId)}</code>
      </h1>
      <dl className="facts">
        <div>
          <dt>State</dt>
          <dd>
            <span className={`status status-${live.state}`} data-testid="run-state" aria-live="polite">
              {live.state}
            </span>
          </dd>
        </div>
        <div>
          <dt>Step</dt>
          <dd data-testid="run-step">
            {live.step}
            {live.totalSteps ? ` / ${live.totalSteps}` : ''}
          </dd>
        </div>
        <div>
          <dt>ETA</dt>
          <dd data-testid="run-eta">{done ? '—' : formatDuration(live.etaS)}</dd>
        </div>
        <div>
          <dt>Base model</dt>
          <dd>{run.baseModel}</dd>
        </div>
        <div>
          <dt>Dataset</dt>
          <dd>
            <Link to={`/contexts/${enc(contextId)}/datasets/${enc(run.datasetVersionId)}`}>
              <code>{shortId(run.datasetVersionId)}</code>
            </Link>
          </dd>
        </div>
        {live.tokensPerS ? (
          <div>
            <dt>Throughput</dt>
            <dd>{Math.round(live.tokensPerS)} tokens/s</dd>
          </div>
        ) : null}
      </dl>
      {pct !== null ? (
        <progress max={100} value={pct} aria-label="Training progress">
          {pct} %
        </progress>
      ) : null}
      {streamNote ? (
        <p role="status" className="notice">
          {streamNote}
        </p>
      ) : null}
      {live.error ? <p className="error-text">The run failed: {live.error}</p> : null}
      <LossCurve points={live.lossCurve} totalSteps={live.totalSteps} />
      {live.evalCurve.length > 0 ? <ScoreCurve points={live.evalCurve} totalSteps={live.totalSteps} earlyStop={live.earlyStop} /> : null}
      <div className="actions">
        {!done ? (
          <button type="button" onClick={() => void cancel()} disabled={cancelling}>
            {cancelling ? 'Cancelling…' : 'Cancel run'}
          </button>
        ) : null}
        {live.state === 'completed' ? (
          <>
            <Link to={`/contexts/${enc(contextId)}/runs/${enc(runId)}/audit`}>Open the audit</Link>{' '}
            <Link to={`/contexts/${enc(contextId)}/compare?runId=${enc(runId)}`}>Compare answers</Link>
          </>
        ) : null}
      </div>
      <ErrorBox error={cancelError} what="cancelling the run" />
    </section>
  );
}
