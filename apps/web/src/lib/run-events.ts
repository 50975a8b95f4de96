import { addEvalPoint, addPoint } from './loss-curve';
import type { CheckpointEvalPoint, LossPoint, TrainingRun } from './model';
import type { ServerSentEvent } from './sse';

/** What the runs view shows of a run while it trains. */
export interface RunLive {
  state: string;
  step: number;
  totalSteps: number | null;
  lossCurve: LossPoint[];
  evalCurve: CheckpointEvalPoint[];
  /** The latest checkpoint evaluation's early-stop standing, when the run asked for early stop. */
  earlyStop: EarlyStopStanding | null;
  etaS: number | null;
  tokensPerS: number | null;
  adapterId: string | null;
  error: string | null;
}

export interface EarlyStopStanding {
  metric: string;
  bestStep: number;
  bestValue: number;
  regressions: number;
  patience: number;
  stopped: boolean;
}

export const FINAL_STATES = new Set(['completed', 'failed', 'cancelled']);

export function liveOf(run: TrainingRun): RunLive {
  return {
    state: run.state,
    step: run.step,
    totalSteps: run.totalSteps,
    lossCurve: run.lossCurve ?? [],
    evalCurve: run.evalCurve ?? [],
    earlyStop: earlyStopOfMetrics(run.adapter?.metrics),
    etaS: null,
    tokensPerS: null,
    adapterId: run.adapterId,
    error: run.error,
  };
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * Folds one event of GET /v1/runs/{id}/events into the run's live state. An event's data is the
 * run's current state (a late subscriber's first event), or a training progress / completed /
 * failed event (its data, or the CloudEvent around it); the kind comes from the SSE event name or
 * the CloudEvent type. Unknown events change nothing.
 */
export function applyRunEvent(live: RunLive, sse: ServerSentEvent): RunLive {
  let payload: unknown;
  try {
    payload = JSON.parse(sse.data);
  } catch {
    return live;
  }
  if (!payload || typeof payload !== 'object') return live;
  let body = payload as Record<string, unknown>;
  let kind = sse.event;
  if (typeof body['type'] === 'string' && body['data'] && typeof body['data'] === 'object') {
    kind = `${kind} ${body['type']}`;
    body = body['data'] as Record<string, unknown>;
  }
  const next: RunLive = { ...live };
  if (Array.isArray(body['lossCurve']))
    next.lossCurve = (body['lossCurve'] as LossPoint[]).filter((p) => num(p.step) !== null && num(p.loss) !== null);
  if (Array.isArray(body['evalCurve'])) next.evalCurve = (body['evalCurve'] as unknown[]).map(evalPoint).filter((p) => p !== null);
  const evaluation = body['checkpointEval'];
  if (body['phase'] === 'checkpoint_eval' && evaluation && typeof evaluation === 'object') {
    const scores = evaluation as Record<string, unknown>;
    const point = evalPoint({ step: body['step'], tokenF1: scores['tokenF1'], heldoutLoss: scores['heldoutLoss'] });
    if (point) next.evalCurve = addEvalPoint(next.evalCurve, point);
    next.earlyStop = earlyStopOf(scores['earlyStop']);
  }
  // A finished run's adapter metrics (a state snapshot's adapter, or training.run.completed) when no evaluation said more.
  const metrics = body['metrics'] ?? (body['adapter'] as Record<string, unknown> | null | undefined)?.['metrics'];
  if (next.earlyStop === null && metrics && typeof metrics === 'object')
    next.earlyStop = earlyStopOfMetrics(metrics as Record<string, number>);
  const step = num(body['step']);
  const loss = num(body['loss']);
  if (step !== null) next.step = step;
  if (step !== null && loss !== null) next.lossCurve = addPoint(next.lossCurve, { step, loss });
  const total = num(body['totalSteps']);
  if (total !== null && total > 0) next.totalSteps = total;
  if ('etaS' in body) next.etaS = num(body['etaS']);
  if ('tokensPerS' in body) next.tokensPerS = num(body['tokensPerS']);
  if (typeof body['adapterId'] === 'string') next.adapterId = body['adapterId'];
  if (typeof body['error'] === 'string') next.error = body['error'];
  if (typeof body['state'] === 'string') next.state = body['state'];
  else if (/completed/.test(kind)) next.state = 'completed';
  else if (/failed/.test(kind)) next.state = 'failed';
  else if (/cancel/.test(kind)) next.state = 'cancelled';
  else if (/progress/.test(kind) && !FINAL_STATES.has(next.state)) next.state = 'running';
  if (next.state === 'completed') next.etaS = 0;
  return next;
}

function evalPoint(value: unknown): CheckpointEvalPoint | null {
  if (!value || typeof value !== 'object') return null;
  const p = value as Record<string, unknown>;
  const step = num(p['step']);
  const tokenF1 = num(p['tokenF1']);
  const heldoutLoss = num(p['heldoutLoss']);
  return step !== null && tokenF1 !== null && heldoutLoss !== null ? { step, tokenF1, heldoutLoss } : null;
}

function earlyStopOf(value: unknown): EarlyStopStanding | null {
  if (!value || typeof value !== 'object') return null;
  const e = value as Record<string, unknown>;
  const [bestStep, bestValue, regressions, patience] = [num(e['bestStep']), num(e['bestValue']), num(e['regressions']), num(e['patience'])];
  if (typeof e['metric'] !== 'string' || bestStep === null || bestValue === null || regressions === null || patience === null) return null;
  return { metric: e['metric'], bestStep, bestValue, regressions, patience, stopped: e['stopped'] === true };
}

/** A finished run's early-stop standing from its adapter's metrics (best_checkpoint_<metric>, early_stopped, …). */
export function earlyStopOfMetrics(metrics: Record<string, number> | undefined): EarlyStopStanding | null {
  if (!metrics || num(metrics['early_stopped']) === null) return null;
  const key = Object.keys(metrics).find((k) => k.startsWith('best_checkpoint_') && k !== 'best_checkpoint_step');
  const bestStep = num(metrics['best_checkpoint_step']);
  const bestValue = key ? num(metrics[key]) : null;
  if (!key || bestStep === null || bestValue === null) return null;
  const stopped = metrics['early_stopped'] === 1;
  // Only the outcome is known here (patience 0: unknown); the regressions are in the progress events.
  return { metric: key.slice('best_checkpoint_'.length), bestStep, bestValue, regressions: 0, patience: 0, stopped };
}
