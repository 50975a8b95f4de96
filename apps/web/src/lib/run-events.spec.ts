import type { TrainingRun } from './model';
import { applyRunEvent, earlyStopOfMetrics, liveOf } from './run-events';

const run: TrainingRun = {
  id: 'r1',
  contextId: 'c',
  datasetVersionId: 'd',
  baseModel: 'tiny',
  state: 'requested',
  step: 0,
  totalSteps: null,
  lossCurve: [],
  adapterId: null,
  error: null,
  requestedAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
};
const sse = (event: string, data: unknown) => ({ event, data: JSON.stringify(data), id: null });

describe('applyRunEvent', () => {
  it('takes progress events (bare data or inside a CloudEvent) into the step, the curve and the ETA', () => {
    let live = liveOf(run);
    live = applyRunEvent(live, sse('progress', { phase: 'step', step: 1, totalSteps: 10, loss: 2.5, etaS: 30, tokensPerS: 100 }));
    live = applyRunEvent(
      live,
      sse('message', { type: 'training.run.progress.v1', data: { step: 2, totalSteps: 10, loss: 2.1, etaS: 25 } }),
    );
    expect(live).toMatchObject({ state: 'running', step: 2, totalSteps: 10, etaS: 25, tokensPerS: 100 });
    expect(live.lossCurve).toEqual([
      { step: 1, loss: 2.5 },
      { step: 2, loss: 2.1 },
    ]);
  });

  it('takes a snapshot of the run (what a late subscriber gets first) as it is', () => {
    const live = applyRunEvent(
      liveOf(run),
      sse('state', { ...run, state: 'running', step: 4, totalSteps: 8, lossCurve: [{ step: 4, loss: 1 }] }),
    );
    expect(live).toMatchObject({ state: 'running', step: 4, totalSteps: 8, lossCurve: [{ step: 4, loss: 1 }] });
  });

  it('adds checkpoint evaluations to the score curve and keeps the latest early-stop standing', () => {
    const evaluation = (step: number, tokenF1: number, earlyStop: unknown = null) => ({
      phase: 'checkpoint_eval',
      step,
      totalSteps: 40,
      loss: null,
      checkpointEval: { items: 8, tokenF1, heldoutLoss: 2 - tokenF1, seconds: 1.5, earlyStop },
    });
    let live = applyRunEvent(
      liveOf(run),
      sse('state', { ...run, state: 'running', evalCurve: [{ step: 0, tokenF1: 0.1, heldoutLoss: 1.9 }] }),
    );
    live = applyRunEvent(live, sse('progress', { phase: 'step', step: 20, totalSteps: 40, loss: 1.2 }));
    live = applyRunEvent(
      live,
      sse('message', {
        type: 'training.run.progress.v1',
        data: evaluation(20, 0.3, { metric: 'token_f1', bestStep: 20, bestValue: 0.3, regressions: 0, patience: 2, stopped: false }),
      }),
    );
    expect(live.evalCurve).toEqual([
      { step: 0, tokenF1: 0.1, heldoutLoss: 1.9 },
      { step: 20, tokenF1: 0.3, heldoutLoss: 1.7 },
    ]);
    // An evaluation carries no training loss: the loss curve keeps only real steps.
    expect(live.lossCurve).toEqual([{ step: 20, loss: 1.2 }]);
    expect(live.earlyStop).toEqual({ metric: 'token_f1', bestStep: 20, bestValue: 0.3, regressions: 0, patience: 2, stopped: false });
    // A resumed attempt evaluates step 20 again: the point is replaced, not doubled; a malformed one is ignored.
    live = applyRunEvent(live, sse('progress', evaluation(20, 0.25)));
    live = applyRunEvent(live, sse('progress', { phase: 'checkpoint_eval', step: 30, checkpointEval: { tokenF1: 'high' } }));
    expect(live.evalCurve.map((p) => [p.step, p.tokenF1])).toEqual([
      [0, 0.1],
      [20, 0.25],
    ]);
    expect(live.earlyStop).toBeNull();
  });

  it("reads a finished run's early stop from its adapter's metrics", () => {
    const metrics = { early_stopped: 1, early_stop_step: 30, best_checkpoint_step: 10, best_checkpoint_token_f1: 0.4, artifact_step: 10 };
    expect(liveOf({ ...run, state: 'completed', adapter: { metrics } }).earlyStop).toEqual({
      metric: 'token_f1',
      bestStep: 10,
      bestValue: 0.4,
      regressions: 0,
      patience: 0,
      stopped: true,
    });
    expect(applyRunEvent(liveOf(run), sse('completed', { adapterId: 'a1', metrics })).earlyStop).toMatchObject({
      bestStep: 10,
      stopped: true,
    });
    expect(earlyStopOfMetrics({ train_loss: 1 })).toBeNull();
    expect(earlyStopOfMetrics({ early_stopped: 0, best_checkpoint_step: 40, best_checkpoint_heldout_loss: 1.2 })).toMatchObject({
      metric: 'heldout_loss',
      stopped: false,
    });
  });

  it('ends on completed, failed or cancelled, by event name or CloudEvent type', () => {
    expect(applyRunEvent(liveOf(run), sse('completed', { adapterId: 'a1' }))).toMatchObject({
      state: 'completed',
      adapterId: 'a1',
      etaS: 0,
    });
    expect(applyRunEvent(liveOf(run), sse('message', { type: 'training.run.failed.v1', data: { error: 'OOM' } }))).toMatchObject({
      state: 'failed',
      error: 'OOM',
    });
    expect(applyRunEvent(liveOf(run), sse('cancelled', {})).state).toBe('cancelled');
    // A late progress event does not reopen a finished run.
    const done = applyRunEvent(liveOf(run), sse('completed', {}));
    expect(applyRunEvent(done, sse('progress', { step: 3 })).state).toBe('completed');
  });

  it('ignores what it cannot read', () => {
    const live = liveOf(run);
    expect(applyRunEvent(live, { event: 'progress', data: 'not json', id: null })).toBe(live);
  });
});
