import type { TrainingRunProgressV1 } from '@studio/contracts';
import { formatSse, RunStreamState, type LiveRunEvent, type RunSnapshot } from './run-stream';

const run = (over: Partial<RunSnapshot> = {}): RunSnapshot => ({
  id: 'run-1',
  contextId: 'ctx',
  state: 'running',
  step: 2,
  totalSteps: 10,
  lossCurve: [
    { step: 1, loss: 3 },
    { step: 2, loss: 2.5 },
  ],
  ...over,
});

const progress = (step: number, phase: TrainingRunProgressV1['phase'] = 'step', runId = 'run-1'): LiveRunEvent => ({
  topic: 'training.run.progress.v1',
  id: `progress-${runId}-${phase}-${step}`,
  data: {
    version: 'v1',
    contextId: 'ctx',
    runId,
    phase,
    step,
    totalSteps: 10,
    loss: phase === 'step' ? 3 - step / 10 : null,
    evalLoss: null,
    learningRate: null,
    tokensPerS: null,
    etaS: phase === 'step' ? 10 - step : null,
  },
});
const completed: LiveRunEvent = {
  topic: 'training.run.completed.v1',
  id: 'completed-run-1',
  data: {
    version: 'v1',
    contextId: 'ctx',
    runId: 'run-1',
    method: 'sft',
    baseModel: 'tiny',
    datasetVersionId: 'ds-1',
    adapterId: 'adapter-1',
    artifactUri: '/a',
    metrics: {},
    parentAdapter: null,
    preferenceDatasetId: null,
  },
};
const cancelled: LiveRunEvent = {
  topic: 'training.run.cancelled.v1',
  id: 'cancelled-run-1',
  data: {
    version: 'v1',
    contextId: 'ctx',
    runId: 'run-1',
    step: 4,
    totalSteps: 10,
    cancelledBy: 'key:k1',
    cancelledAt: '2026-01-01T00:00:00.000Z',
  },
};

const names = (messages: { event: string; data: unknown }[]) =>
  messages.map((m) => (m.event === 'progress' ? `progress:${(m.data as { step: number }).step}` : m.event));

describe('RunStreamState', () => {
  it('holds events until the state, then sends the state and only what is newer than it', () => {
    const s = new RunStreamState('run-1');
    expect(s.event(progress(1))).toEqual([]);
    expect(s.event(progress(2))).toEqual([]);
    expect(s.event(progress(3))).toEqual([]);
    const out = s.state(run());
    expect(names(out)).toEqual(['state', 'progress:3']);
    expect(out[0]).toEqual({ event: 'state', id: 'run-1-state-2', data: run() });
    expect(s.ended).toBe(false);
  });

  it('sends each new step once, skips replayed and older steps, and ends with the terminal event', () => {
    const s = new RunStreamState('run-1');
    s.state(run({ state: 'requested', step: 0, totalSteps: null, lossCurve: [] }));
    const sent = [
      progress(0, 'started'),
      progress(1),
      progress(1),
      progress(2),
      progress(2, 'eval'),
      progress(2, 'checkpoint'),
      progress(1),
      progress(3),
      completed,
      progress(4),
    ].flatMap((e) => s.event(e));
    expect(names(sent)).toEqual(['progress:0', 'progress:1', 'progress:2', 'progress:2', 'progress:2', 'progress:3', 'completed']);
    expect(sent.at(-1)).toEqual({ event: 'completed', id: 'completed-run-1', data: completed.data });
    expect(s.ended).toBe(true);
    expect(s.state(run({ state: 'completed' }))).toEqual([]);
  });

  it('sends a checkpoint evaluation after its step, and the next step after it', () => {
    const stream = new RunStreamState('run-1');
    stream.state(run());
    const sent = [progress(3), progress(3, 'checkpoint_eval'), progress(3, 'checkpoint_eval'), progress(4)].flatMap((e) => stream.event(e));
    expect(sent.map((m) => m.id)).toEqual(['progress-run-1-step-3', 'progress-run-1-checkpoint_eval-3', 'progress-run-1-step-4']);
  });

  it('ends right after the state of a finished run, ignoring what was held', () => {
    const s = new RunStreamState('run-1');
    s.event(progress(3));
    expect(names(s.state(run({ state: 'cancelled', step: 4 })))).toEqual(['state']);
    expect(s.ended).toBe(true);
    expect(s.event(cancelled)).toEqual([]);
  });

  it('a terminal event held before the state is sent after it', () => {
    const s = new RunStreamState('run-1');
    s.event(cancelled);
    expect(names(s.state(run()))).toEqual(['state', 'cancelled']);
    expect(s.ended).toBe(true);
  });

  it('a later state is sent only when it is news: a later step, or the end the events missed', () => {
    const s = new RunStreamState('run-1');
    s.state(run());
    s.event(progress(3));
    expect(s.state(run({ step: 3 }))).toEqual([]);
    expect(names(s.state(run({ step: 6 })))).toEqual(['state']);
    // After a state at step 6, an older event is stale.
    expect(s.event(progress(5))).toEqual([]);
    expect(names(s.event(progress(7)))).toEqual(['progress:7']);
    expect(names(s.state(run({ state: 'failed', step: 7 })))).toEqual(['state']);
    expect(s.ended).toBe(true);
  });

  it("ignores another run's events and refuses another run's state", () => {
    const s = new RunStreamState('run-1');
    s.state(run());
    expect(s.event(progress(5, 'step', 'run-2'))).toEqual([]);
    expect(() => s.state(run({ id: 'run-2' }))).toThrow(/run-2 was given to the stream of run run-1/);
  });

  it('writes the SSE wire format: event, id and one data line of JSON', () => {
    expect(formatSse({ event: 'progress', id: 'p-1', data: { step: 1, note: 'a\nb' } })).toBe(
      'event: progress\nid: p-1\ndata: {"step":1,"note":"a\\nb"}\n\n',
    );
  });
});
