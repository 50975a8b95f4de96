/**
 * Corrections to kafkajs 2.2.4 that its maintainers have not released, applied once when this
 * library is loaded (every Kafka client of the process shares the patched module).
 *
 * RequestQueue.scheduleCheckPendingRequests computes its delay as `throttledUntil - Date.now()`,
 * where `throttledUntil` starts at -1 ("not throttled"): with nothing throttled it passes minus
 * the current timestamp to setTimeout. Node 24 warns about it (`TimeoutNegativeWarning:
 * -17… is a negative number`, once per process, at the first request of every service), and
 * since the delay becomes 1 ms, every connection then re-checks an empty queue about a thousand
 * times a second for as long as it is open (https://github.com/tulios/kafkajs/issues/1751).
 * The replacement schedules a check only when requests are waiting: at the end of a throttle,
 * or after the usual 10 ms while the in-flight limit holds them back. Requests that are not
 * waiting need no timer: `push` sends them, and each response or timeout checks the queue again.
 */

interface RequestQueueLike {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs's interval between checks of a queue held back by its in-flight limit. */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;
const PATCHED = Symbol.for('studio.kafkajs.scheduleCheckPendingRequests');

/** The delay before the next check of a request queue, or null when no check is needed. */
export function pendingCheckDelayMs(pendingCount: number, throttledUntil: number, now: number): number | null {
  if (pendingCount === 0) return null;
  const throttledFor = throttledUntil - now;
  return throttledFor > 0 ? throttledFor : CHECK_PENDING_REQUESTS_INTERVAL_MS;
}

function scheduleCheckPendingRequests(this: RequestQueueLike): void {
  if (this.throttleCheckTimeoutId) return;
  const delay = pendingCheckDelayMs(this.pending.length, this.throttledUntil, Date.now());
  if (delay === null) return;
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, delay);
}

/** Applies the corrections (idempotent). Returns the patched RequestQueue class, for tests. */
export function applyKafkajsFixes(): new (options: Record<string, unknown>) => RequestQueueLike {
  const RequestQueue = require('kafkajs/src/network/requestQueue') as new (options: Record<string, unknown>) => RequestQueueLike;
  const proto = RequestQueue.prototype as unknown as RequestQueueLike & { [PATCHED]?: true };
  if (!proto[PATCHED]) {
    proto.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
    proto[PATCHED] = true;
  }
  return RequestQueue;
}

applyKafkajsFixes();
