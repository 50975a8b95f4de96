import { Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { HealthModule } from './health.module';
import type { EventBus } from '@studio/ports';
import { EventBusModule } from '../event-bus.module';
import { KafkaReadinessProbe } from '../kafka-event-bus';
import { eventBusCheck, HealthRegistry, runChecks, type ReadinessCheck } from './readiness';

const up = (name: string, detail?: string): ReadinessCheck => ({ name, check: async () => detail });
const down = (name: string, message: string): ReadinessCheck => ({
  name,
  check: async () => {
    throw new Error(message);
  },
});
const hanging = (name: string): ReadinessCheck => ({ name, check: () => new Promise<void>(() => undefined) });

describe('runChecks', () => {
  it('reports each check with its status, detail or error', async () => {
    const results = await runChecks([up('mongo', 'database framer'), down('redis', 'connection is reconnecting')], 1000);
    expect(results['mongo']).toMatchObject({ status: 'up', detail: 'database framer' });
    expect(results['redis']).toMatchObject({ status: 'down', error: 'connection is reconnecting' });
    expect(results['mongo']?.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('counts a check that does not answer in time as down', async () => {
    const results = await runChecks([hanging('events')], 30);
    expect(results['events']).toMatchObject({ status: 'down', error: 'events did not answer within 30 ms' });
  });

  it('counts a check that throws synchronously as down', async () => {
    const sync: ReadinessCheck = {
      name: 'sync',
      check: () => {
        throw new Error('boom');
      },
    };
    expect((await runChecks([sync], 100))['sync']).toMatchObject({ status: 'down', error: 'boom' });
  });
});

describe('HealthRegistry', () => {
  it('is ready only when every check is up', async () => {
    const registry = new HealthRegistry({ service: 'framer' });
    registry.register(up('mongo'));
    expect((await registry.report()).status).toBe('ready');
    registry.register(down('events', 'consumer not running'));
    expect(await registry.report()).toMatchObject({ status: 'not_ready', service: 'framer', checks: { events: { status: 'down' } } });
  });

  it('refuses the same check name twice', () => {
    const registry = new HealthRegistry({ service: 'x' });
    registry.register(up('mongo'));
    expect(() => registry.register(up('mongo'))).toThrow('readiness check "mongo" is registered twice');
  });

  it('is not ready once shutting down', async () => {
    const registry = new HealthRegistry({ service: 'x' });
    registry.markShuttingDown();
    expect(await registry.report()).toMatchObject({
      status: 'not_ready',
      checks: { shutdown: { status: 'down', error: 'the service is shutting down' } },
    });
  });
});

describe('HealthModule over HTTP', () => {
  let app: INestApplication;
  let base: string;
  let healthy = true;

  @Module({})
  class Dependent {
    constructor(registry: HealthRegistry) {
      registry.register({
        name: 'mongo',
        check: async () => {
          if (!healthy) throw new Error('ping failed');
        },
      });
    }
  }

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [HealthModule.forRoot({ service: 'svc' }), Dependent] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });
  afterAll(() => app.close());

  it('GET /health answers 200 without checking dependencies', async () => {
    healthy = false;
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', service: 'svc', pid: process.pid });
  });

  it('GET /ready answers 200 with the checks when all are up', async () => {
    healthy = true;
    const res = await fetch(`${base}/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ready', service: 'svc', checks: { mongo: { status: 'up' } } });
  });

  it('GET /ready answers 503 naming the failing check', async () => {
    healthy = false;
    const res = await fetch(`${base}/ready`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'not_ready', checks: { mongo: { status: 'down', error: 'ping failed' } } });
  });
});

describe('readiness from the event bus', () => {
  it('eventBusCheck is up with the detail the bus gives, down with its reason', async () => {
    let state = { ready: true, detail: 'consumer group framer: member since …' };
    const results = await runChecks([eventBusCheck('events', { health: () => state })], 100);
    expect(results['events']).toMatchObject({ status: 'up', detail: 'consumer group framer: member since …' });
    state = { ready: false, detail: 'consumer group framer: not a member: the consumer crashed (connection refused); restarting it' };
    expect((await runChecks([eventBusCheck('events', { health: () => state })], 100))['events']).toMatchObject({
      status: 'down',
      error: 'consumer group framer: not a member: the consumer crashed (connection refused); restarting it',
    });
  });

  it('the Kafka probe reports a consumer that is not a member of its group without asking the brokers', async () => {
    const probe = new KafkaReadinessProbe(
      { service: 'framer', brokers: ['127.0.0.1:9'], groupId: 'framer', topicPrefix: '' },
      { health: () => ({ ready: false, detail: 'consumer group framer: no heartbeat accepted for 31000 ms' }) },
    );
    await expect(probe.check()).rejects.toThrow('consumer group framer: no heartbeat accepted for 31000 ms');
    await probe.close();
  });

  it('EventBusModule registers the bus health as the events check when no probe is given', async () => {
    let ready = false;
    const bus: EventBus = {
      publish: async () => undefined,
      subscribe: () => undefined,
      start: async () => undefined,
      stop: async () => undefined,
      health: () => ({ ready, detail: ready ? 'member' : 'not a member: rejoining' }),
    };
    const moduleRef = await Test.createTestingModule({
      imports: [HealthModule.forRoot({ service: 'svc' }), EventBusModule.forRoot({ lifecycle: 'transport', useFactory: () => bus })],
    }).compile();
    const registry = moduleRef.get(HealthRegistry);
    expect(await registry.report()).toMatchObject({
      status: 'not_ready',
      checks: { events: { status: 'down', error: 'not a member: rejoining' } },
    });
    ready = true;
    expect(await registry.report()).toMatchObject({ status: 'ready', checks: { events: { status: 'up', detail: 'member' } } });
    await moduleRef.close();
  });
});
