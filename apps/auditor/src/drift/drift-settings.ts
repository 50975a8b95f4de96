import type { DriftMargins } from '@studio/auditing';

export const DRIFT_SETTINGS = Symbol('DRIFT_SETTINGS');

/** The post-deployment drift scoring (DRIFT_* variables of the auditor). */
export interface DriftSettings {
  /** Length of a window, in ms; windows are aligned to multiples of it (DRIFT_WINDOW_MS). */
  windowMs: number;
  /** How long after a window's end its scoring waits for samples still on their way, in ms (DRIFT_SETTLE_MS). */
  settleMs: number;
  /** Fewer samples in a window: it is recorded as too-few-samples and raises nothing (DRIFT_MIN_SAMPLES). */
  minSamples: number;
  /** Per metric, how far below its release figure it may fall (DRIFT_MARGINS). */
  margins: DriftMargins;
}
