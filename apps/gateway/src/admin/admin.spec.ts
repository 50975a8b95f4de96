import { createServer, type Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { applyHttpConventions } from '../http/problem-details';
import { ServiceClient, type UpstreamName } from '../upstream/service-client';
import { ADMIN_SETTINGS, AdminController, TENANT_DATA_HOLDERS } from './admin.controller';

const KEY = 'a-key-of-at-least-twenty-four-characters';

describe("the administration API: a tenant's erasure", () => {
  const seen: { service: string; method: string; url: string; tenant: string | undefined }[] = [];
  const servers: Server[] = [];
  const apps: INestApplication[] = [];

  async function gateway(apiKey: string | null): Promise<string> {
    const urls = {} as Record<UpstreamName, string>;
    for (const service of TENANT_DATA_HOLDERS) {
      const server = createServer((req, res) => {
        seen.push({ service, method: req.method ?? '', url: req.url ?? '', tenant: req.headers['x-tenant-id'] as string | undefined });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ tenantId: req.headers['x-tenant-id'], records: { [service]: 1 }, artifacts: 0, vectorContexts: [] }));
      });
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      urls[service] = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    }
    const moduleRef = await Test.createTestingModule({
      controllers: [AdminController],
      providers: [
        { provide: ServiceClient, useValue: new ServiceClient(urls) },
        { provide: ADMIN_SETTINGS, useValue: { apiKey } },
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    applyHttpConventions(app);
    await app.listen(0, '127.0.0.1');
    apps.push(app);
    return app.getUrl();
  }

  afterEach(async () => {
    seen.length = 0;
    await Promise.all(apps.splice(0).map((a) => a.close()));
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  const erase = (base: string, tenant: string, key?: string) =>
    fetch(`${base}/v1/admin/tenants/${tenant}`, { method: 'DELETE', headers: key === undefined ? {} : { 'x-admin-key': key } });

  it("asks every service that holds a tenant's data to erase it, and answers what each removed", async () => {
    const base = await gateway(KEY);
    const res = await erase(base, 'acme', KEY);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { tenantId: string; erased: Record<string, { records: Record<string, number> }> };
    expect(body.tenantId).toBe('acme');
    expect(Object.keys(body.erased).sort()).toEqual(['auditor', 'framer', 'instructor', 'ontology']);
    expect(body.erased['framer']?.records).toEqual({ framer: 1 });
    expect(seen).toEqual(TENANT_DATA_HOLDERS.map((service) => ({ service, method: 'DELETE', url: '/v1/tenant-data', tenant: 'acme' })));
  });

  it('refuses without the key (401), with a wrong key (403), and is off without ADMIN_API_KEY (404); nothing is erased', async () => {
    const base = await gateway(KEY);
    expect((await erase(base, 'acme')).status).toBe(401);
    const wrong = await erase(base, 'acme', `${KEY}x`);
    expect(wrong.status).toBe(403);
    expect(wrong.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect((await erase(base, 'a%20b', KEY)).status).toBe(400);
    const off = await gateway(null);
    expect((await erase(off, 'acme', KEY)).status).toBe(404);
    expect(seen).toEqual([]);
  });
});
