import { loadServiceConfig } from '@studio/nest';
import { gatewayService } from '../gateway.service';
import { PERMISSIONS } from './permissions';
import { gatewayRoutes } from './routes';

const config = loadServiceConfig(gatewayService, {
  KAFKA_BROKERS: '127.0.0.1:9092',
  MONGO_URL: 'mongodb://127.0.0.1:27017',
  REDIS_URL: 'redis://127.0.0.1:6379',
  SERVICE_TOKEN: 'routes-spec-service-token-0123456789abcdef',
});

describe("the gateway's route table (from Nest's metadata)", () => {
  const routes = gatewayRoutes(gatewayService.module(config));

  it('finds the routes of every module the gateway imports', () => {
    const names = routes.map((r) => `${r.method} ${r.path}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'POST /v1/contexts',
        'POST /v1/contexts/:contextId/documents',
        'GET /v1/runs/:runId',
        'GET /v1/me',
        'DELETE /v1/keys/:keyId',
        'POST /v1/admin/tenants/:tenantId/keys',
        'DELETE /v1/admin/tenants/:tenantId',
      ]),
    );
    expect(new Set(names).size).toBe(names.length);
  });

  it('has every route declare its access: a known permission, any caller, or public', () => {
    const undeclared = routes
      .filter((r) => r.access.kind === 'undeclared')
      .map((r) => `${r.method} ${r.path} (${r.controller}.${r.handler})`);
    expect(undeclared).toEqual([]);
    for (const route of routes) if (route.access.kind === 'permission') expect(Object.keys(PERMISSIONS)).toContain(route.access.permission);
  });

  it('makes public only what authenticates otherwise (the x-admin-key) or needs no credential', () => {
    const publicRoutes = routes.filter((r) => r.access.kind === 'public').map((r) => `${r.method} ${r.path}`);
    for (const route of publicRoutes) expect(route).toMatch(/^(?:\w+ \/v1\/admin\/|GET \/v1\/auth\/config$|GET \/(?!v1\/))/);
  });

  it('rate-limits uploads and run requests', () => {
    const limited = Object.fromEntries(routes.filter((r) => r.rateLimit).map((r) => [`${r.method} ${r.path}`, r.rateLimit]));
    expect(limited).toMatchObject({ 'POST /v1/contexts/:contextId/documents': 'uploads', 'POST /v1/contexts/:contextId/runs': 'runs' });
  });
});
