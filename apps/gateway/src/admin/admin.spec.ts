import { createServer, type Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ApiKeyService } from '../auth/api-key.service';
import { AuditLog } from '../auth/audit-log';
import { bearer, issueKey, memoryKeysModule } from '../auth/testing';
import { applyHttpConventions } from '../http/problem-details';
import { ServiceClient, type UpstreamName } from '../upstream/service-client';
import { AdminController, TENANT_DATA_HOLDERS } from './admin.controller';

const KEY = 'a-key-of-at-least-twenty-four-characters';

describe("the administration API: a tenant's erasure", () => {
  const seen: { service: string; method: string; url: string; tenant: string | undefined }[] = [];
  const servers: Server[] = [];
  const apps: INestApplication[] = [];

  let app: INestApplication;

  async function gateway(apiKey: string | null, failing: UpstreamName | null = null): Promise<string> {
    const urls = {} as Record<UpstreamName, string>;
    for (const service of TENANT_DATA_HOLDERS) {
      const server = createServer((req, res) => {
        seen.push({ service, method: req.method ?? '', url: req.url ?? '', tenant: req.headers['x-tenant-id'] as string | undefined });
        if (service === failing) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ statusCode: 500, message: 'disk full' }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ tenantId: req.headers['x-tenant-id'], records: { [service]: 1 }, artifacts: 0, vectorContexts: [] }));
      });
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      urls[service] = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    }
    const moduleRef = await Test.createTestingModule({
      imports: [memoryKeysModule({ adminApiKey: apiKey })],
      controllers: [AdminController],
      providers: [{ provide: ServiceClient, useValue: new ServiceClient(urls) }],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
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
    expect(Object.keys(body.erased).sort()).toEqual(['auditor', 'framer', 'instructor', 'ontology', 'reward-model']);
    expect(body.erased['framer']?.records).toEqual({ framer: 1 });
    expect(seen).toEqual(TENANT_DATA_HOLDERS.map((service) => ({ service, method: 'DELETE', url: '/v1/tenant-data', tenant: 'acme' })));
  });

  it("revokes every key of the tenant first: each stops working at once, each revocation is in the tenant's audit log, which is kept", async () => {
    const base = await gateway(KEY);
    const keysOf = (key: string) => fetch(`${base}/v1/keys`, { headers: bearer(key) });
    const idOf = (key: string) => key.slice('sk-studio-'.length, 'sk-studio-'.length + 16);
    const [admin, viewer, old, other] = [
      await issueKey(app, 'acme', 'admin'),
      await issueKey(app, 'acme', 'viewer'),
      await issueKey(app, 'acme', 'curator'),
      await issueKey(app, 'globex'),
    ];
    // A key the tenant's admin revoked earlier stays as it was.
    expect((await fetch(`${base}/v1/keys/${idOf(old)}`, { method: 'DELETE', headers: bearer(admin) })).status).toBe(200);
    expect((await keysOf(admin)).status).toBe(200);
    expect((await keysOf(viewer)).status).toBe(403);

    const res = await erase(base, 'acme', KEY);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { revokedKeys: string[] };
    const acmeKeys = await app.get(ApiKeyService).list('acme');
    expect([...body.revokedKeys].sort()).toEqual([idOf(admin), idOf(viewer)].sort());
    expect(acmeKeys.every((k) => k.revokedAt !== null)).toBe(true);
    expect(acmeKeys.find((k) => k.id === idOf(old))?.revokedBy).toBe(`key:${idOf(admin)}`);
    for (const key of [admin, viewer]) {
      const refused = await keysOf(key);
      expect(refused.status).toBe(401);
      expect(((await refused.json()) as { detail: string }).detail).toMatch(/^the API key [0-9a-f]{16} was revoked at /);
    }
    // Another tenant's key works on.
    expect((await keysOf(other)).status).toBe(200);

    const log = await app.get(AuditLog).read('acme', { limit: 100 });
    const erasure = log.filter((e) => e.action === 'key.revoked' && body.revokedKeys.includes(e.target.slice('key:'.length)));
    expect(erasure).toHaveLength(2);
    expect(log.filter((e) => e.action === 'key.revoked')).toHaveLength(3);
    for (const entry of erasure) {
      expect(entry.actor).toMatchObject({ subject: 'platform-admin', via: 'admin-key' });
      expect(entry.before).toMatchObject({ revokedAt: null });
      expect(entry.after).toMatchObject({ revokedAt: expect.any(String), revokedBy: 'platform-admin' });
    }
    expect(log[0]).toMatchObject({ action: 'tenant.erased', target: 'tenant:acme', after: { revokedKeys: body.revokedKeys } });
    // The log is kept: the earlier key changes are still there.
    expect(log.filter((e) => e.action === 'key.created')).toHaveLength(3);
    expect(await app.get(AuditLog).read('globex', { action: 'key.revoked', limit: 10 })).toEqual([]);

    // Erasing again revokes nothing more.
    const again = (await (await erase(base, 'acme', KEY)).json()) as { revokedKeys: string[] };
    expect(again.revokedKeys).toEqual([]);
  });

  it('leaves the keys revoked when a service fails during the erasure, which can be repeated', async () => {
    const base = await gateway(KEY, 'ontology');
    const key = await issueKey(app, 'acme', 'admin');
    const res = await erase(base, 'acme', KEY);
    expect(res.status).toBe(502);
    expect(((await res.json()) as { detail: string }).detail).toBe('the ontology service answered HTTP 500: disk full');
    expect((await fetch(`${base}/v1/keys`, { headers: bearer(key) })).status).toBe(401);
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
