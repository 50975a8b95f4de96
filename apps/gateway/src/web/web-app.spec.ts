import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { applyHttpConventions } from '../http/problem-details';
import { isReservedPath } from './web-app';
import { WebAppModule } from './web-app.module';

@Controller('v1/things')
class ThingsController {
  @Get()
  list(): { things: string[] } {
    return { things: ['a'] };
  }
}

@Controller('health')
class HealthController {
  @Get()
  health(): { status: string } {
    return { status: 'ok' };
  }
}

async function appServing(root: string): Promise<{ app: INestApplication; base: string }> {
  @Module({
    imports: [WebAppModule.forRoot({ root, connectSources: ['http://issuer.test:9000'] })],
    controllers: [ThingsController, HealthController],
  })
  class TestModule {}
  const moduleRef = await Test.createTestingModule({ imports: [TestModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  applyHttpConventions(app);
  await app.listen(0, '127.0.0.1');
  return { app, base: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

describe('the web app served by the gateway', () => {
  const root = mkdtempSync(join(tmpdir(), 'studio-web-dist-'));
  const dist = join(root, 'dist');
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    mkdirSync(join(dist, 'assets'), { recursive: true });
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>Studio</title><div id="root"></div>');
    writeFileSync(join(dist, 'assets', 'index-abc123.js'), 'console.log("studio")');
    writeFileSync(join(root, 'secret.txt'), 'outside the app');
    ({ app, base } = await appServing(dist));
  });
  afterAll(async () => {
    await app?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves index.html at / with a content security policy that allows only its origin and the issuer', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await res.text()).toContain('<div id="root">');
    expect(res.headers.get('content-security-policy')).toContain("connect-src 'self' http://issuer.test:9000");
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('cache-control')).toBe('no-cache');
  });

  it('serves the hashed bundles as immutable JavaScript', async () => {
    const res = await fetch(`${base}/assets/index-abc123.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toContain('immutable');
    expect(await res.text()).toBe('console.log("studio")');
  });

  it('answers a page of the app (client-side route) with index.html', async () => {
    for (const page of ['/contexts/acme-policy/clauses', '/runs/run-1', '/auth/callback?code=x&state=y']) {
      const res = await fetch(`${base}${page}`);
      expect({ page, status: res.status, type: res.headers.get('content-type') }).toEqual({
        page,
        status: 200,
        type: 'text/html; charset=utf-8',
      });
    }
  });

  it('never shadows the API: routes answer, unknown API paths answer the API 404, not the app', async () => {
    expect(await (await fetch(`${base}/v1/things`)).json()).toEqual({ things: ['a'] });
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: 'ok' });
    for (const path of ['/v1/nothing-here', '/v1', '/docs-json', '/ready']) {
      const res = await fetch(`${base}${path}`);
      expect({ path, status: res.status, type: res.headers.get('content-type') }).toEqual({
        path,
        status: 404,
        type: expect.not.stringContaining('text/html'),
      });
    }
  });

  it('answers 404 for a missing bundle (never HTML as JavaScript) and never serves a file outside its folder', async () => {
    expect((await fetch(`${base}/assets/gone-000.js`)).status).toBe(404);
    expect((await fetch(`${base}/favicon.png`)).status).toBe(404);
    const traversal = await fetch(`${base}/%2e%2e/secret.txt`);
    expect(await traversal.text()).not.toContain('outside the app');
    expect((await fetch(`${base}/..%2fsecret.txt`)).status).not.toBe(500);
  });

  it('leaves other methods to the routes', async () => {
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(404);
  });

  it('knows the reserved prefixes', () => {
    expect(['/v1', '/v1/contexts', '/docs', '/docs-json', '/health', '/ready'].every(isReservedPath)).toBe(true);
    expect(['/', '/contexts', '/v10', '/healthy', '/documents/v1'].some(isReservedPath)).toBe(false);
  });
});

describe('the gateway without a built web app', () => {
  it('serves the API only', async () => {
    const { app, base } = await appServing(join(tmpdir(), 'no-such-web-dist-folder'));
    try {
      expect((await fetch(`${base}/`)).status).toBe(404);
      expect((await fetch(`${base}/v1/things`)).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});
