import { buildCloudEvent, DOCUMENT_UPLOADED_V1, type CloudEvent, type DocumentUploadedV1 } from '@studio/contracts';
import { InMemoryProcessedEventStore } from '@studio/inproc';
import { KafkaEventBus } from '@studio/kafka';
import { EventBusUnavailableError, type EventBusLogger } from '@studio/ports';
import { eventually, uniqueName } from '@studio/testing';
import { KafkaReadinessProbe } from './kafka-event-bus';
import { privateKafkaAvailable, startPrivateKafka, type PrivateKafkaBroker } from './testing/private-kafka-broker';

const TOPIC = DOCUMENT_UPLOADED_V1;

function uploaded(documentId: string): CloudEvent<DocumentUploadedV1> {
  return buildCloudEvent<DocumentUploadedV1>({
    topic: TOPIC,
    source: '/studio/it',
    tenantId: 'acme',
    contextId: 'ctx-outage',
    data: {
      version: 'v1',
      contextId: 'ctx-outage',
      documentId,
      filename: 'conduct.md',
      mediaType: 'text/markdown',
      sha256: 'e'.repeat(64),
      sizeBytes: 1,
      storageUri: `file:///tmp/${documentId}`,
    },
  });
}

/** Keeps what the bus logs at warn and above, for the report of a failure. */
function recordingLogger(lines: string[]): EventBusLogger {
  const keep = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push(`${new Date().toISOString()} ${level} ${message} ${fields ? JSON.stringify(fields) : ''}`);
  };
  return { debug: () => undefined, info: keep('info'), warn: keep('warn'), error: keep('error') };
}

const where = privateKafkaAvailable();
if ('missing' in where && process.env['CI'] === 'true') throw new Error(`a private Kafka broker cannot run: ${where.missing}`);
if ('missing' in where)
  console.warn(`[integration] private Kafka broker unavailable (${where.missing}): the outage tests are skipped locally`);

('lib' in where ? describe : describe.skip)('Kafka event bus across a broker outage (a private broker, killed and restarted)', () => {
  let broker: PrivateKafkaBroker;
  const cleanup: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    broker = await startPrivateKafka((where as { lib: string }).lib);
  }, 180_000);

  afterAll(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
    await broker?.close();
  });

  it('publishing fails fast and /ready is down while the broker is away; afterwards the consumer rejoins by itself and consumes again', async () => {
    const lines: string[] = [];
    const prefix = `${uniqueName('outage')}.`;
    const bus = new KafkaEventBus({
      clientId: 'framer',
      brokers: [broker.address],
      groupId: 'framer',
      topicPrefix: prefix,
      processedEvents: new InMemoryProcessedEventStore(),
      partitions: 1,
      replicationFactor: 1,
      sessionTimeoutMs: 6_000,
      heartbeatIntervalMs: 1_000,
      publishTimeoutMs: 2_000,
      logger: recordingLogger(lines),
    });
    cleanup.push(() => bus.stop());
    const seen: string[] = [];
    bus.subscribe(TOPIC, async (e) => {
      seen.push(e.data.documentId);
    });
    await bus.start();
    const probe = new KafkaReadinessProbe({ service: 'framer', brokers: [broker.address], groupId: 'framer', topicPrefix: prefix }, bus);
    cleanup.push(() => probe.close());

    await eventually(async () => bus.health().ready, 60_000);
    await bus.publish(TOPIC, uploaded('before'));
    await eventually(async () => seen.includes('before'), 30_000);
    expect(await probe.check()).toMatch(/1 broker\(s\); consumer group framer: member since/);

    // The outage: long enough for kafkajs's own retries to run out (its consumer crashes).
    await broker.kill();
    const outageStarted = Date.now();
    const publishStarted = Date.now();
    const failed = await bus.publish(TOPIC, uploaded('during')).then(
      () => undefined,
      (err: unknown) => err,
    );
    const publishFailedAfterMs = Date.now() - publishStarted;
    expect(failed).toBeInstanceOf(EventBusUnavailableError);
    expect(publishFailedAfterMs).toBeLessThan(3_000);
    await expect(probe.check()).rejects.toThrow();
    await eventually(async () => !bus.health().ready, 20_000, 250);
    const unreadyAfterMs = Date.now() - outageStarted;
    await new Promise((r) => setTimeout(r, Math.max(0, 25_000 - (Date.now() - outageStarted))));
    expect(bus.health().ready).toBe(false);
    await expect(probe.check()).rejects.toThrow();

    await broker.start();
    const restartedAt = Date.now();
    await eventually(async () => bus.health().ready, 120_000, 250);
    const rejoinedAfterMs = Date.now() - restartedAt;
    await eventually(async () => (await probe.check()).includes('member since'), 30_000, 250);

    await bus.publish(TOPIC, uploaded('after'));
    await eventually(async () => seen.includes('after'), 60_000);
    expect(seen).toEqual(['before', 'after']);
    console.info(
      `[broker outage] publish failed after ${publishFailedAfterMs} ms; bus unready ${unreadyAfterMs} ms into the outage; ` +
        `rejoined ${rejoinedAfterMs} ms after the broker was back\n${lines.filter((l) => /crash|restart|rejoin/i.test(l)).join('\n')}`,
    );
  }, 300_000);
});
