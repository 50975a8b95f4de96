import { randomBytes } from 'node:crypto';
import { buildCloudEvent, DOCUMENT_UPLOADED_V1, type CloudEvent, type DocumentUploadedV1 } from '@studio/contracts';
import { kafkaEnv, kafkaSecurityOf, loadConfig, refineKafkaSecurity } from '@studio/config';
import { InMemoryProcessedEventStore } from '@studio/inproc';
import { KafkaEventBus } from '@studio/kafka';
import type { EventBusLogger } from '@studio/ports';
import { eventually, uniqueName } from '@studio/testing';
import { z } from 'zod';
import { KafkaReadinessProbe } from './kafka-event-bus';
import { privateKafkaAvailable, startPrivateKafka, type PrivateKafkaBroker } from './testing/private-kafka-broker';

const QUIET: EventBusLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const USER = 'studio-framer';
const PASSWORD = randomBytes(18).toString('base64url');

function uploaded(documentId: string): CloudEvent<DocumentUploadedV1> {
  return buildCloudEvent<DocumentUploadedV1>({
    topic: DOCUMENT_UPLOADED_V1,
    source: '/studio/it',
    tenantId: 'acme',
    contextId: 'ctx-sasl',
    data: {
      version: 'v1',
      contextId: 'ctx-sasl',
      documentId,
      filename: 'conduct.md',
      mediaType: 'text/markdown',
      sha256: 'e'.repeat(64),
      sizeBytes: 1,
      storageUri: `file:///tmp/${documentId}`,
    },
  });
}

/** The security settings a service reads from its environment (KAFKA_SASL_*), as bootstrap validates them. */
function securityFromEnv(env: Record<string, string>) {
  const schema = z.object(kafkaEnv('framer')).superRefine(refineKafkaSecurity);
  return kafkaSecurityOf(loadConfig(schema, { KAFKA_BROKERS: '127.0.0.1:9092', ...env }, 'framer'));
}

const where = privateKafkaAvailable();
if ('missing' in where && process.env['CI'] === 'true') throw new Error(`a private Kafka broker cannot run: ${where.missing}`);
if ('missing' in where)
  console.warn(`[integration] private Kafka broker unavailable (${where.missing}): the SASL tests are skipped locally`);

('lib' in where ? describe : describe.skip)('Kafka with SASL/SCRAM (a private broker that requires it)', () => {
  let broker: PrivateKafkaBroker;
  const cleanup: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    broker = await startPrivateKafka((where as { lib: string }).lib, 180_000, {
      scram: { mechanism: 'scram-sha-512', username: USER, password: PASSWORD },
    });
  }, 200_000);

  afterAll(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
    await broker?.close();
  });

  const probe = (security?: ReturnType<typeof securityFromEnv>) => {
    const p = new KafkaReadinessProbe(
      { service: 'framer', brokers: [broker.address], groupId: 'framer', topicPrefix: '', ...(security ? { security } : {}) },
      null,
    );
    cleanup.push(() => p.close());
    return p;
  };

  it('refuses a client without credentials, and one with a wrong password', async () => {
    await expect(probe().check()).rejects.toThrow();
    const wrong = securityFromEnv({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: USER, KAFKA_SASL_PASSWORD: 'wrong' });
    await expect(probe(wrong).check()).rejects.toThrow(/SASL SCRAM SHA512 authentication failed|authentication/i);
  }, 60_000);

  it('lets the event bus configured from KAFKA_SASL_* publish and consume', async () => {
    const security = securityFromEnv({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: USER, KAFKA_SASL_PASSWORD: PASSWORD });
    expect(await probe(security).check()).toMatch(/1 broker\(s\)/);
    const bus = new KafkaEventBus({
      clientId: 'framer',
      brokers: [broker.address],
      groupId: 'framer',
      topicPrefix: `${uniqueName('sasl')}.`,
      processedEvents: new InMemoryProcessedEventStore(),
      partitions: 1,
      replicationFactor: 1,
      sessionTimeoutMs: 6_000,
      heartbeatIntervalMs: 1_000,
      logger: QUIET,
      security,
    });
    cleanup.push(() => bus.stop());
    const seen: string[] = [];
    bus.subscribe(DOCUMENT_UPLOADED_V1, async (e) => void seen.push(e.data.documentId));
    await bus.start();
    await eventually(async () => bus.health().ready, 60_000);
    await bus.publish(DOCUMENT_UPLOADED_V1, uploaded('over-scram'));
    await eventually(async () => seen.includes('over-scram'), 30_000);
    expect(seen).toEqual(['over-scram']);
  }, 120_000);
});
