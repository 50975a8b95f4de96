import type { CheckpointEvalPoint, LossPoint } from './model';

export interface CurveGeometry {
  path: string;
  xTicks: { value: number; x: number }[];
  yTicks: { value: number; y: number }[];
  last: { x: number; y: number; point: LossPoint } | null;
}

export interface Box {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** "Nice" tick values (1, 2, 5 × 10^n) covering [min, max], about `count` of them. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (max === min) return [min];
  const raw = (max - min) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/**
 * The SVG path and axes of a loss curve: x from 0 to the total steps (or the last step), y over the
 * losses' own range with a margin (a loss that moves from 11.36 to 11.33 must still be seen to move).
 */
export function lossCurveGeometry(points: readonly LossPoint[], totalSteps: number | null, box: Box): CurveGeometry {
  const sorted = [...points].filter((p) => Number.isFinite(p.loss)).sort((a, b) => a.step - b.step);
  const maxStep = Math.max(1, totalSteps ?? 0, ...sorted.map((p) => p.step));
  const losses = sorted.map((p) => p.loss);
  const lo = losses.length ? Math.min(...losses) : 0;
  const hi = losses.length ? Math.max(...losses) : 1;
  const pad = hi > lo ? (hi - lo) * 0.1 : Math.max(Math.abs(hi) * 0.05, 0.01);
  const yMin = lo >= 0 ? Math.max(0, lo - pad) : lo - pad;
  const yMax = hi + pad;
  const plotW = box.width - box.left - box.right;
  const plotH = box.height - box.top - box.bottom;
  const x = (step: number) => box.left + (step / maxStep) * plotW;
  const y = (loss: number) => box.top + plotH - ((loss - yMin) / (yMax - yMin)) * plotH;
  const path = sorted.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.step).toFixed(1)},${y(p.loss).toFixed(1)}`).join(' ');
  const lastPoint = sorted[sorted.length - 1];
  return {
    path,
    xTicks: niceTicks(0, maxStep, 6).map((value) => ({ value, x: x(value) })),
    yTicks: niceTicks(yMin, yMax, 4)
      .filter((value) => value >= yMin && value <= yMax)
      .map((value) => ({ value, y: y(value) })),
    last: lastPoint ? { x: x(lastPoint.step), y: y(lastPoint.loss), point: lastPoint } : null,
  };
}

/** A y scale over `values` with a 10 % margin (a flat series sits in the middle), clamped to [floor, ceiling]. */
function yScale(values: readonly number[], floor: number, ceiling: number): { min: number; max: number } {
  const lo = values.length ? Math.min(...values) : floor;
  const hi = values.length ? Math.max(...values) : Math.min(ceiling, floor + 1);
  const pad = hi > lo ? (hi - lo) * 0.1 : Math.max(Math.abs(hi) * 0.05, 0.01);
  return { min: Math.max(floor, lo - pad), max: Math.min(ceiling, hi + pad) };
}

export interface ScoreCurveGeometry {
  /** Token F1 (left axis) and held-out loss (right axis) through the evaluations, in step order. */
  f1Path: string;
  lossPath: string;
  dots: { x: number; f1Y: number; lossY: number; point: CheckpointEvalPoint }[];
  xTicks: { value: number; x: number }[];
  f1Ticks: { value: number; y: number }[];
  lossTicks: { value: number; y: number }[];
}

/**
 * The checkpoint evaluations drawn over the same steps as the loss curve: token F1 on a left axis within [0, 1],
 * the held-out loss on a right axis, each over its own range with a margin (a score that moves from 0.21 to 0.24 must
 * be seen to move).
 */
export function scoreCurveGeometry(points: readonly CheckpointEvalPoint[], totalSteps: number | null, box: Box): ScoreCurveGeometry {
  const sorted = [...points].filter((p) => Number.isFinite(p.tokenF1) && Number.isFinite(p.heldoutLoss)).sort((a, b) => a.step - b.step);
  const maxStep = Math.max(1, totalSteps ?? 0, ...sorted.map((p) => p.step));
  const f1 = yScale(
    sorted.map((p) => p.tokenF1),
    0,
    1,
  );
  const loss = yScale(
    sorted.map((p) => p.heldoutLoss),
    0,
    Number.POSITIVE_INFINITY,
  );
  const plotW = box.width - box.left - box.right;
  const plotH = box.height - box.top - box.bottom;
  const x = (step: number) => box.left + (step / maxStep) * plotW;
  const y = (v: number, s: { min: number; max: number }) => box.top + plotH - ((v - s.min) / (s.max - s.min || 1)) * plotH;
  const path = (value: (p: CheckpointEvalPoint) => number, s: { min: number; max: number }) =>
    sorted.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.step).toFixed(1)},${y(value(p), s).toFixed(1)}`).join(' ');
  const ticks = (s: { min: number; max: number }) =>
    niceTicks(s.min, s.max, 4)
      .filter((value) => value >= s.min && value <= s.max)
      .map((value) => ({ value, y: y(value, s) }));
  return {
    f1Path: path((p) => p.tokenF1, f1),
    lossPath: path((p) => p.heldoutLoss, loss),
    dots: sorted.map((point) => ({ x: x(point.step), f1Y: y(point.tokenF1, f1), lossY: y(point.heldoutLoss, loss), point })),
    xTicks: niceTicks(0, maxStep, 6).map((value) => ({ value, x: x(value) })),
    f1Ticks: ticks(f1),
    lossTicks: ticks(loss),
  };
}

/** Merges a checkpoint evaluation into the curve (a resumed attempt replaces the evaluations from its checkpoint on). */
export function addEvalPoint(curve: readonly CheckpointEvalPoint[], point: CheckpointEvalPoint): CheckpointEvalPoint[] {
  return [...curve.filter((p) => p.step < point.step), point];
}

/** Merges a step's loss into a curve (a resumed attempt replaces the steps from its checkpoint on). */
export function addPoint(curve: readonly LossPoint[], point: LossPoint): LossPoint[] {
  return [...curve.filter((p) => p.step < point.step), point];
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
