import { Injectable } from '@nestjs/common';
import type { EventBusHealth } from '@studio/ports';

/**
 * One dependency of a service. `check` resolves when the dependency is usable (optionally
 * with a short detail, e.g. "consumer running") and rejects, saying why, when it is not.
 */
export interface ReadinessCheck {
  name: string;
  check(): Promise<string | void>;
}

export interface CheckResult {
  status: 'up' | 'down';
  latencyMs: number;
  detail?: string;
  error?: string;
}

export interface ReadinessReport {
  status: 'ready' | 'not_ready';
  service: string;
  checks: Record<string, CheckResult>;
}

export interface HealthOptions {
  service: string;
  /** Longest a single check may take before it counts as down; default 2000 ms. */
  checkTimeoutMs?: number;
}

export const HEALTH_OPTIONS = Symbol('HEALTH_OPTIONS');

/** A readiness check from what a bus reports of itself (`EventBus.health`): up with its detail, or down saying why. */
export function eventBusCheck(name: string, bus: { health(): EventBusHealth }): ReadinessCheck {
  return {
    name,
    check: async () => {
      const { ready, detail } = bus.health();
      if (!ready) throw new Error(detail);
      return detail;
    },
  };
}

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every check concurrently, each bounded by `timeoutMs`; never throws. */
export async function runChecks(
  checks: readonly ReadinessCheck[],
  timeoutMs: number,
  now: () => number = Date.now,
): Promise<Record<string, CheckResult>> {
  const results = await Promise.all(
    checks.map(async (c): Promise<[string, CheckResult]> => {
      const started = now();
      try {
        const detail = await withTimeout(
          Promise.resolve().then(() => c.check()),
          timeoutMs,
          c.name,
        );
        return [c.name, { status: 'up', latencyMs: now() - started, ...(detail ? { detail } : {}) }];
      } catch (err) {
        return [c.name, { status: 'down', latencyMs: now() - started, error: err instanceof Error ? err.message : String(err) }];
      }
    }),
  );
  return Object.fromEntries(results);
}

/**
 * Where a service's modules register the checks of their dependencies (Mongo, Redis, the
 * event bus...). Readiness is the conjunction of all of them, and is false while shutting down.
 */
@Injectable()
export class HealthRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();
  private shuttingDown = false;
  readonly startedAt = Date.now();

  constructor(readonly options: HealthOptions) {}

  register(check: ReadinessCheck): void {
    if (this.checks.has(check.name)) throw new Error(`readiness check "${check.name}" is registered twice`);
    this.checks.set(check.name, check);
  }

  names(): string[] {
    return [...this.checks.keys()];
  }

  /** From now on /ready answers 503, so load balancers stop sending traffic. */
  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  async report(): Promise<ReadinessReport> {
    const checks = await runChecks([...this.checks.values()], this.options.checkTimeoutMs ?? 2_000);
    if (this.shuttingDown) checks['shutdown'] = { status: 'down', latencyMs: 0, error: 'the service is shutting down' };
    const ready = Object.values(checks).every((c) => c.status === 'up');
    return { status: ready ? 'ready' : 'not_ready', service: this.options.service, checks };
  }
}
