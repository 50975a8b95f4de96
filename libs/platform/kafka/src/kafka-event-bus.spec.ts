import { createServer, type Server, type Socket } from 'node:net';
import { buildCloudEvent, DOCUMENT_UPLOADED_V1, type DocumentUploadedV1 } from '@studio/contracts';
import { EventBusUnavailableError, type EventBusLogger, type ProcessedEventStore } from '@studio/ports';
import { isTransientTopicError, KafkaEventBus, type KafkaEventBusConfig } from './kafka-event-bus';

const quiet: EventBusLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const store: ProcessedEventStore = {
  has: async () => false,
  remember: async () => undefined,
  countAttempt: async () => 1,
  clearAttempts: async () => undefined,
};

function bus(extra: Partial<KafkaEventBusConfig> = {}): KafkaEventBus {
  return new KafkaEventBus({
    clientId: 'unit',
    brokers: ['127.0.0.1:9'],
    groupId: 'unit',
    processedEvents: store,
    logger: quiet,
    kafkaLogLevel: 'nothing',
    ...extra,
  });
}

const event = buildCloudEvent<DocumentUploadedV1>({
  topic: DOCUMENT_UPLOADED_V1,
  source: '/studio/unit',
  tenantId: 'acme',
  contextId: 'ctx-1',
  data: {
    version: 'v1',
    contextId: 'ctx-1',
    documentId: 'doc-1',
    filename: 'policy.md',
    mediaType: 'text/markdown',
    sha256: 'c'.repeat(64),
    sizeBytes: 1,
    storageUri: 'file:///tmp/x',
  },
});

/** A "broker" that accepts connections and never answers: a hung or half-dead server. */
async function silentServer(): Promise<{ address: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('KafkaEventBus configuration', () => {
  it('refuses a handler timeout that is not below the session timeout, naming both', () => {
    expect(() => bus({ sessionTimeoutMs: 10_000, handlerTimeoutMs: 10_000 })).toThrow(
      'handlerTimeoutMs (10000) must be below sessionTimeoutMs (10000)',
    );
    expect(() => bus({ handlerTimeoutMs: 45_000 })).toThrow('handlerTimeoutMs (45000) must be below sessionTimeoutMs (30000)');
    expect(() => bus({ sessionTimeoutMs: 10_000, handlerTimeoutMs: 9_000 })).not.toThrow();
    // The default follows the session timeout: two thirds of it.
    expect(() => bus({ sessionTimeoutMs: 6_000 })).not.toThrow();
  });

  it('refuses a heartbeat interval not below the session timeout, and a session shorter than the broker allows', () => {
    expect(() => bus({ sessionTimeoutMs: 6_000, heartbeatIntervalMs: 6_000 })).toThrow(
      'heartbeatIntervalMs (6000) must be below sessionTimeoutMs (6000)',
    );
    expect(() => bus({ sessionTimeoutMs: 3_000 })).toThrow(/at least 6000[\s\S]*sessionTimeoutMs/);
  });

  it('is not ready before it is started', () => {
    expect(bus().health()).toEqual({ ready: false, detail: 'the event bus is created' });
  });
});

describe('KafkaEventBus publishing while the broker is unavailable', () => {
  it('fails within publishTimeoutMs with EventBusUnavailableError when the broker accepts connections but never answers', async () => {
    const broker = await silentServer();
    const b = bus({ brokers: [broker.address], publishTimeoutMs: 800 });
    const started = Date.now();
    try {
      const error = await b.publish(DOCUMENT_UPLOADED_V1, event).then(
        () => undefined,
        (err: unknown) => err,
      );
      const elapsed = Date.now() - started;
      expect(error).toBeInstanceOf(EventBusUnavailableError);
      expect(error).toMatchObject({ statusCode: 503, message: expect.stringMatching(/within 800 ms/) });
      expect(elapsed).toBeGreaterThanOrEqual(750);
      expect(elapsed).toBeLessThan(2_000);
    } finally {
      await b.stop().catch(() => undefined);
      await broker.close();
    }
  }, 15_000);

  it('fails within publishTimeoutMs with EventBusUnavailableError when nothing listens at the broker address', async () => {
    const b = bus({ brokers: ['127.0.0.1:9'], publishTimeoutMs: 3_000 });
    const started = Date.now();
    try {
      await expect(b.publish(DOCUMENT_UPLOADED_V1, event)).rejects.toBeInstanceOf(EventBusUnavailableError);
      expect(Date.now() - started).toBeLessThan(3_500);
    } finally {
      await b.stop().catch(() => undefined);
    }
  });

  it('still refuses an invalid event with its validation error, not as unavailable', async () => {
    const b = bus({ publishTimeoutMs: 500 });
    const invalid = { ...event, data: { ...event.data, sha256: 'nope' } };
    await expect(b.publish(DOCUMENT_UPLOADED_V1, invalid)).rejects.not.toBeInstanceOf(EventBusUnavailableError);
  });
});

describe('topic creation on a busy broker', () => {
  it('retries the errors of partitions whose leaders are still being elected, and no other', () => {
    expect(isTransientTopicError(new Error('This server does not host this topic-partition'))).toBe(true);
    expect(isTransientTopicError(Object.assign(new Error('x'), { type: 'LEADER_NOT_AVAILABLE' }))).toBe(true);
    expect(isTransientTopicError(new Error('Topic with this name already exists'))).toBe(false);
    expect(isTransientTopicError(new Error('Authorization failed'))).toBe(false);
  });

  it('can be started again after a start that failed', async () => {
    const bus = new KafkaEventBus({
      clientId: 't',
      brokers: ['127.0.0.1:1'],
      groupId: 'g',
      processedEvents: { seen: async () => false } as unknown as ProcessedEventStore,
      logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
      connectionTimeoutMs: 200,
      retry: { maxAttempts: 1, initialBackoffMs: 1, maxBackoffMs: 1 },
    } as unknown as KafkaEventBusConfig);
    await expect(bus.start()).rejects.toThrow();
    await expect(bus.start()).rejects.not.toThrow(/cannot start an event bus that is starting/);
  }, 60_000);
});
