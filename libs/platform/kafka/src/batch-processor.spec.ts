import {
  buildCloudEvent,
  DOCUMENT_UPLOADED_V1,
  type CloudEvent,
  type DeadLetterRecordV1,
  type DocumentUploadedV1,
  type Topic,
} from '@studio/contracts';
import {
  EventBusUnavailableError,
  type EventBusLogger,
  type EventHandler,
  type ProcessedEventRef,
  type ProcessedEventStore,
} from '@studio/ports';
import { BatchProcessor, describeError, HandlerTimeoutError, type BatchControls, type InboundMessage } from './batch-processor';
import { RecentIds } from './recent-ids';

const TOPIC = DOCUMENT_UPLOADED_V1;
const KAFKA_TOPIC = `test.${TOPIC}`;

function uploaded(documentId: string, id?: string): CloudEvent<DocumentUploadedV1> {
  return buildCloudEvent<DocumentUploadedV1>({
    topic: TOPIC,
    source: '/studio/test',
    tenantId: 'acme',
    contextId: 'ctx-1',
    ...(id ? { id } : {}),
    data: {
      version: 'v1',
      contextId: 'ctx-1',
      documentId,
      filename: 'policy.md',
      mediaType: 'text/markdown',
      sha256: 'b'.repeat(64),
      sizeBytes: 1,
      storageUri: 'file:///tmp/x',
    },
  });
}

let nextOffset = 0;
function msg(value: string | object | null): InboundMessage {
  const offset = String(nextOffset++);
  const raw = value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
  return { offset, key: Buffer.from('ctx-1'), value: raw };
}

/** A ProcessedEventStore double that records the order of calls. */
class RecordingStore implements ProcessedEventStore {
  readonly ids = new Set<string>();
  readonly calls: string[] = [];
  /** Resolves each rememberMany when the test says so (default: at once). */
  gate: (() => Promise<void>) | undefined;
  constructor(private readonly log: string[] = []) {}
  async has(_g: string, id: string) {
    this.calls.push(`has:${id}`);
    return this.ids.has(id);
  }
  async remember(_g: string, id: string) {
    this.calls.push(`remember:${id}`);
    this.ids.add(id);
  }
  async seenAmong(_g: string, ids: readonly string[]) {
    this.calls.push(`seenAmong:${ids.join(',')}`);
    return new Set(ids.filter((id) => this.ids.has(id)));
  }
  /** Attempts counted per event id (kept apart from `calls`). */
  readonly attempts = new Map<string, number>();
  readonly cleared: string[] = [];
  readonly counted: string[] = [];
  readonly remembered: ProcessedEventRef[] = [];
  async countAttempt(_g: string, id: string) {
    this.counted.push(id);
    const n = (this.attempts.get(id) ?? 0) + 1;
    this.attempts.set(id, n);
    return n;
  }
  async clearAttempts(_g: string, id: string) {
    this.attempts.delete(id);
    this.cleared.push(id);
  }
  async rememberMany(_g: string, events: readonly ProcessedEventRef[]) {
    const call = `rememberMany:${events.map((e) => e.eventId).join(',')}`;
    this.calls.push(call);
    if (this.gate) await this.gate();
    for (const e of events) this.ids.add(e.eventId);
    this.remembered.push(...events);
    this.log.push(`stored:${events.map((e) => e.eventId).join(',')}`);
  }
}

function controls(overrides: Partial<BatchControls> = {}, log: string[] = []) {
  const resolved: string[] = [];
  const c: BatchControls = {
    resolveOffset: (o) => {
      resolved.push(o);
      log.push(`resolve:${o}`);
    },
    heartbeat: jest.fn(async () => undefined),
    commitOffsetsIfNecessary: jest.fn(async () => {
      log.push('commit');
    }),
    isRunning: () => true,
    isStale: () => false,
    ...overrides,
  };
  return { c, resolved };
}

const quiet: EventBusLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

function processor(
  handler: EventHandler<typeof TOPIC>,
  opts: {
    store?: ProcessedEventStore;
    deadLetter?: (r: DeadLetterRecordV1) => Promise<void>;
    maxAttempts?: number;
    sleeps?: number[];
    handlerTimeoutMs?: number;
    heartbeatEveryMs?: number;
    logger?: EventBusLogger;
  } = {},
) {
  const deadLetters: DeadLetterRecordV1[] = [];
  const store = opts.store ?? new RecordingStore();
  const p = new BatchProcessor({
    groupId: 'framer',
    subscriptions: new Map([[KAFKA_TOPIC, { topic: TOPIC as Topic, handler: handler as unknown as EventHandler<Topic> }]]),
    store,
    retry: { maxAttempts: opts.maxAttempts ?? 3, initialBackoffMs: 1000, maxBackoffMs: 4000 },
    logger: opts.logger ?? quiet,
    ...(opts.handlerTimeoutMs ? { handlerTimeoutMs: opts.handlerTimeoutMs } : {}),
    deadLetter:
      opts.deadLetter ??
      (async (r) => {
        deadLetters.push(r);
      }),
    heartbeatEveryMs: opts.heartbeatEveryMs ?? 400,
    random: () => 1,
    sleep: async (ms) => {
      opts.sleeps?.push(ms);
    },
  });
  return { p, deadLetters, store };
}

describe('BatchProcessor', () => {
  it('hands each valid event to the handler, remembers it, and resolves its offset only afterwards', async () => {
    const log: string[] = [];
    const store = new RecordingStore(log);
    const handled: string[] = [];
    const { p } = processor(
      async (e, d) => {
        handled.push(`${e.data.documentId}@${d.partition}/${d.offset}#${d.attempt}`);
        log.push(`handle:${e.data.documentId}`);
      },
      { store },
    );
    const messages = [msg(uploaded('a', 'evt-a')), msg(uploaded('b', 'evt-b'))];
    const { c, resolved } = controls({}, log);
    await p.processBatch({ topic: KAFKA_TOPIC, partition: 2, messages }, c);
    expect(handled).toEqual([`a@2/${messages[0]?.offset}#1`, `b@2/${messages[1]?.offset}#1`]);
    expect(store.calls[0]).toBe('seenAmong:evt-a,evt-b');
    expect(store.ids).toEqual(new Set(['evt-a', 'evt-b']));
    expect(resolved[resolved.length - 1]).toBe(messages[1]?.offset);
    // every offset is resolved after the id it carries is stored
    for (const [i, m] of messages.entries()) {
      const id = i === 0 ? 'evt-a' : 'evt-b';
      const resolvedAt = log.indexOf(`resolve:${m.offset}`);
      if (resolvedAt >= 0) expect(log.findIndex((l) => l.startsWith('stored:') && l.includes(id))).toBeLessThan(resolvedAt);
    }
    expect(log[log.length - 1]).toBe('commit');
  });

  it('dead-letters a non-JSON message and a schema violation with their reasons, and goes on', async () => {
    const handled: string[] = [];
    const { p, deadLetters } = processor(async (e) => {
      handled.push(e.data.documentId);
    });
    const bad = { ...uploaded('x', 'evt-x'), data: { version: 'v1', contextId: 'ctx-1' } };
    const messages = [msg('{oops'), msg(bad), msg(null), msg(uploaded('ok', 'evt-ok'))];
    const { c, resolved } = controls();
    await p.processBatch({ topic: KAFKA_TOPIC, partition: 0, messages }, c);
    expect(handled).toEqual(['ok']);
    expect(deadLetters.map((r) => r.reason)).toEqual(['invalid-message', 'invalid-message', 'invalid-message']);
    expect(deadLetters[0]).toMatchObject({
      version: 'v1',
      originalTopic: KAFKA_TOPIC,
      partition: 0,
      offset: messages[0]?.offset,
      key: 'ctx-1',
      consumerGroup: 'framer',
      eventId: null,
      attempts: 0,
      payload: '{oops',
    });
    expect(deadLetters[0]?.error).toMatch(/not JSON/);
    expect(deadLetters[1]?.error).toMatch(/documentId/);
    expect(deadLetters[2]?.error).toMatch(/no value/);
    expect(resolved[resolved.length - 1]).toBe(messages[3]?.offset);
  });

  it('skips events the store has seen, repeats within a batch, and repeats in later batches without asking the store', async () => {
    const store = new RecordingStore();
    store.ids.add('evt-old');
    const handled: string[] = [];
    const { p } = processor(
      async (e) => {
        handled.push(e.id);
      },
      { store },
    );
    const fresh = uploaded('f', 'evt-new');
    await p.processBatch(
      { topic: KAFKA_TOPIC, partition: 0, messages: [msg(uploaded('o', 'evt-old')), msg(fresh), msg(fresh)] },
      controls().c,
    );
    const { c, resolved } = controls();
    const again = msg(fresh);
    await p.processBatch({ topic: KAFKA_TOPIC, partition: 0, messages: [again] }, c);
    expect(handled).toEqual(['evt-new']);
    expect(store.calls).toEqual(['seenAmong:evt-old,evt-new', 'rememberMany:evt-new']);
    expect(resolved).toEqual([again.offset]);
  });

  it('retries with backoff and heartbeats while waiting, then dead-letters after maxAttempts and moves on', async () => {
    const sleeps: number[] = [];
    const attempts: string[] = [];
    const store = new RecordingStore();
    const { p, deadLetters } = processor(
      async (e, d) => {
        attempts.push(`${e.data.documentId}#${d.attempt}`);
        if (e.data.documentId === 'poison') throw new Error('framing failed: clause table missing');
      },
      { sleeps, store },
    );
    const poison = uploaded('poison', 'evt-poison');
    const messages = [msg(poison), msg(uploaded('next', 'evt-next'))];
    const { c, resolved } = controls();
    await p.processBatch({ topic: KAFKA_TOPIC, partition: 1, messages }, c);
    expect(attempts).toEqual(['poison#1', 'poison#2', 'poison#3', 'next#1']);
    // backoff 1000 then 2000 ms (jitter pinned), slept in 400 ms slices with a heartbeat after each
    expect(sleeps).toEqual([400, 400, 200, 400, 400, 400, 400, 400]);
    expect((c.heartbeat as jest.Mock).mock.calls.length).toBeGreaterThanOrEqual(sleeps.length);
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]).toMatchObject({
      reason: 'handler-failed',
      error: 'framing failed: clause table missing',
      attempts: 3,
      eventId: 'evt-poison',
      offset: messages[0]?.offset,
    });
    expect(JSON.parse(deadLetters[0]?.payload ?? '')).toEqual(poison);
    expect(store.ids.has('evt-poison')).toBe(false);
    expect(resolved[resolved.length - 1]).toBe(messages[1]?.offset);
  });

  it('heartbeats while a long handler runs, and past the handler timeout aborts its signal and counts the attempt as failed', async () => {
    const signals: AbortSignal[] = [];
    const store = new RecordingStore();
    const { p, deadLetters } = processor(
      (_e, d) => {
        signals.push(d.signal as AbortSignal);
        return new Promise<void>(() => undefined); // never settles, ignores its signal
      },
      { maxAttempts: 1, handlerTimeoutMs: 300, heartbeatEveryMs: 25, store },
    );
    const slow = msg(uploaded('slow', 'evt-slow'));
    const next = msg(uploaded('next', 'evt-next'));
    const { c, resolved } = controls();
    const started = Date.now();
    await p.processBatch({ topic: KAFKA_TOPIC, partition: 0, messages: [slow] }, c);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    // Heartbeats went out during the attempt, not only between messages.
    expect((c.heartbeat as jest.Mock).mock.calls.length).toBeGreaterThanOrEqual(5);
    expect(signals[0]?.aborted).toBe(true);
    expect(signals[0]?.reason).toBeInstanceOf(HandlerTimeoutError);
    expect(deadLetters[0]).toMatchObject({
      reason: 'handler-failed',
      error: 'handler exceeded 300 ms (attempt 1 of 1)',
      attempts: 1,
      eventId: 'evt-slow',
    });
    expect(resolved).toEqual([slow.offset]);
    expect(store.cleared).toEqual(['evt-slow']);
    // The heartbeat interval ended with the attempt.
    const beats = (c.heartbeat as jest.Mock).mock.calls.length;
    await new Promise((r) => setTimeout(r, 100));
    expect((c.heartbeat as jest.Mock).mock.calls.length).toBe(beats);
    await p.processBatch({ topic: KAFKA_TOPIC, partition: 0, messages: [next] }, c);
    expect(resolved).toEqual([slow.offset, next.offset]);
  });

  it('continues the attempt count of a message redelivered after the consumer lost it, dead-letters it after maxAttempts, then handles the next event', async () => {
    const store = new RecordingStore();
    const attempts: string[] = [];
    const hangOn = (id: string) => async (e: CloudEvent<DocumentUploadedV1>, d: { attempt: number }) => {
      attempts.push(`${id}:${e.data.documentId}#${d.attempt}`);
      if (e.data.documentId === 'slow') await new Promise<void>(() => undefined);
    };
    const slow = msg(uploaded('slow', 'evt-slow'));
    const next = msg(uploaded('next', 'evt-next'));

    // First member: the attempt outlives the session; the partition is gone when it ends.
    let stale = false;
    const first = processor(hangOn('first'), { store, maxAttempts: 3, handlerTimeoutMs: 50 });
    const one = controls({ isStale: () => stale, heartbeat: jest.fn(async () => void (stale = true)) });
    await first.p.processBatch({ topic: KAFKA_TOPIC, partition: 0, messages: [slow, next] }, one.c);
    expect(one.resolved).toEqual([]);
    expect(first.deadLetters).toEqual([]);

    // The member that takes the partition over (or the same one, rejoined) gets both again.
    const second = processor(hangOn('second'), { store, maxAttempts: 3, handlerTimeoutMs: 50 });
    const two = controls();
    await second.p.processBatch({ topic: KAFKA_TOPIC, partition: 0, messages: [slow, next] }, two.c);
    expect(attempts).toEqual(['first:slow#1', 'second:slow#2', 'second:slow#3', 'second:next#1']);
    expect(second.deadLetters).toHaveLength(1);
    expect(second.deadLetters[0]).toMatchObject({ eventId: 'evt-slow', attempts: 3, error: 'handler exceeded 50 ms (attempt 3 of 3)' });
    expect(two.resolved[two.resolved.length - 1]).toBe(next.offset);
    expect(store.ids).toEqual(new Set(['evt-next']));
    expect(store.attempts.has('evt-slow')).toBe(false);
  });

  it('dead-letters at once, without calling the handler, a message whose attempts were all spent without an outcome', async () => {
    const store = new RecordingStore();
    store.attempts.set('evt-spent', 3); // three attempts began; the consumer was lost during each
    const handler = jest.fn(async () => undefined);
    const { p, deadLetters } = processor(handler, { store, maxAttempts: 3 });
    const spent = msg(uploaded('spent', 'evt-spent'));
    const { c, resolved } = controls();
    await p.processBatch({ topic: KAFKA_TOPIC, partition: 0, messages: [spent] }, c);
    expect(handler).not.toHaveBeenCalled();
    expect(deadLetters[0]).toMatchObject({ eventId: 'evt-spent', attempts: 3, reason: 'handler-failed' });
    expect(deadLetters[0]?.error).toMatch(/no outcome after 3 attempts of at most 3/);
    expect(resolved).toEqual([spent.offset]);
    expect(store.cleared).toEqual(['evt-spent']);
  });

  it('counts attempts in the store for the first message a batch hands to a handler, and for others only once one fails', async () => {
    const store = new RecordingStore();
    const attempts: string[] = [];
    let failOnce = true;
    const { p, deadLetters } = processor(
      async (e, d) => {
        attempts.push(`${e.data.documentId}#${d.attempt}`);
        if (e.data.documentId === 'c' && failOnce) {
          failOnce = false;
          throw new Error('transient');
        }
      },
      { store, maxAttempts: 3 },
    );
    const messages = ['a', 'b', 'c', 'd'].map((id) => msg(uploaded(id, `evt-${id}`)));
    const { c } = controls();
    await p.processBatch({ topic: KAFKA_TOPIC, partition: 0, messages }, c);
    expect(attempts).toEqual(['a#1', 'b#1', 'c#1', 'c#2', 'd#1']);
    // a: first of the batch; c: its failed attempt, then its retry. b and d cost no round trip.
    expect(store.counted).toEqual(['evt-a', 'evt-c', 'evt-c']);
    expect(deadLetters).toEqual([]);
    // Remembering forgets the counts that were kept, and only those.
    expect(store.remembered.filter((r) => r.attempted).map((r) => r.eventId)).toEqual(['evt-a', 'evt-c']);
  });

  it('spends no attempt when the handler fails because the event bus is unavailable (a broker outage), and tries again', async () => {
    const store = new RecordingStore();
    const attempts: string[] = [];
    let outage = 3;
    const { p, deadLetters } = processor(
      async (e, d) => {
        attempts.push(`${e.data.documentId}#${d.attempt}`);
        if (outage-- > 0)
          throw new Error('framing failed', { cause: new EventBusUnavailableError('the event bus could not publish within 5000 ms') });
      },
      { store, maxAttempts: 2 },
    );
    const m = msg(uploaded('a', 'evt-a'));
    const { c, resolved } = controls();
    await p.processBatch({ topic: KAFKA_TOPIC, partition: 0, messages: [m] }, c);
    expect(attempts).toEqual(['a#1', 'a#1', 'a#1', 'a#1']);
    expect(deadLetters).toEqual([]);
    expect(resolved).toEqual([m.offset]);
    expect(store.ids).toEqual(new Set(['evt-a']));
  });

  it('refuses a handler timeout that is not positive', () => {
    expect(() => processor(async () => undefined, { handlerTimeoutMs: -5 })).toThrow('handlerTimeoutMs must be > 0, got -5');
  });

  it('when stopping during a retry, abandons it and leaves that message unresolved for redelivery', async () => {
    let running = true;
    const { p, deadLetters } = processor(async (e) => {
      if (e.data.documentId === 'flaky') {
        running = false; // stop() arrives while the handler runs
        throw new Error('temporarily unavailable');
      }
    });
    const messages = [msg(uploaded('ok', 'evt-1')), msg(uploaded('flaky', 'evt-2')), msg(uploaded('later', 'evt-3'))];
    const { c, resolved } = controls({ isRunning: () => running });
    await p.processBatch({ topic: KAFKA_TOPIC, partition: 0, messages }, c);
    expect(resolved).toEqual([messages[0]?.offset]);
    expect(deadLetters).toHaveLength(0);
  });

  it('when stopping, finishes the handler in hand and takes no further message', async () => {
    let running = true;
    const handled: string[] = [];
    const { p } = processor(async (e) => {
      handled.push(e.data.documentId);
      running = false;
    });
    const messages = [msg(uploaded('first', 'evt-a')), msg(uploaded('second', 'evt-b'))];
    const { c, resolved } = controls({ isRunning: () => running });
    await p.processBatch({ topic: KAFKA_TOPIC, partition: 0, messages }, c);
    expect(handled).toEqual(['first']);
    expect(resolved).toEqual([messages[0]?.offset]);
  });

  it('if the dead-letter topic cannot be written, fails the batch with earlier work committed and the message unresolved', async () => {
    const store = new RecordingStore();
    const { p } = processor(async () => undefined, {
      store,
      deadLetter: async () => {
        throw new Error('broker unavailable');
      },
    });
    const messages = [msg(uploaded('ok', 'evt-ok')), msg('garbage'), msg(uploaded('after', 'evt-after'))];
    const { c, resolved } = controls();
    await expect(p.processBatch({ topic: KAFKA_TOPIC, partition: 0, messages }, c)).rejects.toThrow('broker unavailable');
    expect(resolved).toEqual([messages[0]?.offset]);
    expect(store.ids).toEqual(new Set(['evt-ok']));
  });

  it('stores the first id at once and groups the ids handled while that write is in flight', async () => {
    const log: string[] = [];
    const store = new RecordingStore(log);
    let release!: () => void;
    const firstWrite = new Promise<void>((r) => (release = r));
    let writes = 0;
    store.gate = () => (writes++ === 0 ? firstWrite : Promise.resolve());
    const { p } = processor(
      async (e) => {
        log.push(`handle:${e.id}`);
        if (e.id === 'evt-4') setImmediate(release); // once evt-4 is handled and queued
      },
      { store },
    );
    const messages = [1, 2, 3, 4].map((n) => msg(uploaded(`d${n}`, `evt-${n}`)));
    const { c, resolved } = controls({}, log);
    await p.processBatch({ topic: KAFKA_TOPIC, partition: 0, messages }, c);
    expect(store.calls.filter((x) => x.startsWith('rememberMany'))).toEqual(['rememberMany:evt-1', 'rememberMany:evt-2,evt-3,evt-4']);
    // evt-1 was written before the later handlers finished; no offset was resolved before its write completed
    expect(log.indexOf('resolve:' + messages[0]?.offset)).toBeGreaterThan(log.indexOf('stored:evt-1'));
    expect(resolved).toEqual([messages[0]?.offset, messages[3]?.offset]);
  });

  it('fails the batch when the store cannot remember, resolving nothing it did not store', async () => {
    const store = new RecordingStore();
    store.gate = async () => {
      throw new Error('mongo unavailable');
    };
    const { p } = processor(async () => undefined, { store });
    const { c, resolved } = controls();
    await expect(
      p.processBatch({ topic: KAFKA_TOPIC, partition: 0, messages: [msg(uploaded('a', 'evt-s1')), msg(uploaded('b', 'evt-s2'))] }, c),
    ).rejects.toThrow('mongo unavailable');
    expect(resolved).toEqual([]);
  });

  it("loads a partition's processed ids once per assignment and then answers from memory", async () => {
    const store = new RecordingStore();
    store.ids.add('evt-before');
    let listed: string[] | null = ['evt-before'];
    const partitionStore = Object.assign(store, {
      processedInPartition: jest.fn(async (_g: string, topic: string, partition: number) => {
        store.calls.push(`list:${topic}/${partition}`);
        return listed;
      }),
    });
    const handled: string[] = [];
    const { p } = processor(
      async (e) => {
        handled.push(e.id);
      },
      { store: partitionStore },
    );
    await p.processBatch(
      { topic: KAFKA_TOPIC, partition: 4, messages: [msg(uploaded('a', 'evt-before')), msg(uploaded('b', 'evt-1'))] },
      controls().c,
    );
    await p.processBatch(
      { topic: KAFKA_TOPIC, partition: 4, messages: [msg(uploaded('b', 'evt-1')), msg(uploaded('c', 'evt-2'))] },
      controls().c,
    );
    expect(handled).toEqual(['evt-1', 'evt-2']);
    expect(store.calls.filter((c) => !c.startsWith('rememberMany'))).toEqual([`list:${KAFKA_TOPIC}/4`]);
    expect(store.calls).toContain('rememberMany:evt-1');

    // After a rebalance the partition is loaded again; too many ids → the store is asked per batch.
    p.resetPartitions();
    listed = null;
    await p.processBatch({ topic: KAFKA_TOPIC, partition: 4, messages: [msg(uploaded('d', 'evt-3'))] }, controls().c);
    expect(store.calls.slice(-3, -1)).toEqual([`list:${KAFKA_TOPIC}/4`, 'seenAmong:evt-3']);
    expect(handled).toEqual(['evt-1', 'evt-2', 'evt-3']);
  });

  it('refuses a batch for a topic it has no handler for', async () => {
    const { p } = processor(async () => undefined);
    await expect(p.processBatch({ topic: 'other', partition: 0, messages: [] }, controls().c)).rejects.toThrow(
      /no handler for Kafka topic "other"/,
    );
  });
});

describe('RecentIds', () => {
  it('forgets the oldest id beyond its capacity', () => {
    const ids = new RecentIds(2);
    ids.add('a');
    ids.add('b');
    ids.add('a');
    ids.add('c');
    expect(ids.has('a')).toBe(true);
    expect(ids.has('b')).toBe(false);
    expect(ids.has('c')).toBe(true);
    expect(ids.size).toBe(2);
  });
});

describe('describeError', () => {
  it('reads Errors, strings and NestJS RPC error objects', () => {
    expect(describeError(new Error('boom'))).toBe('boom');
    expect(describeError('plain')).toBe('plain');
    expect(describeError({ status: 'error', message: 'Internal server error' })).toBe(
      '{"status":"error","message":"Internal server error"}',
    );
  });
});
