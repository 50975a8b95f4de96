import { Controller, Injectable, Module, Post, UseFilters, type INestMicroservice } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { DOCUMENT_UPLOADED_V1, TRAINING_RUN_FAILED_V1, type CloudEvent, type DocumentUploadedV1 } from '@studio/contracts';
import { InProcessEventBus } from '@studio/inproc';
import { EventBusUnavailableError, type DeliveryInfo, type EventBus } from '@studio/ports';
import { EVENT_BUS } from './event-bus.module';
import { EventBusContext, EventBusExceptionFilter, EventBusServer, EventPublisher, provideEventPublisher } from './event-bus-server';

const TOPIC = DOCUMENT_UPLOADED_V1;

const data = (contextId: string, documentId: string): DocumentUploadedV1 => ({
  version: 'v1',
  contextId,
  documentId,
  filename: 'p.md',
  mediaType: 'text/markdown',
  sha256: 'c'.repeat(64),
  sizeBytes: 3,
  storageUri: 'file:///tmp/p.md',
});

@Injectable()
class Received {
  readonly events: Array<{ event: CloudEvent<DocumentUploadedV1>; delivery: DeliveryInfo; isContext: boolean }> = [];
}

@Controller()
class UploadsController {
  constructor(private readonly received: Received) {}

  @EventPattern(TOPIC)
  async onUploaded(@Payload() event: CloudEvent<DocumentUploadedV1>, @Ctx() ctx: EventBusContext): Promise<void> {
    if (event.data.documentId.startsWith('fail')) throw new Error(`cannot frame ${event.data.documentId}`);
    await new Promise((r) => setTimeout(r, 5));
    this.received.events.push({ event, delivery: ctx.getDelivery(), isContext: ctx instanceof EventBusContext });
  }
}

@Controller()
@UseFilters(new EventBusExceptionFilter())
class FilteredController {
  @EventPattern(TRAINING_RUN_FAILED_V1)
  async onFailed(): Promise<void> {
    throw new Error('reason kept by the filter');
  }
}

@Controller()
class RpcController {
  @MessagePattern(TOPIC)
  answer(): string {
    return 'no';
  }
}

@Controller()
class UnknownTopicController {
  @EventPattern('policy.document.misspelt.v1')
  async handle(): Promise<void> {
    return undefined;
  }
}

async function microservice(controllers: Array<new (...args: never[]) => unknown>, bus: EventBus): Promise<INestMicroservice> {
  @Module({ controllers, providers: [Received, { provide: EVENT_BUS, useValue: bus }, ...provideEventPublisher('/studio/test')] })
  class TestModule {}
  const moduleRef = await Test.createTestingModule({ imports: [TestModule] }).compile();
  const app = moduleRef.createNestMicroservice({ strategy: new EventBusServer(bus), logger: false });
  return app;
}

const fastRetry = { maxAttempts: 2, initialBackoffMs: 1, maxBackoffMs: 1 };

describe('EventBusServer', () => {
  it('delivers validated CloudEvents to @EventPattern handlers with an EventBusContext, and publishes through EventPublisher', async () => {
    const bus = new InProcessEventBus({ retry: fastRetry });
    const app = await microservice([UploadsController], bus);
    await app.listen();
    const published = await app.get(EventPublisher).publish(TOPIC, { tenantId: 'acme', contextId: 'ctx-1', data: data('ctx-1', 'doc-1') });
    await app.get(EventPublisher).publishMany(TOPIC, [{ tenantId: 'acme', contextId: 'ctx-1', data: data('ctx-1', 'doc-2') }]);
    await bus.idle();
    const received = app.get(Received).events;
    expect(received.map((r) => r.event.data.documentId)).toEqual(['doc-1', 'doc-2']);
    expect(received[0]?.event).toEqual(published);
    expect(published.source).toBe('/studio/test');
    expect(received[0]?.isContext).toBe(true);
    expect(received[0]?.delivery).toMatchObject({ topic: TOPIC, attempt: 1 });
    await app.close();
  });

  it('propagates handler failures to the bus: retried, then dead-lettered (with the real reason when the filter is applied)', async () => {
    const bus = new InProcessEventBus({ retry: fastRetry });
    const app = await microservice([UploadsController, FilteredController], bus);
    await app.listen();
    const publisher = app.get(EventPublisher);
    await publisher.publish(TOPIC, { tenantId: 'acme', contextId: 'ctx-1', data: data('ctx-1', 'fail-1') });
    await publisher.publish(TRAINING_RUN_FAILED_V1, {
      tenantId: 'acme',
      contextId: 'ctx-1',
      data: { version: 'v1', contextId: 'ctx-1', runId: 'run-1', error: { type: 'OOM', message: 'out of memory' }, attempts: 1 },
    });
    await bus.idle();
    const byTopic = new Map(bus.deadLetters.map((d) => [d.originalTopic, d]));
    // Nest's default filter hides unknown errors; the bus still retries and dead-letters them.
    expect(byTopic.get(TOPIC)).toMatchObject({ reason: 'handler-failed', attempts: 2 });
    expect(byTopic.get(TOPIC)?.error).toMatch(/Internal server error/);
    expect(byTopic.get(TRAINING_RUN_FAILED_V1)).toMatchObject({
      reason: 'handler-failed',
      attempts: 2,
      error: 'reason kept by the filter',
    });
    await app.close();
  });

  it('close() drains the in-flight handler before it resolves', async () => {
    const bus = new InProcessEventBus();
    const app = await microservice([UploadsController], bus);
    await app.listen();
    await app.get(EventPublisher).publish(TOPIC, { tenantId: 'acme', contextId: 'ctx-1', data: data('ctx-1', 'slow') });
    const received = app.get(Received).events;
    await app.close();
    expect(received.map((r) => r.event.data.documentId)).toEqual(['slow']);
  });

  it('refuses @MessagePattern and patterns that are not contract topics', async () => {
    const rpc = await microservice([RpcController], new InProcessEventBus());
    await expect(rpc.listen()).rejects.toThrow(/@MessagePattern\('policy.document.uploaded.v1'\) is not supported/);
    const unknown = await microservice([UnknownTopicController], new InProcessEventBus());
    await expect(unknown.listen()).rejects.toThrow(/not a contract topic/);
  });
});

describe('EventPublisher over HTTP while the bus is unavailable', () => {
  it('answers 503 with the reason when publish fails with EventBusUnavailableError', async () => {
    const unavailable: EventBus = {
      publish: async () => {
        throw new EventBusUnavailableError('the event bus could not publish to "policy.document.uploaded.v1" within 5000 ms');
      },
      subscribe: () => undefined,
      start: async () => undefined,
      stop: async () => undefined,
    };
    @Controller()
    class UploadController {
      constructor(private readonly publisher: EventPublisher) {}
      @Post('upload')
      async upload(): Promise<void> {
        await this.publisher.publish(TOPIC, { tenantId: 'acme', contextId: 'ctx-1', data: data('ctx-1', 'doc-1') });
      }
    }
    @Module({
      controllers: [UploadController],
      providers: [{ provide: EVENT_BUS, useValue: unavailable }, ...provideEventPublisher('/studio/gateway')],
    })
    class GatewayModule {}
    const moduleRef = await Test.createTestingModule({ imports: [GatewayModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    try {
      const res = await fetch(`${await app.getUrl()}/upload`, { method: 'POST' });
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({
        statusCode: 503,
        message: 'the event bus could not publish to "policy.document.uploaded.v1" within 5000 ms',
      });
    } finally {
      await app.close();
    }
  });
});

describe('EventBusContext', () => {
  it('gives the handler the abort signal of its attempt', () => {
    const abort = new AbortController();
    const ctx = new EventBusContext([{ topic: TOPIC, partition: 0, offset: '7', attempt: 2, signal: abort.signal }]);
    expect(ctx.getSignal()).toBe(abort.signal);
    expect(ctx.getAttempt()).toBe(2);
    expect(new EventBusContext([{ topic: TOPIC, partition: null, offset: null, attempt: 1 }]).getSignal()).toBeUndefined();
  });
});
