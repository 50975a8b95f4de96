import { buildCloudEvent, ContractViolation, DOCUMENT_UPLOADED_V1, type CloudEvent, type DocumentUploadedV1 } from '@studio/contracts';
import { publishAll, type DeliveryInfo } from '@studio/ports';
import { InMemoryProcessedEventStore, InProcessBroker, InProcessEventBus } from './event-bus';

const TOPIC = DOCUMENT_UPLOADED_V1;

function uploaded(contextId: string, documentId: string, id?: string): CloudEvent<DocumentUploadedV1> {
  return buildCloudEvent<DocumentUploadedV1>({
    topic: TOPIC,
    source: '/studio/test',
    tenantId: 'acme',
    contextId,
    ...(id ? { id } : {}),
    data: {
      version: 'v1',
      contextId,
      documentId,
      filename: 'policy.md',
      mediaType: 'text/markdown',
      sha256: 'a'.repeat(64),
      sizeBytes: 10,
      storageUri: `file:///tmp/${documentId}`,
    },
  });
}

const noSleep = () => Promise.resolve();
const fastRetry = { maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 2 };

describe('InProcessEventBus', () => {
  it('delivers a validated copy of the event with delivery info', async () => {
    const bus = new InProcessEventBus();
    const seen: Array<{ event: CloudEvent<DocumentUploadedV1>; delivery: DeliveryInfo }> = [];
    bus.subscribe(TOPIC, async (event, delivery) => {
      seen.push({ event, delivery });
    });
    await bus.start();
    const event = uploaded('ctx-1', 'doc-1');
    await bus.publish(TOPIC, event);
    await bus.idle();
    expect(seen).toHaveLength(1);
    expect(seen[0]?.event).toEqual(event);
    expect(seen[0]?.event).not.toBe(event);
    expect(seen[0]?.delivery).toEqual({ topic: TOPIC, partition: null, offset: null, attempt: 1 });
    await bus.stop();
  });

  it('rejects an event that violates its contract on publish, naming the problem', async () => {
    const bus = new InProcessEventBus();
    const handler = jest.fn(async () => undefined);
    bus.subscribe(TOPIC, handler);
    await bus.start();
    const bad = uploaded('ctx-1', 'doc-1');
    (bad.data as { sha256: string }).sha256 = 'not-a-digest';
    await expect(bus.publish(TOPIC, bad)).rejects.toThrow(ContractViolation);
    await expect(bus.publish(TOPIC, bad)).rejects.toThrow(/sha256/);
    const wrongType = { ...uploaded('ctx-1', 'doc-2'), type: 'studio.something.else.v1' };
    await expect(bus.publish(TOPIC, wrongType)).rejects.toThrow(/type must be studio\.policy\.document\.uploaded\.v1/);
    await bus.idle();
    expect(handler).not.toHaveBeenCalled();
  });

  it('validates on delivery: a malformed message is dead-lettered with its reason and the next one is handled', async () => {
    const onDeadLetter = jest.fn();
    const bus = new InProcessEventBus({ groupId: 'framer', onDeadLetter });
    const handled: string[] = [];
    bus.subscribe(TOPIC, async (event) => {
      handled.push(event.data.documentId);
    });
    await bus.start();
    bus.publishRaw(TOPIC, 'ctx-1', '{not json');
    bus.publishRaw(TOPIC, 'ctx-1', JSON.stringify({ ...uploaded('ctx-1', 'doc-x'), data: { version: 'v1' } }));
    await bus.publish(TOPIC, uploaded('ctx-1', 'doc-ok'));
    await bus.idle();
    expect(handled).toEqual(['doc-ok']);
    expect(bus.deadLetters).toHaveLength(2);
    expect(bus.deadLetters[0]).toMatchObject({
      version: 'v1',
      originalTopic: TOPIC,
      reason: 'invalid-message',
      key: 'ctx-1',
      consumerGroup: 'framer',
      eventId: null,
      attempts: 0,
      payload: '{not json',
    });
    expect(bus.deadLetters[0]?.error).toMatch(/not JSON/);
    expect(bus.deadLetters[1]?.error).toMatch(/documentId/);
    expect(onDeadLetter).toHaveBeenCalledTimes(2);
  });

  it('handles an event id once per group, also across bus instances sharing a store', async () => {
    const store = new InMemoryProcessedEventStore();
    const calls: string[] = [];
    const first = new InProcessEventBus({ groupId: 'g', processedEvents: store });
    first.subscribe(TOPIC, async (e) => {
      calls.push(`first:${e.id}`);
    });
    await first.start();
    const event = uploaded('ctx-1', 'doc-1', 'evt-dup');
    await first.publish(TOPIC, event);
    await first.publish(TOPIC, event);
    await first.stop();

    const second = new InProcessEventBus({ groupId: 'g', processedEvents: store });
    second.subscribe(TOPIC, async (e) => {
      calls.push(`second:${e.id}`);
    });
    const other = new InProcessEventBus({ groupId: 'other-group', processedEvents: store });
    other.subscribe(TOPIC, async (e) => {
      calls.push(`other:${e.id}`);
    });
    await second.start();
    await other.start();
    await second.publish(TOPIC, event);
    await other.publish(TOPIC, event);
    await second.stop();
    await other.stop();
    expect(calls).toEqual(['first:evt-dup', 'other:evt-dup']);
  });

  it('retries a failing handler with backoff, then succeeds on a later attempt', async () => {
    const delays: number[] = [];
    const bus = new InProcessEventBus({
      retry: { maxAttempts: 4, initialBackoffMs: 100, maxBackoffMs: 1000 },
      sleep: async (ms) => {
        delays.push(ms);
      },
      random: () => 1,
    });
    const attempts: number[] = [];
    bus.subscribe(TOPIC, async (_e, delivery) => {
      attempts.push(delivery.attempt);
      if (delivery.attempt < 3) throw new Error('database unavailable');
    });
    await bus.start();
    await bus.publish(TOPIC, uploaded('ctx-1', 'doc-1'));
    await bus.stop();
    expect(attempts).toEqual([1, 2, 3]);
    expect(delays).toEqual([100, 200]);
    expect(bus.deadLetters).toHaveLength(0);
  });

  it('dead-letters after maxAttempts failures with the error, and moves on to the next event', async () => {
    const store = new InMemoryProcessedEventStore();
    const bus = new InProcessEventBus({ groupId: 'g', retry: fastRetry, sleep: noSleep, processedEvents: store });
    const attempts: string[] = [];
    bus.subscribe(TOPIC, async (e, d) => {
      attempts.push(`${e.data.documentId}#${d.attempt}`);
      if (e.data.documentId === 'poison') throw new Error('cannot frame poison');
    });
    await bus.start();
    const poison = uploaded('ctx-1', 'poison');
    await bus.publish(TOPIC, poison);
    await bus.publish(TOPIC, uploaded('ctx-1', 'fine'));
    await bus.stop();
    expect(attempts).toEqual(['poison#1', 'poison#2', 'poison#3', 'fine#1']);
    expect(bus.deadLetters).toHaveLength(1);
    expect(bus.deadLetters[0]).toMatchObject({
      reason: 'handler-failed',
      error: 'cannot frame poison',
      attempts: 3,
      eventId: poison.id,
      key: 'ctx-1',
    });
    expect(JSON.parse(bus.deadLetters[0]?.payload ?? '')).toEqual(poison);
    // A dead-lettered event is not "processed": a replay of it is handled again.
    expect(await store.has('g', poison.id)).toBe(false);
  });

  it('keeps publish order within a context while other contexts proceed concurrently', async () => {
    const bus = new InProcessEventBus();
    const log: string[] = [];
    let releaseSlow!: () => void;
    const slowGate = new Promise<void>((resolve) => (releaseSlow = resolve));
    bus.subscribe(TOPIC, async (e) => {
      if (e.data.documentId === 'a1') await slowGate;
      log.push(e.data.documentId);
    });
    await bus.start();
    await publishAll(bus, TOPIC, [uploaded('ctx-a', 'a1'), uploaded('ctx-a', 'a2'), uploaded('ctx-b', 'b1'), uploaded('ctx-a', 'a3')]);
    await new Promise((r) => setTimeout(r, 20));
    // ctx-b is not blocked by the slow ctx-a handler; a2 and a3 wait for a1.
    expect(log).toEqual(['b1']);
    releaseSlow();
    await bus.idle();
    expect(log).toEqual(['b1', 'a1', 'a2', 'a3']);
  });

  it('publishMany validates every event before delivering any', async () => {
    const bus = new InProcessEventBus();
    const handler = jest.fn(async () => undefined);
    bus.subscribe(TOPIC, handler);
    await bus.start();
    const bad = { ...uploaded('ctx-1', 'doc-2'), specversion: '0.3' } as unknown as CloudEvent<DocumentUploadedV1>;
    await expect(bus.publishMany(TOPIC, [uploaded('ctx-1', 'doc-1'), bad])).rejects.toThrow(/specversion/);
    await bus.idle();
    expect(handler).not.toHaveBeenCalled();
  });

  it('holds events published before start and delivers them on start', async () => {
    const bus = new InProcessEventBus();
    const handled: string[] = [];
    bus.subscribe(TOPIC, async (e) => {
      handled.push(e.data.documentId);
    });
    await bus.publish(TOPIC, uploaded('ctx-1', 'early'));
    expect(handled).toEqual([]);
    await bus.start();
    await bus.idle();
    expect(handled).toEqual(['early']);
  });

  it('stop() waits for in-flight handlers, then refuses new events', async () => {
    const bus = new InProcessEventBus();
    let finished = false;
    let started!: () => void;
    const handlerStarted = new Promise<void>((resolve) => (started = resolve));
    bus.subscribe(TOPIC, async () => {
      started();
      await new Promise((r) => setTimeout(r, 50));
      finished = true;
    });
    await bus.start();
    await bus.publish(TOPIC, uploaded('ctx-1', 'doc-1'));
    await handlerStarted;
    await bus.stop();
    expect(finished).toBe(true);
    await expect(bus.publish(TOPIC, uploaded('ctx-1', 'doc-2'))).rejects.toThrow(/event bus is stopped/);
  });

  it('refuses late or duplicate subscriptions and a bad retry policy', async () => {
    const bus = new InProcessEventBus();
    bus.subscribe(TOPIC, async () => undefined);
    expect(() => bus.subscribe(TOPIC, async () => undefined)).toThrow(/already has a handler/);
    await bus.start();
    expect(() => bus.subscribe('training.run.failed.v1', async () => undefined)).toThrow(/before start/);
    expect(() => new InProcessEventBus({ retry: { maxAttempts: 0, initialBackoffMs: 1, maxBackoffMs: 1 } })).toThrow(/maxAttempts/);
    await bus.stop();
  });
});

describe('InMemoryProcessedEventStore', () => {
  it('remembers per group, idempotently, and answers in batches', async () => {
    const store = new InMemoryProcessedEventStore();
    await store.remember('g', 'e1', TOPIC);
    await store.remember('g', 'e1', TOPIC);
    await store.rememberMany('g', [{ eventId: 'e2', topic: TOPIC }]);
    expect(store.size).toBe(2);
    expect(await store.has('g', 'e1')).toBe(true);
    expect(await store.has('h', 'e1')).toBe(false);
    expect(await store.seenAmong('g', ['e1', 'e3', 'e2'])).toEqual(new Set(['e1', 'e2']));
  });
});

describe('InMemoryProcessedEventStore attempts', () => {
  it('counts attempts per group and event id until the event is remembered or its attempts cleared', async () => {
    const store = new InMemoryProcessedEventStore();
    expect(await store.countAttempt('g', 'e1')).toBe(1);
    expect(await store.countAttempt('g', 'e1')).toBe(2);
    expect(await store.countAttempt('h', 'e1')).toBe(1);
    expect(await store.countAttempt('g', 'e2')).toBe(1);
    await store.clearAttempts('g', 'e1');
    expect(await store.countAttempt('g', 'e1')).toBe(1);
    await store.rememberMany('g', [{ eventId: 'e2', topic: TOPIC, attempted: true }]);
    expect(await store.countAttempt('g', 'e2')).toBe(1);
  });
});

describe('InProcessBroker', () => {
  it('delivers what any member publishes to every member subscribed, each once, holding it for a member not yet started', async () => {
    const broker = new InProcessBroker();
    const publisher = new InProcessEventBus({ groupId: 'gateway', broker });
    const framer = new InProcessEventBus({ groupId: 'framer', broker });
    const ontology = new InProcessEventBus({ groupId: 'ontology', broker });
    const seen: string[] = [];
    framer.subscribe(TOPIC, async (event) => void seen.push(`framer:${event.data.documentId}`));
    ontology.subscribe(TOPIC, async (event) => void seen.push(`ontology:${event.data.documentId}`));
    expect(broker.groups).toEqual(['gateway', 'framer', 'ontology']);
    await publisher.start();
    await framer.start();
    const event = uploaded('ctx-1', 'doc-1');
    await publisher.publish(TOPIC, event);
    await publisher.publish(TOPIC, event); // the same event id again: each group handles it once
    await framer.idle();
    expect(seen).toEqual(['framer:doc-1']);
    await ontology.start(); // held until now
    await ontology.idle();
    expect(seen).toEqual(['framer:doc-1', 'ontology:doc-1']);
    await framer.stop();
    await publisher.publish(TOPIC, uploaded('ctx-1', 'doc-2'));
    await ontology.idle();
    expect(seen).toEqual(['framer:doc-1', 'ontology:doc-1', 'ontology:doc-2']); // a stopped member no longer receives
    await Promise.all([publisher.stop(), ontology.stop()]);
  });

  it('without a broker, a bus delivers only to its own handlers', async () => {
    const a = new InProcessEventBus({ groupId: 'a' });
    const b = new InProcessEventBus({ groupId: 'b' });
    const handler = jest.fn(async () => undefined);
    b.subscribe(TOPIC, handler);
    await Promise.all([a.start(), b.start()]);
    await a.publish(TOPIC, uploaded('ctx-1', 'doc-1'));
    await Promise.all([a.idle(), b.idle()]);
    expect(handler).not.toHaveBeenCalled();
    await Promise.all([a.stop(), b.stop()]);
  });
});

describe('InMemoryProcessedEventStore with maxIds', () => {
  it('keeps the most recent ids only, forgetting the oldest first', async () => {
    const store = new InMemoryProcessedEventStore({ maxIds: 2 });
    await store.remember('g', 'a', 't');
    await store.remember('g', 'b', 't');
    await store.remember('g', 'a', 't');
    await store.remember('g', 'c', 't');
    expect(store.size).toBe(2);
    expect(await store.has('g', 'a')).toBe(false);
    expect(await store.has('g', 'b')).toBe(true);
    expect(await store.has('g', 'c')).toBe(true);
    expect(() => new InMemoryProcessedEventStore({ maxIds: 0 })).toThrow(/maxIds must be at least 1/);
  });
});
