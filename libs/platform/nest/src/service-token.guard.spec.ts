import { Controller, Get, Headers, Module, Post, type INestApplication } from '@nestjs/common';
import { serviceTokenEnv } from '@studio/config';
import { z } from 'zod';
import { createServiceApp, loadServiceConfig, startServiceApp, type ServiceDefinition } from './bootstrap';
import { ServiceLogger } from './logger';
import { SERVICE_TOKEN_HEADER, ServiceTokenGuard, sameSecret } from './service-token.guard';

const TOKEN = 'a'.repeat(20) + 'service-token-0123456789';

@Controller('v1/things')
class ThingsController {
  @Get()
  list(@Headers('x-tenant-id') tenant: string | undefined): { tenant: string | null } {
    return { tenant: tenant ?? null };
  }

  @Post()
  create(): { created: true } {
    return { created: true };
  }
}

@Module({ controllers: [ThingsController] })
class ThingsModule {}

const Env = z.object({ ...serviceTokenEnv });

const internal: ServiceDefinition<typeof Env> = {
  name: 'things',
  defaultPort: 0,
  env: Env,
  module: () => ({ module: ThingsModule }),
  serviceToken: (config) => config.SERVICE_TOKEN,
};

describe('SERVICE_TOKEN', () => {
  it('is required by a service that declares it, and must be at least 32 characters', () => {
    expect(() => loadServiceConfig(internal, {})).toThrow(/SERVICE_TOKEN is required \(shared credential of service-to-service HTTP calls/);
    expect(() => loadServiceConfig(internal, { SERVICE_TOKEN: 'short' })).toThrow(
      /SERVICE_TOKEN must be at least 32 characters .*\(got "<redacted>"\)/,
    );
    expect(loadServiceConfig(internal, { SERVICE_TOKEN: TOKEN }).SERVICE_TOKEN).toBe(TOKEN);
  });

  it('cannot make a guard from a short token', () => {
    expect(() => new ServiceTokenGuard('x'.repeat(31))).toThrow('at least 32 characters');
  });

  it('compares secrets whatever their lengths', () => {
    expect(sameSecret(TOKEN, TOKEN)).toBe(true);
    expect(sameSecret(TOKEN.slice(0, -1), TOKEN)).toBe(false);
    expect(sameSecret(`${TOKEN}x`, TOKEN)).toBe(false);
    expect(sameSecret('', TOKEN)).toBe(false);
  });
});

describe('an internal service over HTTP', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    const config = loadServiceConfig(internal, { SERVICE_TOKEN: TOKEN, HOST: '127.0.0.1' });
    app = await createServiceApp(internal, config, new ServiceLogger('things', 'fatal'));
    url = await startServiceApp(app, config);
  });
  afterAll(async () => app.close());

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${url}${path}`, { headers });

  it('refuses a request without the service token, whatever tenant it claims: 401 naming the header', async () => {
    const res = await get('/v1/things', { 'x-tenant-id': 'victim' });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toBe(
      `this is an internal service: the ${SERVICE_TOKEN_HEADER} header is required`,
    );
    const post = await fetch(`${url}/v1/things`, { method: 'POST', headers: { 'x-tenant-id': 'victim' } });
    expect(post.status).toBe(401);
  });

  it('refuses a wrong token, an empty one and a prefix of the right one', async () => {
    for (const token of ['', 'b'.repeat(44), TOKEN.slice(0, 32), `${TOKEN}x`]) {
      const res = await get('/v1/things', { [SERVICE_TOKEN_HEADER]: token, 'x-tenant-id': 'victim' });
      expect(res.status).toBe(401);
    }
  });

  it('serves a request that carries the token, and trusts its tenant header', async () => {
    const res = await get('/v1/things', { [SERVICE_TOKEN_HEADER]: TOKEN, 'x-tenant-id': 'acme' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ tenant: 'acme' });
    const post = await fetch(`${url}/v1/things`, { method: 'POST', headers: { [SERVICE_TOKEN_HEADER]: TOKEN } });
    expect(post.status).toBe(201);
  });

  it('leaves /health and /ready open to the orchestrator', async () => {
    expect((await get('/health')).status).toBe(200);
    expect((await get('/ready')).status).toBe(200);
    expect((await get('/health?x=1')).status).toBe(200);
  });
});

describe('a service that does not declare a service token (the gateway)', () => {
  it('installs no guard', async () => {
    const open: ServiceDefinition<z.ZodObject<Record<string, never>>> = {
      name: 'open',
      defaultPort: 0,
      env: z.object({}),
      module: () => ({ module: ThingsModule }),
    };
    const config = loadServiceConfig(open, { HOST: '127.0.0.1' });
    const app = await createServiceApp(open, config, new ServiceLogger('open', 'fatal'));
    try {
      const url = await startServiceApp(app, config);
      expect((await fetch(`${url}/v1/things`)).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});
