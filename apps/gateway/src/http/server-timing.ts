/**
 * The durations of a request's phases, answered in its `Server-Timing` header (W3C Server Timing:
 * `name;dur=<ms>`, comma-separated), so a client or a benchmark sees where the gateway's time went
 * without a tracing backend. The AuthGuard starts the clock (credential, rate limit); a handler
 * adds its own phases and writes the header.
 */
export class PhaseTimings {
  private readonly phases: { name: string; ms: number }[] = [];
  /** When the clock started (the guard's first look at the request). */
  readonly startedAt: number;
  private last: number;

  constructor(now: number = performance.now()) {
    this.startedAt = now;
    this.last = now;
  }

  /** Adds time to a phase (a phase named twice is one phase: its times add up). */
  add(name: string, ms: number): void {
    const phase = this.phases.find((p) => p.name === name);
    if (phase) phase.ms += ms;
    else this.phases.push({ name, ms });
  }

  /** Adds the time since the previous lap (or the start) to a phase, and starts the next lap. */
  lap(name: string, now: number = performance.now()): void {
    this.add(name, now - this.last);
    this.last = now;
  }

  /** Restarts the lap clock without recording anything (after a phase timed with `add`). */
  resetLap(now: number = performance.now()): void {
    this.last = now;
  }

  /** The header's value: each phase, then `total` since the start. */
  header(now: number = performance.now()): string {
    return [...this.phases, { name: 'total', ms: now - this.startedAt }].map((p) => `${p.name};dur=${p.ms.toFixed(2)}`).join(', ');
  }
}

const TIMINGS = Symbol('studio:phase-timings');

/** The request's phase timings, started on first use. */
export function phaseTimings(request: object): PhaseTimings {
  const holder = request as { [TIMINGS]?: PhaseTimings };
  return (holder[TIMINGS] ??= new PhaseTimings());
}

/**
 * The phases of an upstream's own `Server-Timing` header (`name;dur=x`, other parameters ignored),
 * for passing them on under a prefix. Entries without a duration are left out.
 */
export function parseServerTiming(header: string | null | undefined): { name: string; ms: number }[] {
  if (!header) return [];
  const out: { name: string; ms: number }[] = [];
  for (const entry of header.split(',')) {
    const [name, ...params] = entry.split(';').map((s) => s.trim());
    if (!name) continue;
    const dur = params.find((p) => p.startsWith('dur='));
    const ms = dur === undefined ? NaN : Number(dur.slice(4));
    if (Number.isFinite(ms)) out.push({ name, ms });
  }
  return out;
}
