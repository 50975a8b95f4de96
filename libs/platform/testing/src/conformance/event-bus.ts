import {
  buildCloudEvent,
  ContractViolation,
  DOCUMENT_UPLOADED_V1,
  type CloudEvent,
  type DeadLetterRecordV1,
  type DocumentUploadedV1,
  type Topic,
} from '@studio/contracts';
import { publishAll, type DeliveryInfo, type EventBus, type RetryPolicy } from '@studio/ports';
import { eventually } from '../servers';

export interface EventBusOptionsUnderTest {
  groupId: string;
  retry: RetryPolicy;
}

/** One adapter under test, fresh for each case: its own topics (a Kafka topic prefix...). */
export interface EventBusUnderTest {
  /** A bus of consumer group `groupId` on this case's topics. The suite starts and stops it. */
  bus: (options: EventBusOptionsUnderTest) => EventBus;
  /** Everything dead-lettered on this case's topics so far, oldest first. */
  deadLetters: () => Promise<readonly DeadLetterRecordV1[]>;
  /** The transport's name of a contract topic (as dead-letter records name it). */
  transportTopic: (topic: Topic) => string;
  /**
   * Sends a message as-is, past publish-time validation (a malformed or schema-invalid message
   * from a misbehaving producer). Adapters without a raw path leave it out and skip that case.
   */
  publishRaw?: (bus: EventBus, topic: Topic, key: string | null, value: string) => Promise<void>;
  dispose?: () => Promise<void>;
}

const TOPIC = DOCUMENT_UPLOADED_V1;
const RETRY: RetryPolicy = { maxAttempts: 3, initialBackoffMs: 20, maxBackoffMs: 100 };

function uploaded(contextId: string, documentId: string, id?: string): CloudEvent<DocumentUploadedV1> {
  return buildCloudEvent<DocumentUploadedV1>({
    topic: TOPIC,
    source: '/studio/conformance',
    tenantId: 'acme',
    contextId,
    ...(id ? { id } : {}),
    data: {
      version: 'v1',
      contextId,
      documentId,
      filename: `${documentId}.md`,
      mediaType: 'text/markdown',
      sha256: 'd'.repeat(64),
      sizeBytes: 1024,
      storageUri: `file:///artifacts/${documentId}.md`,
    },
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The EventBus port's semantics, the same cases for every adapter: delivery of a validated copy,
 * at-least-once delivery de-duplicated by event id, order per partition key (context), refusal
 * of schema-invalid events at publish, retries with the attempt number, and dead-lettering (with
 * the reason) of a handler that keeps failing or a malformed message, after which the next event
 * of the same context is handled.
 */
export function describeEventBusConformance(name: string, makeBus: () => Promise<EventBusUnderTest>, timeoutMs = 30_000): void {
  describe(`EventBus conformance: ${name}`, () => {
    let subject: EventBusUnderTest;
    let buses: EventBus[];
    let caseNo = 0;
    let group: string;

    /** A started bus whose handler is `handler`; the group is unique to the case. */
    async function started(handler: (event: CloudEvent<DocumentUploadedV1>, delivery: DeliveryInfo) => Promise<void>): Promise<EventBus> {
      const bus = subject.bus({ groupId: group, retry: RETRY });
      buses.push(bus);
      bus.subscribe(TOPIC, handler);
      await bus.start();
      return bus;
    }

    const until = (probe: () => boolean) => eventually(async () => probe(), timeoutMs, 25);

    beforeEach(async () => {
      caseNo += 1;
      group = `conformance-${caseNo}-${Date.now().toString(36)}`;
      subject = await makeBus();
      buses = [];
    });

    afterEach(async () => {
      for (const bus of buses) await bus.stop().catch(() => undefined);
      await subject.dispose?.();
    });

    it('delivers a validated copy of a published event with its delivery info', async () => {
      const received: { event: CloudEvent<DocumentUploadedV1>; delivery: DeliveryInfo }[] = [];
      const bus = await started(async (event, delivery) => {
        received.push({ event, delivery });
      });
      const sent = uploaded('ctx-deliver', 'doc-1');
      await bus.publish(TOPIC, sent);
      await until(() => received.length === 1);
      expect(received[0]?.event).toEqual(sent);
      expect(received[0]?.event).not.toBe(sent);
      expect(received[0]?.delivery).toMatchObject({ topic: TOPIC, attempt: 1 });
    });

    it('handles an event id once: published twice, twice in one batch, and again after it was handled', async () => {
      const handled: string[] = [];
      const bus = await started(async (event) => {
        handled.push(event.data.documentId);
      });
      const twice = uploaded('ctx-dedup', 'doc-twice');
      await bus.publish(TOPIC, twice);
      await bus.publish(TOPIC, twice);
      await publishAll(bus, TOPIC, [twice, uploaded('ctx-dedup', 'doc-between'), twice]);
      await bus.publish(TOPIC, uploaded('ctx-dedup', 'sentinel-1'));
      await until(() => handled.includes('sentinel-1'));
      await bus.publish(TOPIC, twice);
      await bus.publish(TOPIC, uploaded('ctx-dedup', 'sentinel-2'));
      await until(() => handled.includes('sentinel-2'));
      expect(handled.filter((d) => d === 'doc-twice')).toHaveLength(1);
      expect(handled).toEqual(['doc-twice', 'doc-between', 'sentinel-1', 'sentinel-2']);
    });

    it('still handles an event id once after the consumer group restarts (a new bus of the same group)', async () => {
      const handled: string[] = [];
      const first = await started(async (event) => {
        handled.push(`first:${event.data.documentId}`);
      });
      const once = uploaded('ctx-restart', 'doc-once');
      await first.publish(TOPIC, once);
      await until(() => handled.length === 1);
      await first.stop();
      const second = await started(async (event) => {
        handled.push(`second:${event.data.documentId}`);
      });
      await second.publish(TOPIC, once);
      await second.publish(TOPIC, uploaded('ctx-restart', 'sentinel'));
      await until(() => handled.includes('second:sentinel'));
      expect(handled).toEqual(['first:doc-once', 'second:sentinel']);
    });

    it('delivers events published before start() once the bus starts', async () => {
      const handled: string[] = [];
      const bus = subject.bus({ groupId: group, retry: RETRY });
      buses.push(bus);
      bus.subscribe(TOPIC, async (event) => {
        handled.push(event.data.documentId);
      });
      await bus.publish(TOPIC, uploaded('ctx-early', 'early-1'));
      await publishAll(bus, TOPIC, [uploaded('ctx-early', 'early-2')]);
      await bus.start();
      await until(() => handled.length === 2);
      expect(handled).toEqual(['early-1', 'early-2']);
    });

    it('stop() lets the handler in flight finish, then refuses to publish', async () => {
      let started_ = false;
      let finished = false;
      const bus = await started(async () => {
        started_ = true;
        await sleep(500);
        finished = true;
      });
      await bus.publish(TOPIC, uploaded('ctx-stop', 'slow'));
      await until(() => started_);
      await bus.stop();
      expect(finished).toBe(true);
      await expect(bus.publish(TOPIC, uploaded('ctx-stop', 'late'))).rejects.toThrow(/stop/);
    });

    it('refuses a subscription after start() and a second handler for a topic', async () => {
      const bus = subject.bus({ groupId: group, retry: RETRY });
      buses.push(bus);
      bus.subscribe(TOPIC, async () => undefined);
      expect(() => bus.subscribe(TOPIC, async () => undefined)).toThrow(/already has a handler/);
      await bus.start();
      expect(() => bus.subscribe(DOCUMENT_UPLOADED_V1, async () => undefined)).toThrow(/before start/);
    });

    it('keeps publish order within a context, for events published one by one and in batches', async () => {
      const seen = new Map<string, number[]>();
      const bus = await started(async (event) => {
        const [context, n] = event.data.documentId.split(':') as [string, string];
        // Uneven handler times: a later event of a context must still wait for the earlier ones.
        await sleep((Number(n) * 7) % 5);
        seen.set(context, [...(seen.get(context) ?? []), Number(n)]);
      });
      const contexts = ['ctx-order-a', 'ctx-order-b', 'ctx-order-c'];
      const sent = new Map(contexts.map((c) => [c, [] as number[]]));
      for (let n = 0; n < 6; n++) {
        for (const context of contexts) {
          await bus.publish(TOPIC, uploaded(context, `${context}:${n}`));
          sent.get(context)?.push(n);
        }
      }
      const batch = [];
      for (let n = 6; n < 12; n++) {
        for (const context of contexts) {
          batch.push(uploaded(context, `${context}:${n}`));
          sent.get(context)?.push(n);
        }
      }
      await publishAll(bus, TOPIC, batch);
      await until(() => contexts.every((c) => seen.get(c)?.length === 12));
      for (const context of contexts) expect(seen.get(context)).toEqual(sent.get(context));
    });

    it('refuses a schema-invalid event at publish, naming the problem, and sends nothing of a batch holding one', async () => {
      const handled: string[] = [];
      const bus = await started(async (event) => {
        handled.push(event.data.documentId);
      });
      const invalid = uploaded('ctx-invalid', 'doc-bad');
      const { documentId: _dropped, ...data } = invalid.data;
      const broken = { ...invalid, data } as unknown as CloudEvent<DocumentUploadedV1>;
      await expect(bus.publish(TOPIC, broken)).rejects.toThrow(ContractViolation);
      await expect(bus.publish(TOPIC, broken)).rejects.toThrow(/documentId/);
      const wrongType = { ...uploaded('ctx-invalid', 'doc-type'), type: 'studio.something.else.v1' };
      await expect(bus.publish(TOPIC, wrongType)).rejects.toThrow(ContractViolation);
      await expect(publishAll(bus, TOPIC, [uploaded('ctx-invalid', 'doc-in-batch'), broken])).rejects.toThrow(ContractViolation);
      await bus.publish(TOPIC, uploaded('ctx-invalid', 'sentinel'));
      await until(() => handled.includes('sentinel'));
      expect(handled).toEqual(['sentinel']);
      expect(await subject.deadLetters()).toEqual([]);
    });

    it('retries a failing handler with the attempt number, and stops once an attempt succeeds', async () => {
      const attempts: string[] = [];
      const bus = await started(async (event, delivery) => {
        attempts.push(`${event.data.documentId}#${delivery.attempt}`);
        if (event.data.documentId === 'flaky' && delivery.attempt < 2) throw new Error('store unavailable');
      });
      await bus.publish(TOPIC, uploaded('ctx-retry', 'flaky'));
      await bus.publish(TOPIC, uploaded('ctx-retry', 'next'));
      await until(() => attempts.includes('next#1'));
      expect(attempts).toEqual(['flaky#1', 'flaky#2', 'next#1']);
      expect(await subject.deadLetters()).toEqual([]);
    });

    it('dead-letters an event whose handler keeps failing, with the reason, then handles the next event of the context', async () => {
      const attempts: string[] = [];
      const bus = await started(async (event, delivery) => {
        attempts.push(`${event.data.documentId}#${delivery.attempt}`);
        if (event.data.documentId === 'poison') throw new Error('framing failed: unsupported layout');
      });
      const poison = uploaded('ctx-poison', 'poison');
      await bus.publish(TOPIC, poison);
      await bus.publish(TOPIC, uploaded('ctx-poison', 'after'));
      await until(() => attempts.includes('after#1'));
      expect(attempts).toEqual(['poison#1', 'poison#2', 'poison#3', 'after#1']);
      const letters = await eventually(async () => {
        const found = await subject.deadLetters();
        return found.length > 0 ? found : null;
      }, timeoutMs);
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({
        version: 'v1',
        originalTopic: subject.transportTopic(TOPIC),
        key: 'ctx-poison',
        consumerGroup: group,
        eventId: poison.id,
        reason: 'handler-failed',
        error: 'framing failed: unsupported layout',
        attempts: 3,
      });
      expect(JSON.parse(letters[0]?.payload ?? '')).toEqual(poison);
    });

    it('handles a dead-lettered event again when it is published again (a replay)', async () => {
      let failing = true;
      const attempts: string[] = [];
      const bus = await started(async (event, delivery) => {
        attempts.push(`${event.data.documentId}#${delivery.attempt}`);
        if (failing) throw new Error('dependency down');
      });
      const event = uploaded('ctx-replay', 'doc-replay');
      await bus.publish(TOPIC, event);
      await until(() => attempts.length === 3);
      await eventually(async () => (await subject.deadLetters()).length === 1, timeoutMs);
      failing = false;
      await bus.publish(TOPIC, event);
      await until(() => attempts.length === 4);
      expect(attempts).toEqual(['doc-replay#1', 'doc-replay#2', 'doc-replay#3', 'doc-replay#1']);
    });

    it('dead-letters malformed messages (not JSON, schema-invalid) on delivery with their reason; the next event is handled', async () => {
      const publishRaw = subject.publishRaw;
      if (!publishRaw) return;
      const handled: string[] = [];
      const bus = await started(async (event) => {
        handled.push(event.data.documentId);
      });
      const invalid = { ...uploaded('ctx-raw', 'doc-x'), data: { version: 'v1', contextId: 'ctx-raw', filename: 'x.md' } };
      await publishRaw(bus, TOPIC, 'ctx-raw', '{"specversion": "1.0", ');
      await publishRaw(bus, TOPIC, 'ctx-raw', JSON.stringify(invalid));
      await bus.publish(TOPIC, uploaded('ctx-raw', 'doc-ok'));
      await until(() => handled.includes('doc-ok'));
      const letters = await eventually(async () => {
        const found = await subject.deadLetters();
        return found.length >= 2 ? found : null;
      }, timeoutMs);
      expect(handled).toEqual(['doc-ok']);
      expect(letters).toHaveLength(2);
      for (const letter of letters) {
        expect(letter).toMatchObject({ reason: 'invalid-message', eventId: null, attempts: 0, key: 'ctx-raw', consumerGroup: group });
      }
      expect(letters.map((l) => l.payload)).toEqual(['{"specversion": "1.0", ', JSON.stringify(invalid)]);
      expect(letters[1]?.error).toMatch(/documentId/);
    });
  });
}
