import {
  TRAINING_RUN_CANCELLED_V1,
  TRAINING_RUN_COMPLETED_V1,
  TRAINING_RUN_FAILED_V1,
  TRAINING_RUN_PROGRESS_V1,
  type TrainingRunCancelledV1,
  type TrainingRunCompletedV1,
  type TrainingRunFailedV1,
  type TrainingRunProgressV1,
} from '@studio/contracts';
import { z } from 'zod';

/** The topics the live feed of a run follows. */
export const LIVE_RUN_TOPICS = [
  TRAINING_RUN_PROGRESS_V1,
  TRAINING_RUN_COMPLETED_V1,
  TRAINING_RUN_FAILED_V1,
  TRAINING_RUN_CANCELLED_V1,
] as const;

/** One training event of a run, as the gateway receives it from the event bus. */
export type LiveRunEvent =
  | { topic: typeof TRAINING_RUN_PROGRESS_V1; id: string; data: TrainingRunProgressV1 }
  | { topic: typeof TRAINING_RUN_COMPLETED_V1; id: string; data: TrainingRunCompletedV1 }
  | { topic: typeof TRAINING_RUN_FAILED_V1; id: string; data: TrainingRunFailedV1 }
  | { topic: typeof TRAINING_RUN_CANCELLED_V1; id: string; data: TrainingRunCancelledV1 };

/**
 * What the stream needs of the instructor's run (GET /v1/runs/{runId}); the rest of the run is
 * passed through to the client untouched.
 */
export const RunSnapshot = z
  .object({
    id: z.string().min(1),
    contextId: z.string().min(1),
    state: z.enum(['requested', 'running', 'completed', 'failed', 'cancelled']),
    step: z.number().int().nonnegative(),
    totalSteps: z.number().int().nonnegative().nullable(),
  })
  .passthrough();
export type RunSnapshot = z.infer<typeof RunSnapshot>;

/** The SSE event names of GET /v1/runs/{runId}/events. */
export type RunStreamEventName = 'state' | 'progress' | 'completed' | 'failed' | 'cancelled';

export interface RunStreamMessage {
  event: RunStreamEventName;
  /** The SSE `id:` (the CloudEvent id; the run id and its step for a `state`). */
  id: string;
  data: unknown;
}

const TERMINAL: Record<RunSnapshot['state'], boolean> = {
  requested: false,
  running: false,
  completed: true,
  failed: true,
  cancelled: true,
};

const EVENT_NAME: Record<LiveRunEvent['topic'], RunStreamEventName> = {
  [TRAINING_RUN_PROGRESS_V1]: 'progress',
  [TRAINING_RUN_COMPLETED_V1]: 'completed',
  [TRAINING_RUN_FAILED_V1]: 'failed',
  [TRAINING_RUN_CANCELLED_V1]: 'cancelled',
};

/**
 * What one client of a run's live feed is sent, and when its stream ends. The client subscribes
 * to the run's events first and then reads the run's current state, so nothing falls between the
 * two: events that arrive before the state are held, and after the state only what is newer than
 * it is sent. The first message is always `state` (the run as the instructor has it, loss curve
 * included); then `progress` for each new step (a replayed or older step is skipped); the stream
 * ends with `completed`, `failed` or `cancelled` — or right after `state` when the run had already
 * finished. A later state (a periodic re-read, in case an event was missed) is sent only when it
 * tells the client something new: a later step, or the end.
 */
export class RunStreamState {
  private held: LiveRunEvent[] | null = [];
  private lastStep = -1;
  private lastPhase: TrainingRunProgressV1['phase'] | null = null;
  private finished = false;
  private readonly sent = new Set<string>();

  constructor(readonly runId: string) {}

  /** True once the stream has sent its last message. */
  get ended(): boolean {
    return this.finished;
  }

  /** The run's state, read from its owner: the first one opens the stream, later ones fill gaps. */
  state(run: RunSnapshot): RunStreamMessage[] {
    if (this.finished) return [];
    if (run.id !== this.runId) throw new Error(`the state of run ${run.id} was given to the stream of run ${this.runId}`);
    const held = this.held;
    const first = held !== null;
    if (!first && !TERMINAL[run.state] && run.step <= this.lastStep) return [];
    this.held = null;
    this.lastStep = Math.max(this.lastStep, run.step);
    this.lastPhase = null;
    const out: RunStreamMessage[] = [{ event: 'state', id: `${run.id}-state-${run.step}`, data: run }];
    if (TERMINAL[run.state]) {
      this.finished = true;
      return out;
    }
    for (const event of held ?? []) out.push(...this.event(event));
    return out;
  }

  /** An event of this run from the bus: held until the first state, then sent when it is new. */
  event(event: LiveRunEvent): RunStreamMessage[] {
    if (this.finished || event.data.runId !== this.runId) return [];
    if (this.held !== null) {
      this.held.push(event);
      return [];
    }
    if (this.sent.has(event.id)) return [];
    if (event.topic === TRAINING_RUN_PROGRESS_V1) {
      const { step, phase } = event.data;
      // Older than what the client has, or the step it already has (the state included its loss).
      if (step < this.lastStep || (step === this.lastStep && (phase === 'step' || phase === this.lastPhase))) return [];
      this.lastStep = step;
      this.lastPhase = phase;
    } else {
      this.finished = true;
    }
    this.sent.add(event.id);
    return [{ event: EVENT_NAME[event.topic], id: event.id, data: event.data }];
  }
}

/** One message in the SSE wire format (a `data:` line per line of its JSON, which has none). */
export function formatSse(message: RunStreamMessage): string {
  return `event: ${message.event}\nid: ${message.id}\ndata: ${JSON.stringify(message.data)}\n\n`;
}

/** An SSE comment line: keeps proxies and the client from closing an idle stream. */
export const SSE_HEARTBEAT = ': heartbeat\n\n';
