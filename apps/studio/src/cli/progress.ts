import type { ProgressSink, StageProgress } from '@studio/pipeline';

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const WIDTH = 28;

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

/** `[#######-----------]  7/20  ETA 1 min 05 s  note` (the ETA where the stage gives one) */
export function renderBar(label: string, p: StageProgress, width = WIDTH): string {
  const share = p.total > 0 ? Math.min(1, Math.max(0, p.done / p.total)) : 0;
  const filled = Math.round(share * width);
  const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
  const pct = `${Math.round(share * 100)}%`.padStart(4);
  const eta = p.etaMs !== undefined && p.done < p.total ? `  ETA ${formatDuration(p.etaMs)}` : '';
  return `${label.padEnd(8)} [${bar}] ${pct} ${p.done}/${p.total}${eta}${p.note ? `  ${p.note}` : ''}`;
}

/**
 * Progress bars on stderr, one stage at a time: redrawn in place on a terminal; on anything
 * else (a log file, CI) a plain line at each tenth of the way and at most one every few seconds.
 */
export class ProgressBoard {
  private current: { label: string; began: number; lastLine: number; lastTenth: number } | null = null;

  constructor(
    private readonly out: ProgressOutput,
    private readonly now: () => number = () => performance.now(),
    private readonly plainEveryMs = 5_000,
  ) {}

  /** Starts a stage and returns the sink its use case reports to. */
  stage(label: string): ProgressSink {
    this.finishLine();
    this.current = { label, began: this.now(), lastLine: -Infinity, lastTenth: -1 };
    if (!this.out.isTTY) this.out.write(`${label}: started\n`);
    return (p) => this.update(label, p);
  }

  /** A line of its own (not a bar), e.g. "runtime server ready". */
  note(text: string): void {
    this.finishLine();
    this.out.write(`${text}\n`);
  }

  /** Ends the current stage with its wall time. */
  done(label: string, ms: number, summary = ''): void {
    this.finishLine();
    this.out.write(`${label}: done in ${formatDuration(ms)}${summary ? ` (${summary})` : ''}\n`);
    this.current = null;
  }

  private drawn = false;

  private update(label: string, p: StageProgress): void {
    const current = this.current;
    if (!current || current.label !== label) return;
    if (this.out.isTTY) {
      const line = renderBar(label, p);
      const columns = this.out.columns ?? 120;
      this.out.write(`\r\u001b[2K${line.slice(0, Math.max(20, columns - 1))}`);
      this.drawn = true;
      return;
    }
    const tenth = p.total > 0 ? Math.floor((10 * p.done) / p.total) : 0;
    const t = this.now();
    if (tenth > current.lastTenth && (t - current.lastLine >= this.plainEveryMs || p.done >= p.total)) {
      current.lastTenth = tenth;
      current.lastLine = t;
      this.out.write(`${renderBar(label, p)}\n`);
    }
  }

  private finishLine(): void {
    if (this.drawn) {
      this.out.write('\n');
      this.drawn = false;
    }
  }
}
