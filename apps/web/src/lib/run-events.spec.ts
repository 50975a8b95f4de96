import type { TrainingRun } from './model';
import { applyRunEvent, liveOf } from './run-events';

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
