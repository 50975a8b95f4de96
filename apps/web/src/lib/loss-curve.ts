import type { LossPoint } from './model';

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
