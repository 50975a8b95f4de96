import { Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { CustomTransportStrategy } from '@nestjs/microservices';
import { ConfigError, kafkaEnv } from '@studio/config';
import type { EventBus } from '@studio/ports';
import { z } from 'zod';
import { createServer, type Server } from 'node:http';
import {
  createServiceApp,
  dependencyCheck,
  loadServiceConfig,
  logDependencies,
  probeHttp,
  startServiceApp,
  type ServiceDefinition,
} from './bootstrap';
import { EVENT_BUS, EventBusModule } from './event-bus.module';
import { ServiceLogger } from './logger';

const calls: string[] = [];

class FakeTransport implements CustomTransportStrategy {
  listen(callback: () => void): void {
    calls.push('transport.listen');
    callback();
  }
  close(): void {
    calls.push('transport.close');
  }
}

function fakeBus(): EventBus {
  return {
    publish: async () => undefined,
    subscribe: () => undefined,
    start: async () => void calls.push('bus.start'),
    stop: async () => void calls.push('bus.stop'),
  };
}

@Injectable()
class DatabaseCloser implements OnApplicationShutdown {
  onApplicationShutdown(): void {
    calls.push('database.close');
  }
}

@Module({ providers: [DatabaseCloser] })
class FeatureModule {}

const Env = z.object({ FEATURE_URL: z.string().url().describe('where the feature lives') });

function definition(lifecycle: 'transport' | 'module', transport: boolean): ServiceDefinition<typeof Env> {
  return {
    name: 'probe',
    defaultPort: 0,
    env: Env,
    module: () => ({
      module: FeatureModule,
      imports: [
        EventBusModule.forRoot({
          lifecycle,
          useFactory: fakeBus,
          readiness: () => ({ check: async () => 'consumer running', close: async () => void calls.push('probe.close') }),
        }),
      ],
    }),
    ...(transport ? { transport: () => new FakeTransport() } : {}),
  };
}

const quiet = new ServiceLogger('probe', 'fatal');

describe('loadServiceConfig', () => {
  it('adds the common variables with the service default port', () => {
    const config = loadServiceConfig(definition('module', false), { FEATURE_URL: 'http://x' });
    expect(config).toMatchObject({ FEATURE_URL: 'http://x', PORT: 0, HOST: '0.0.0.0', LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: 10_000 });
  });

  it('names the missing variable', () => {
    expect(() => loadServiceConfig(definition('module', false), { PORT: '80' })).toThrow(ConfigError);
    expect(() => loadServiceConfig(definition('module', false), { PORT: '80' })).toThrow(
      'FEATURE_URL is required (where the feature lives)',
    );
  });
});

describe('createServiceApp / startServiceApp', () => {
  beforeEach(() => (calls.length = 0));

  it('serves /health and /ready (with the event bus check), starts the transport, and shuts down in order', async () => {
    const def = definition('transport', true);
    const config = loadServiceConfig(def, { FEATURE_URL: 'http://x', HOST: '127.0.0.1' });
    const app = await createServiceApp(def, config, quiet);
    const url = await startServiceApp(app, config);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${url}/health`)).json()).toMatchObject({ status: 'ok', service: 'probe' });
    const ready = await fetch(`${url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { events: { status: 'up', detail: 'consumer running' } } });
    expect(app.get(EVENT_BUS)).toBeDefined();

    await app.close();
    // the transport owns the bus here: the module neither starts nor stops it
    expect(calls).toEqual(['transport.listen', 'transport.close', 'database.close', 'probe.close']);
  });

  it('starts and stops a publish-only bus itself, once', async () => {
    const def = definition('module', false);
    const config = loadServiceConfig(def, { FEATURE_URL: 'http://x', HOST: '127.0.0.1' });
    const app = await createServiceApp(def, config, quiet);
    await startServiceApp(app, config);
    expect(calls).toEqual(['bus.start']);
    await app.close();
    expect(calls.filter((c) => c.startsWith('bus.'))).toEqual(['bus.start', 'bus.stop']);
    expect(calls).toContain('database.close');
  });
});

describe('HTTP dependencies', () => {
  let server: Server;
  let up = '';
  beforeAll(async () => {
    server = createServer((_req, res) => res.writeHead(404).end('no such path'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    up = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
  });
  afterAll(() => server.close());
  // A port nothing listens on: bound, then released.
  const closedPort = async () => {
    const s = createServer();
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    const port = (s.address() as { port: number }).port;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    return port;
  };

  it('counts any answer as reachable and names the cause of a refused connection', async () => {
    expect(await probeHttp(up)).toBeNull();
    const port = await closedPort();
    expect(await probeHttp(`http://127.0.0.1:${port}/v1`)).toBe(`fetch failed: connect ECONNREFUSED 127.0.0.1:${port}`);
  });

  it('reports unreachable dependencies in /ready without making the service unready, and warns at start', async () => {
    const port = await closedPort();
    const dependencies = { LLM_BASE_URL: `http://127.0.0.1:${port}/v1`, FRAMER_URL: up };
    const def = { ...definition('module', false), dependencies: () => dependencies };
    const config = loadServiceConfig(def, { FEATURE_URL: 'http://x', HOST: '127.0.0.1' });
    const app = await createServiceApp(def, config, quiet);
    const url = await startServiceApp(app, config);
    try {
      const ready = await fetch(`${url}/ready`);
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as { checks: Record<string, unknown> }).checks['dependencies']).toMatchObject({
        status: 'up',
        detail: `LLM_BASE_URL unreachable (fetch failed: connect ECONNREFUSED 127.0.0.1:${port}); FRAMER_URL reachable`,
      });
    } finally {
      await app.close();
    }
    const logged: string[] = [];
    await logDependencies(dependencies, { log: (m: string) => logged.push(`log ${m}`), warn: (m: string) => logged.push(`warn ${m}`) });
    expect(logged).toEqual([
      `warn LLM_BASE_URL http://127.0.0.1:${port}/v1 does not answer: fetch failed: connect ECONNREFUSED 127.0.0.1:${port}; calls that need it fail until it does (see /ready)`,
      `log FRAMER_URL ${up} answers`,
    ]);
  });
});

describe('dependencyCheck', () => {
  it('answers with the last result at once, refreshing it in the background when it is old', async () => {
    let clock = 0;
    let answered = 0;
    const server = createServer((_req, res) => {
      answered += 1;
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const check = dependencyCheck({ PEER_URL: url }, { maxAgeMs: 1_000, now: () => clock });
      expect(await check.check()).toBe('PEER_URL reachable');
      expect(await check.check()).toBe('PEER_URL reachable');
      expect(answered).toBe(1);
      clock = 1_000;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      expect(await check.check()).toBe('PEER_URL reachable'); // the old result, while the refresh runs
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await check.check()).toMatch(/^PEER_URL unreachable \(fetch failed: connect ECONNREFUSED/);
    } finally {
      server.close();
    }
  });
});

describe('ServiceLogger', () => {
  it('writes one JSON object per line with the service name', () => {
    const lines: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      new ServiceLogger('framer', 'info').log('hello', 'Ctx');
      new ServiceLogger('framer', 'info').debug('hidden at info', 'Ctx');
    } finally {
      spy.mockRestore();
    }
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ level: 'log', message: 'hello', context: 'Ctx', service: 'framer' });
  });
});

describe('serviceSchema with the Kafka variables', () => {
  it('names the SASL credential a mechanism needs', () => {
    const kafka: ServiceDefinition<z.ZodObject<ReturnType<typeof kafkaEnv>>> = {
      name: 'consumer',
      defaultPort: 0,
      env: z.object(kafkaEnv('consumer')),
      module: () => ({ module: FeatureModule }),
    };
    expect(() =>
      loadServiceConfig(kafka, { KAFKA_BROKERS: 'k:9092', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'c' }),
    ).toThrow('consumer: invalid configuration (1 problem):\n  - KAFKA_SASL_PASSWORD is required when KAFKA_SASL_MECHANISM is set');
    expect(
      loadServiceConfig(kafka, {
        KAFKA_BROKERS: 'k:9092',
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'c',
        KAFKA_SASL_PASSWORD: 'p',
      }),
    ).toMatchObject({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SSL: false });
  });
});
