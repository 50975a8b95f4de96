import { connect, type Socket } from 'node:net';
import { Controller, Inject, Module, type INestMicroservice } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { buildCloudEvent, DOCUMENT_UPLOADED_V1, type CloudEvent, type DocumentUploadedV1 } from '@studio/contracts';
import { KafkaDeadLetterReader, KafkaEventBus, type DeadLetterMessage, type KafkaEventBusConfig } from '@studio/kafka';
import { connectMongo, MongoProcessedEventStore, type MongoDatabase } from '@studio/mongo';
import type { ISocketFactory } from 'kafkajs';
import type { EventBusLogger } from '@studio/ports';
import { describeWithServers, eventually, uniqueName } from '@studio/testing';
import { EVENT_BUS } from './event-bus.module';
import { EventBusContext, EventBusExceptionFilter, EventBusServer, EventPublisher, provideEventPublisher } from './event-bus-server';

const TOPIC = DOCUMENT_UPLOADED_V1;

/** kafkajs sockets that a test can cut: every open one is destroyed, every new one is refused. */
function severableNetwork(): { socketFactory: ISocketFactory; sever: () => void; heal: () => void } {
  let severed = false;
  const open = new Set<Socket>();
  const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    // Port 9 (discard) has no listener here: the connection is refused at once.
    const socket = severed ? connect({ host: '127.0.0.1', port: 9 }) : connect({ host, port }, onConnect);
    socket.setKeepAlive(true, 30_000);
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    return socket;
  };
  return {
    socketFactory,
    sever: () => {
      severed = true;
      for (const socket of open) socket.destroy(new Error('network cut by the test'));
    },
    heal: () => {
      severed = false;
    },
  };
}
const quiet: EventBusLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const fastRetry = { maxAttempts: 3, initialBackoffMs: 50, maxBackoffMs: 200 };

function uploaded(contextId: string, documentId: string, id?: string): CloudEvent<DocumentUploadedV1> {
  return buildCloudEvent<DocumentUploadedV1>({
    topic: TOPIC,
    source: '/studio/it',
    tenantId: 'acme',
    contextId,
    ...(id ? { id } : {}),
    data: {
      version: 'v1',
      contextId,
      documentId,
      filename: 'conduct.md',
      mediaType: 'text/markdown',
      sha256: 'd'.repeat(64),
      sizeBytes: 1024,
      storageUri: `file:///tmp/${documentId}`,
    },
  });
}

const RECEIVED = Symbol('RECEIVED');
interface Received {
  event: CloudEvent<DocumentUploadedV1>;
  partition: number | null;
  attempt: number;
}

@Controller()
class UploadsController {
  constructor(@Inject(RECEIVED) private readonly received: Received[]) {}

  @EventPattern(TOPIC)
  async onUploaded(@Payload() event: CloudEvent<DocumentUploadedV1>, @Ctx() ctx: EventBusContext): Promise<void> {
    this.received.push({ event, partition: ctx.getDelivery().partition, attempt: ctx.getAttempt() });
  }
}

async function microservice(bus: KafkaEventBus, source: string, controllers: Array<new (...args: never[]) => unknown>) {
  const received: Received[] = [];
  @Module({
    controllers,
    providers: [{ provide: RECEIVED, useValue: received }, { provide: EVENT_BUS, useValue: bus }, ...provideEventPublisher(source)],
  })
  class ServiceModule {}
  const moduleRef = await Test.createTestingModule({ imports: [ServiceModule] }).compile();
  const app: INestMicroservice = moduleRef.createNestMicroservice({ strategy: new EventBusServer(bus), logger: false });
  app.useGlobalFilters(new EventBusExceptionFilter());
  await app.listen();
  return { app, received };
}

describeWithServers(['KAFKA_BROKERS', 'MONGO_URL'], 'Kafka event bus (real Kafka + MongoDB-compatible store)', (urls) => {
  let db: MongoDatabase;
  let store: MongoProcessedEventStore;
  const cleanup: Array<() => Promise<unknown>> = [];

  function bus(prefix: string, groupId: string, extra: Partial<KafkaEventBusConfig> = {}): KafkaEventBus {
    const b = new KafkaEventBus({
      clientId: groupId,
      brokers: urls.KAFKA_BROKERS.split(','),
      groupId,
      topicPrefix: prefix,
      processedEvents: store,
      retry: fastRetry,
      logger: quiet,
      ...extra,
    });
    cleanup.push(() => b.stop().catch(() => undefined));
    return b;
  }

  async function deadLetters(prefix: string): Promise<DeadLetterMessage[]> {
    const records: DeadLetterMessage[] = [];
    const reader = new KafkaDeadLetterReader({
      clientId: 'dlq-reader',
      brokers: urls.KAFKA_BROKERS.split(','),
      groupId: uniqueName('dlq'),
      topicPrefix: prefix,
      logger: quiet,
    });
    cleanup.push(() => reader.stop().catch(() => undefined));
    await reader.start(async (m) => {
      records.push(m);
    });
    return records;
  }

  beforeAll(async () => {
    db = await connectMongo(urls.MONGO_URL, uniqueName('eventbus').replace(/-/g, '_'), quiet);
    store = new MongoProcessedEventStore(db.connection);
  });

  afterEach(async () => {
    for (const stop of cleanup.splice(0).reverse()) await stop();
  });

  afterAll(async () => {
    await db.connection.dropDatabase().catch(() => undefined);
    await db.close();
  });

  it('(a) an event published by one NestJS microservice is consumed, validated, by another with a different group', async () => {
    const prefix = `${uniqueName('it-a')}.`;
    const gateway = await microservice(bus(prefix, 'gateway'), '/studio/gateway', []);
    const framer = await microservice(bus(prefix, 'framer'), '/studio/framer', [UploadsController]);
    const auditor = await microservice(bus(prefix, 'auditor'), '/studio/auditor', [UploadsController]);

    const sent = await gateway.app.get(EventPublisher).publish(TOPIC, {
      tenantId: 'acme',
      contextId: 'ctx-a',
      data: uploaded('ctx-a', 'doc-a').data,
    });

    await eventually(async () => framer.received.length === 1 && auditor.received.length === 1);
    expect(framer.received[0]?.event).toEqual(sent);
    expect(auditor.received[0]?.event).toEqual(sent);
    expect(framer.received[0]?.event.source).toBe('/studio/gateway');
    expect(framer.received[0]?.partition).toEqual(expect.any(Number));
    expect(await store.has('framer', sent.id)).toBe(true);
    expect(await store.has('auditor', sent.id)).toBe(true);
    for (const s of [gateway, framer, auditor]) await s.app.close();
  });

  it('(b) invalid messages (not JSON, schema violation) are dead-lettered with their reason; the next valid event is processed', async () => {
    const prefix = `${uniqueName('it-b')}.`;
    const consumer = bus(prefix, 'framer');
    const handled: string[] = [];
    consumer.subscribe(TOPIC, async (e) => {
      handled.push(e.data.documentId);
    });
    await consumer.start();
    const dlq = await deadLetters(prefix);

    const invalid = { ...uploaded('ctx-b', 'doc-x'), data: { version: 'v1', contextId: 'ctx-b', filename: 'x.md' } };
    await consumer.publishRaw(TOPIC, 'ctx-b', '{"specversion": "1.0", ');
    await consumer.publishRaw(TOPIC, 'ctx-b', JSON.stringify(invalid));
    const valid = uploaded('ctx-b', 'doc-ok');
    await consumer.publish(TOPIC, valid);

    await eventually(async () => handled.length === 1 && dlq.length === 2);
    expect(handled).toEqual(['doc-ok']);
    const [notJson, violation] = dlq.map((m) => m.record).sort((x, y) => Number(x.offset) - Number(y.offset));
    expect(notJson).toMatchObject({
      originalTopic: `${prefix}${TOPIC}`,
      reason: 'invalid-message',
      key: 'ctx-b',
      consumerGroup: 'framer',
      eventId: null,
      attempts: 0,
      payload: '{"specversion": "1.0", ',
    });
    expect(notJson?.error).toMatch(/not JSON/);
    expect(notJson?.partition).toEqual(expect.any(Number));
    expect(violation?.reason).toBe('invalid-message');
    expect(violation?.error).toMatch(/documentId/);
    expect(JSON.parse(violation?.payload ?? '')).toEqual(invalid);
    // Same key, same partition, consecutive offsets: the dead letters point at the originals.
    expect(violation?.partition).toBe(notJson?.partition);
    expect(Number(violation?.offset)).toBe(Number(notJson?.offset) + 1);
  });

  it('(c) a duplicated delivery is processed once: the same id published twice, and a redelivery after the consumer lost its partition before committing', async () => {
    const prefix = `${uniqueName('it-c')}.`;
    const group = uniqueName('framer');
    // One partition, short session. The first member is cut off the network in the middle of a
    // handler (its heartbeats go out during handlers, so being slow alone no longer evicts it).
    const network = severableNetwork();
    const first = bus(prefix, group, {
      partitions: 1,
      sessionTimeoutMs: 6_000,
      heartbeatIntervalMs: 500,
      autoCommitIntervalMs: 600_000,
      socketFactory: network.socketFactory,
    });
    // Runs before its stop (cleanup runs in reverse): the network is back, so it leaves its group cleanly.
    cleanup.push(async () => network.heal());
    const calls: string[] = [];
    let releaseStuck!: () => void;
    const stuck = new Promise<void>((r) => (releaseStuck = r));
    cleanup.unshift(async () => releaseStuck());
    first.subscribe(TOPIC, async (e, d) => {
      calls.push(`first:${e.data.documentId}#${d.attempt}`);
      if (e.data.documentId === 'blocker') await stuck;
    });

    const twice = uploaded('ctx-c', 'doc-twice', uniqueName('evt'));
    const blocker = uploaded('ctx-c', 'blocker');
    // One batch: the duplicate pair, then an event whose handler hangs, so the batch never ends
    // and its offsets are never committed.
    await first.publishMany(TOPIC, [twice, twice, blocker]);
    await first.start();
    await eventually(async () => calls.includes('first:blocker#1'));
    expect(calls).toEqual(['first:doc-twice#1', 'first:blocker#1']);
    await eventually(async () => store.has(group, twice.id));
    network.sever();

    // A second member of the group takes the partition once the first is evicted; it reads from
    // the last committed offset, so doc-twice is delivered again, and must be skipped.
    const skipped: unknown[] = [];
    const second = bus(prefix, group, {
      partitions: 1,
      logger: { ...quiet, debug: (message, fields) => message === 'duplicate event skipped' && skipped.push(fields?.['eventId']) },
    });
    second.subscribe(TOPIC, async (e, d) => {
      calls.push(`second:${e.data.documentId}#${d.attempt}`);
    });
    await second.start();
    await eventually(async () => calls.some((c) => c.startsWith('second:blocker')), 60_000, 200);
    // The blocker's attempt count went on from the first member's (counted in the store).
    expect(calls).toEqual(['first:doc-twice#1', 'first:blocker#1', 'second:blocker#2']);
    // Both copies of doc-twice really were delivered again to the second member, and skipped.
    expect(skipped).toEqual([twice.id, twice.id]);
    releaseStuck();
  }, 90_000);

  it('(d) a handler that always fails is tried maxAttempts times, dead-lettered with its error, and consumption continues', async () => {
    const prefix = `${uniqueName('it-d')}.`;
    const consumer = bus(prefix, 'instructor');
    const attempts: string[] = [];
    consumer.subscribe(TOPIC, async (e, d) => {
      attempts.push(`${e.data.documentId}#${d.attempt}`);
      if (e.data.documentId === 'poison') throw new Error('framing failed: unsupported layout');
    });
    await consumer.start();
    const dlq = await deadLetters(prefix);
    const poison = uploaded('ctx-d', 'poison');
    await consumer.publishMany(TOPIC, [poison, uploaded('ctx-d', 'after')]);

    await eventually(async () => attempts.includes('after#1') && dlq.length === 1);
    expect(attempts).toEqual(['poison#1', 'poison#2', 'poison#3', 'after#1']);
    expect(dlq[0]?.record).toMatchObject({
      originalTopic: `${prefix}${TOPIC}`,
      reason: 'handler-failed',
      error: 'framing failed: unsupported layout',
      attempts: 3,
      eventId: poison.id,
      key: 'ctx-d',
      consumerGroup: 'instructor',
    });
    expect(JSON.parse(dlq[0]?.record.payload ?? '')).toEqual(poison);
    expect(await store.has('instructor', poison.id)).toBe(false);
  });

  it('(e) stop() lets the in-flight handler finish and commits it before disconnecting', async () => {
    const prefix = `${uniqueName('it-e')}.`;
    const group = uniqueName('auditor');
    const consumer = bus(prefix, group);
    let started = false;
    let finished = false;
    consumer.subscribe(TOPIC, async () => {
      started = true;
      await new Promise((r) => setTimeout(r, 1_500));
      finished = true;
    });
    await consumer.start();
    const slow = uploaded('ctx-e', 'slow');
    await consumer.publish(TOPIC, slow);
    await eventually(async () => started);
    await consumer.stop();
    expect(finished).toBe(true);

    // Its offset was committed: with the dedup record removed, a restarted member of the
    // group does not see it again, only what came after.
    expect(await store.forgetGroup(group)).toBe(1);
    const restarted = bus(prefix, group);
    const seen: string[] = [];
    restarted.subscribe(TOPIC, async (e) => {
      seen.push(e.data.documentId);
    });
    await restarted.start();
    await restarted.publish(TOPIC, uploaded('ctx-e', 'next'));
    await eventually(async () => seen.includes('next'));
    expect(seen).toEqual(['next']);
  });

  it('(f) a handler that outlives the session timeout is dead-lettered after its attempts, without losing the group, and the next event on its partition is processed', async () => {
    const prefix = `${uniqueName('it-f')}.`;
    const group = uniqueName('framer');
    const consumer = bus(prefix, group, {
      partitions: 1,
      sessionTimeoutMs: 6_000,
      heartbeatIntervalMs: 1_000,
      handlerTimeoutMs: 2_500,
      retry: { maxAttempts: 3, initialBackoffMs: 50, maxBackoffMs: 200 },
    });
    const attempts: string[] = [];
    const aborted: boolean[] = [];
    consumer.subscribe(TOPIC, async (e, d) => {
      attempts.push(`${e.data.documentId}#${d.attempt}`);
      if (e.data.documentId !== 'slow') return;
      // Like a database call behind a 10 s socket timeout: longer than the 6 s session, and
      // deaf to its abort signal; it fails in the end.
      await new Promise((r) => setTimeout(r, 10_000));
      aborted.push(d.signal?.aborted ?? false);
      throw new Error('socket timed out after 10000 ms');
    });
    await consumer.start();
    const dlq = await deadLetters(prefix);
    await eventually(async () => consumer.health().ready, 30_000);
    const membership: boolean[] = [];
    const sampler = setInterval(() => membership.push(consumer.health().ready), 250);
    cleanup.push(async () => clearInterval(sampler));

    const slow = uploaded('ctx-f', 'slow');
    await consumer.publishMany(TOPIC, [slow, uploaded('ctx-f', 'after')]);
    await eventually(async () => attempts.includes('after#1') && dlq.length === 1, 60_000, 200);
    clearInterval(sampler);
    expect(attempts).toEqual(['slow#1', 'slow#2', 'slow#3', 'after#1']);
    expect(dlq[0]?.record).toMatchObject({
      reason: 'handler-failed',
      error: 'handler exceeded 2500 ms (attempt 3 of 3)',
      attempts: 3,
      eventId: slow.id,
      consumerGroup: group,
    });
    // Heartbeats went out during the handlers: the consumer never left its group.
    expect(membership.length).toBeGreaterThan(20);
    expect(membership.every(Boolean)).toBe(true);
    expect(await store.has(group, slow.id)).toBe(false);
    await eventually(async () => aborted.length >= 1, 15_000);
    expect(aborted.every(Boolean)).toBe(true);
  }, 90_000);

  it('(g) a consumer that kafkajs does not restart after a crash (a non-retriable error in a batch) is restarted by the bus and goes on', async () => {
    const prefix = `${uniqueName('it-g')}.`;
    const group = uniqueName('ontology');
    let failures = 1;
    // A store whose lookup fails once with a TypeError: kafkajs counts that as unrecoverable and
    // leaves the consumer out of its group for good.
    const flaky: typeof store = Object.assign(Object.create(store) as typeof store, {
      seenAmong: async (g: string, ids: readonly string[]) => {
        if (failures-- > 0) throw new TypeError('store driver bug: cannot read properties of undefined');
        return store.seenAmong(g, ids);
      },
      processedInPartition: undefined,
    });
    const lines: string[] = [];
    const consumer = bus(prefix, group, {
      partitions: 1,
      processedEvents: flaky,
      logger: {
        ...quiet,
        error: (m, f) => lines.push(`${m} ${JSON.stringify(f)}`),
        warn: (m, f) => lines.push(`${m} ${JSON.stringify(f)}`),
      },
    });
    const handled: string[] = [];
    consumer.subscribe(TOPIC, async (e) => {
      handled.push(e.data.documentId);
    });
    await consumer.start();
    await consumer.publish(TOPIC, uploaded('ctx-g', 'doc-g'));
    await eventually(async () => handled.includes('doc-g'), 60_000, 200);
    expect(lines.some((l) => l.startsWith('kafka consumer crashed') && l.includes('"restart":false'))).toBe(true);
    expect(lines.some((l) => l.startsWith('kafka consumer: restarting'))).toBe(true);
    await eventually(async () => consumer.health().ready, 30_000);
  }, 90_000);
});
