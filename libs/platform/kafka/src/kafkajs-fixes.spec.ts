import { applyKafkajsFixes, pendingCheckDelayMs } from './kafkajs-fixes';

const silentLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

function requestQueue() {
  const RequestQueue = applyKafkajsFixes();
  return new RequestQueue({
    maxInFlightRequests: 1,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 't',
    broker: 'b',
    logger: silentLogger,
  });
}

describe('kafkajs RequestQueue correction', () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  beforeEach(() => {
    warnings.length = 0;
    process.on('warning', onWarning);
  });
  afterEach(() => {
    process.off('warning', onWarning);
  });

  it('schedules no timer (and no negative one) when no request is waiting', async () => {
    const queue = requestQueue();
    queue.checkPendingRequests();
    expect(queue.throttleCheckTimeoutId).toBeNull();
    await new Promise((r) => setTimeout(r, 20)); // process warnings are emitted on a later tick
    expect(warnings.filter((w) => w.name === 'TimeoutNegativeWarning')).toEqual([]);
  });

  it('checks waiting requests when the throttle ends, or after 10 ms while the in-flight limit holds them', () => {
    const now = 1_800_000_000_000;
    expect(pendingCheckDelayMs(0, -1, now)).toBeNull();
    expect(pendingCheckDelayMs(0, now + 500, now)).toBeNull();
    expect(pendingCheckDelayMs(2, -1, now)).toBe(10);
    expect(pendingCheckDelayMs(2, now + 500, now)).toBe(500);
    expect(pendingCheckDelayMs(2, now - 5, now)).toBe(10);
  });

  it('still sends a throttled request once the throttle ends', async () => {
    const queue = requestQueue() as ReturnType<typeof requestQueue> & {
      push(request: unknown): void;
      maybeThrottle(ms: number): void;
      destroy(): void;
    };
    const sent: number[] = [];
    queue.maybeThrottle(30);
    const started = Date.now();
    queue.push({
      entry: { correlationId: 1, resolve: () => undefined, reject: () => undefined },
      expectResponse: false,
      sendRequest: () => sent.push(Date.now() - started),
    });
    expect(sent).toEqual([]);
    expect(queue.throttleCheckTimeoutId).not.toBeNull();
    await new Promise((r) => setTimeout(r, 80));
    expect(sent).toHaveLength(1);
    expect(sent[0]).toBeGreaterThanOrEqual(25);
    queue.destroy();
  });
});
