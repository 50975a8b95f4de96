import { hostname } from 'node:os';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { CloudEvent } from '@studio/contracts';
import { EVENT_BUS } from '@studio/nest';
import type { EventBus } from '@studio/ports';
import { LIVE_RUN_TOPICS, type LiveRunEvent } from './run-stream';

/**
 * The consumer group of one gateway process: every replica must see every training event (its
 * clients follow runs whose events land on any partition), so each has a group of its own —
 * named after the host and process, so a restarted container (same host name, same pid) takes
 * its group up again instead of leaving one more behind.
 */
export function liveFeedGroupId(base: string, host = hostname(), pid = process.pid): string {
  return `${base}-live-${host}-${pid}`;
}

export type RunEventListener = (event: LiveRunEvent) => void;

function keyOf(tenant: string, runId: string): string {
  return `${tenant}\u0000${runId}`;
}

/**
 * The training events of every run, from the gateway's event bus, handed to whoever follows
 * that run of that tenant (the live streams of GET /v1/runs/{runId}/events). The tenant is the
 * event's own (`tenantid`), so a client only ever sees the events of runs of its own tenant.
 * Subscribes before the bus starts (the bus module starts it once the application has
 * bootstrapped); events of runs nobody follows are dropped.
 */
@Injectable()
export class RunEventHub implements OnModuleInit {
  private readonly logger = new Logger(RunEventHub.name);
  private readonly listeners = new Map<string, Set<RunEventListener>>();

  constructor(@Inject(EVENT_BUS) private readonly bus: EventBus) {}

  onModuleInit(): void {
    for (const topic of LIVE_RUN_TOPICS) {
      this.bus.subscribe(topic, async (event: CloudEvent<LiveRunEvent['data']>) => {
        this.publish(event.tenantid, { topic, id: event.id, data: event.data } as LiveRunEvent);
      });
    }
  }

  /** Follows one run of one tenant; returns the function that stops following it. */
  follow(tenant: string, runId: string, listener: RunEventListener): () => void {
    const key = keyOf(tenant, runId);
    let set = this.listeners.get(key);
    if (!set) {
      set = new Set();
      this.listeners.set(key, set);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(key);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.listeners.delete(key);
    };
  }

  /** Streams open now (for tests and logs). */
  get followers(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  /** Hands an event to the followers of its run; a listener that throws does not stop the others. */
  publish(tenant: string, event: LiveRunEvent): void {
    const set = this.listeners.get(keyOf(tenant, event.data.runId));
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch (error) {
        this.logger.warn({ msg: 'a run event listener failed', runId: event.data.runId, error: (error as Error).message });
      }
    }
  }
}
