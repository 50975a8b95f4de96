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

/** The SVG path and axes of a loss curve: x from 0 to the total steps (or the last step), y from 0 to the highest loss. */
export function lossCurveGeometry(points: readonly LossPoint[], totalSteps: number | null, box: Box): CurveGeometry {
  const sorted = [...points].filter((p) => Number.isFinite(p.loss)).sort((a, b) => a.step - b.step);
  const maxStep = Math.max(1, totalSteps ?? 0, ...sorted.map((p) => p.step));
  const maxLoss = Math.max(1e-9, ...sorted.map((p) => p.loss)) * 1.05;
  const plotW = box.width - box.left - box.right;
  const plotH = box.height - box.top - box.bottom;
  const x = (step: number) => box.left + (step / maxStep) * plotW;
  const y = (loss: number) => box.top + plotH - (loss / maxLoss) * plotH;
  const path = sorted.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.step).toFixed(1)},${y(p.loss).toFixed(1)}`).join(' ');
  const lastPoint = sorted[sorted.length - 1];
  return {
    path,
    xTicks: niceTicks(0, maxStep, 6).map((value) => ({ value, x: x(value) })),
    yTicks: niceTicks(0, maxLoss, 4).map((value) => ({ value, y: y(value) })),
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
