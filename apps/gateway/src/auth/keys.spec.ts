import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { applyHttpConventions } from '../http/problem-details';
import { AccessError } from './access-errors';
import { ApiKeyService } from './api-key.service';
import { API_KEY_PREFIX, API_KEY_STORE, mintKey, parseApiKey, secretMatches } from './api-keys';
import { BEARER_TOKEN_VERIFIER, type BearerTokenVerifier } from './bearer-verifier';
import { CallerTenant, Requires, type Principal } from './principal';
import { RATE_COUNTER, RateLimit } from './rate-limit';
import { memoryKeysModule } from './testing';
import { Global, Module } from '@nestjs/common';

const ADMIN_KEY = 'an-administration-key-of-24-chars-or-more';

describe('API key format', () => {
  it('mints sk-studio-<id>_<secret> keys that parse back, and stores only the hash of the secret', () => {
    const minted = mintKey();
    expect(minted.key.startsWith(API_KEY_PREFIX)).toBe(true);
    const parsed = parseApiKey(minted.key);
    expect(parsed?.id).toBe(minted.id);
    expect(minted.key).not.toContain(minted.secretSha256);
    expect(secretMatches(parsed?.secret ?? '', minted.secretSha256)).toBe(true);
    expect(secretMatches(`${parsed?.secret ?? ''}x`, minted.secretSha256)).toBe(false);
    expect(mintKey().key).not.toBe(minted.key);
  });

  it('refuses what is not a key', () => {
    for (const credential of ['', 'sk-studio-', 'sk-studio-abc_def', 'sk-other-0123456789abcdef_x', 'eyJhbGciOi.eyJzdWIi.sig'])
      expect(parseApiKey(credential)).toBeNull();
  });
});

describe('AccessError', () => {
  it('renders OpenAI-shaped errors with the same status', () => {
    const denied = AccessError.permissionDenied('viewer', 'models:query');
    expect(denied.getStatus()).toBe(403);
    expect(denied.openAi()).toEqual({
      error: {
        message: 'the role viewer does not have the permission models:query that this operation needs',
        type: 'permission_error',
        code: 'permission_denied',
        param: null,
      },
    });
    expect(AccessError.missingCredential('no').openAi().error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_api_key' });
    const limited = AccessError.rateLimited('chat', 5, 12);
    expect(limited.getStatus()).toBe(429);
    expect(limited.headers).toEqual({ 'Retry-After': '12' });
  });
});

/** Routes of a test controller: one per kind of access. */
@Controller('t')
class ProbeController {
  @Get('read')
  @Requires('studio:read')
  read(@CallerTenant() tenant: string): { tenant: string } {
    return { tenant };
  }

  @Get('run')
  @Requires('runs:operate')
  @RateLimit('runs')
  run(@CallerTenant() tenant: string): { tenant: string } {
    return { tenant };
  }

  @Get('undeclared')
  undeclared(): string {
    return 'should never answer';
  }
}

/** A verifier of test tokens: a JWT-shaped token whose payload is the principal, signature "ok". */
const tokens: BearerTokenVerifier = {
  verify: async (token) => {
    const [, payload, signature] = token.split('.');
    if (signature !== 'ok') throw new Error('signature does not match');
    return JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Principal;
  },
};
const jwt = (principal: Principal, signature = 'ok') =>
  `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify(principal)).toString('base64url')}.${signature}`;

@Global()
@Module({ providers: [{ provide: BEARER_TOKEN_VERIFIER, useValue: tokens }], exports: [BEARER_TOKEN_VERIFIER] })
class TokensModule {}

describe('the AuthGuard, the keys API and the audit log', () => {
  let app: INestApplication;
  let base: string;
  let acmeAdmin = '';

  async function boot(withTokens: boolean): Promise<{ app: INestApplication; base: string }> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        memoryKeysModule({ adminApiKey: ADMIN_KEY, rateLimits: { chat: 0, uploads: 0, runs: 2 } }),
        ...(withTokens ? [TokensModule] : []),
      ],
      controllers: [ProbeController],
    }).compile();
    const created = moduleRef.createNestApplication({ logger: false });
    applyHttpConventions(created);
    await created.listen(0, '127.0.0.1');
    return { app: created, base: await created.getUrl() };
  }

  beforeAll(async () => {
    ({ app, base } = await boot(true));
    acmeAdmin = await bootstrap('acme', 'admin');
  });
  afterAll(() => app.close());

  const call = (method: string, path: string, key?: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method,
      headers: {
        ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  async function bootstrap(tenant: string, role: string, adminKey = ADMIN_KEY): Promise<string> {
    const res = await call(
      'POST',
      `/v1/admin/tenants/${tenant}/keys`,
      undefined,
      { name: `${role} of ${tenant}`, role },
      { 'x-admin-key': adminKey },
    );
    expect(res.status).toBe(201);
    return ((await res.json()) as { key: string }).key;
  }

  it('bootstraps a tenant’s first key with the administration key only', async () => {
    const body = { name: 'first', role: 'admin' };
    expect((await call('POST', '/v1/admin/tenants/acme/keys', undefined, body)).status).toBe(401);
    expect((await call('POST', '/v1/admin/tenants/acme/keys', undefined, body, { 'x-admin-key': `${ADMIN_KEY}!` })).status).toBe(403);
    // A tenant's own admin key is not the administration key.
    expect((await call('POST', '/v1/admin/tenants/globex/keys', acmeAdmin, body)).status).toBe(401);
    const bad = await call('POST', '/v1/admin/tenants/acme/keys', undefined, { name: 'x', role: 'root' }, { 'x-admin-key': ADMIN_KEY });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { detail: string }).detail).toContain(
      'role: must be one of viewer, curator, red-teamer, operator, admin',
    );
  });

  it('answers /v1/me from the credential, ignoring x-tenant-id', async () => {
    const res = await call('GET', '/v1/me', acmeAdmin, undefined, { 'x-tenant-id': 'globex' });
    expect(res.status).toBe(200);
    const me = (await res.json()) as Record<string, unknown>;
    expect(me).toMatchObject({ tenant: 'acme', role: 'admin', via: 'api-key', name: 'admin of acme' });
    expect(me['subject']).toMatch(/^key:[0-9a-f]{16}$/);
    expect(me['permissions']).toContain('keys:manage');
  });

  it('answers 401 problem JSON with WWW-Authenticate for no credential, a malformed header, an unknown key, a wrong secret', async () => {
    const minted = mintKey();
    const wrongSecret = `${acmeAdmin.slice(0, -4)}AAAA`;
    const cases: [string, Record<string, string>, string][] = [
      ['none', {}, 'missing_credential'],
      ['basic', { authorization: 'Basic dXNlcjpwYXNz' }, 'invalid_credential'],
      ['unknown key', { authorization: `Bearer ${minted.key}` }, 'invalid_credential'],
      ['wrong secret', { authorization: `Bearer ${wrongSecret}` }, 'invalid_credential'],
      ['garbage', { authorization: 'Bearer hello' }, 'invalid_credential'],
      [
        'bad token',
        { authorization: `Bearer ${jwt({ subject: 'oidc:x', name: 'x', tenant: 'acme', role: 'admin', via: 'oidc' }, 'forged')}` },
        'invalid_credential',
      ],
    ];
    for (const [what, headers, code] of cases) {
      const res = await call('GET', '/t/read', undefined, undefined, headers);
      expect({ what, status: res.status }).toEqual({ what, status: 401 });
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await res.json()).toMatchObject({ status: 401, title: 'Unauthorized', code });
    }
  });

  it('accepts a token of the BearerTokenVerifier, with tenant and role from it', async () => {
    const token = jwt({ subject: 'oidc:ann', name: 'ann@globex', tenant: 'globex', role: 'viewer', via: 'oidc' });
    const res = await call('GET', '/t/read', token, undefined, { 'x-tenant-id': 'acme' });
    expect(await res.json()).toEqual({ tenant: 'globex' });
    expect((await call('GET', '/t/run', token)).status).toBe(403);
  });

  it('refuses a JWT when no verifier is configured', async () => {
    const plain = await boot(false);
    try {
      const token = jwt({ subject: 'oidc:ann', name: 'ann', tenant: 'acme', role: 'admin', via: 'oidc' });
      const res = await fetch(`${plain.base}/t/read`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { detail: string }).detail).toMatch(/no OIDC issuer is configured/);
    } finally {
      await plain.app.close();
    }
  });

  it('answers 403 naming the permission and the role', async () => {
    const viewer = await bootstrap('acme', 'viewer');
    expect((await call('GET', '/t/read', viewer)).status).toBe(200);
    const res = await call('GET', '/t/run', viewer);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({
      status: 403,
      code: 'permission_denied',
      permission: 'runs:operate',
      role: 'viewer',
      detail: 'the role viewer does not have the permission runs:operate that this operation needs',
    });
    expect((await call('POST', '/v1/keys', viewer, { name: 'mine', role: 'admin' })).status).toBe(403);
  });

  it('refuses a route that declares no access (fails closed)', async () => {
    expect((await call('GET', '/t/undeclared', acmeAdmin)).status).toBe(500);
  });

  it('creates, lists, re-roles and revokes keys of the caller’s tenant; each change takes effect at once and is in the audit log', async () => {
    const created = await call('POST', '/v1/keys', acmeAdmin, { name: 'ci', role: 'viewer' });
    expect(created.status).toBe(201);
    const key = (await created.json()) as { id: string; key: string; tenant: string; role: string; createdBy: string };
    expect(key).toMatchObject({ tenant: 'acme', role: 'viewer', name: 'ci' });
    expect(key.createdBy).toMatch(/^key:/);

    const listed = (await (await call('GET', '/v1/keys', acmeAdmin)).json()) as { keys: Record<string, unknown>[] };
    expect(listed.keys[0]).toMatchObject({ id: key.id, name: 'ci', revokedAt: null });
    expect(JSON.stringify(listed)).not.toContain(key.key.split('_').slice(1).join('_'));
    expect(Object.keys(listed.keys[0] ?? {})).not.toContain('secretSha256');

    expect((await call('GET', '/t/run', key.key)).status).toBe(403);
    const promoted = await call('PATCH', `/v1/keys/${key.id}`, acmeAdmin, { role: 'operator' });
    expect(promoted.status).toBe(200);
    expect((await call('GET', '/t/run', key.key)).status).toBe(200);

    const revoked = await call('DELETE', `/v1/keys/${key.id}`, acmeAdmin);
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as { revokedAt: string | null }).revokedAt).not.toBeNull();
    const after = await call('GET', '/t/read', key.key);
    expect(after.status).toBe(401);
    expect(((await after.json()) as { detail: string }).detail).toMatch(/was revoked/);
    expect((await call('PATCH', `/v1/keys/${key.id}`, acmeAdmin, { role: 'admin' })).status).toBe(409);
    expect((await call('DELETE', `/v1/keys/${key.id}`, acmeAdmin)).status).toBe(200);

    const log = (await (await call('GET', '/v1/audit-log?limit=3', acmeAdmin)).json()) as {
      entries: {
        action: string;
        target: string;
        actor: { subject: string };
        before: Record<string, unknown> | null;
        after: Record<string, unknown>;
      }[];
    };
    expect(log.entries.map((e) => e.action)).toEqual(['key.revoked', 'key.role-changed', 'key.created']);
    expect(log.entries.every((e) => e.target === `key:${key.id}`)).toBe(true);
    expect(log.entries[1]).toMatchObject({ before: { role: 'viewer' }, after: { role: 'operator' } });
    expect(log.entries[0]).toMatchObject({ before: { revokedAt: null }, after: { revokedAt: expect.any(String) } });
    expect(log.entries[2]?.before).toBeNull();
    expect(JSON.stringify(log)).not.toContain('secretSha256');
    const bootstrapped = (await (await call('GET', '/v1/audit-log?action=key.created&limit=1000', acmeAdmin)).json()) as {
      entries: { actor: { subject: string; via: string } }[];
    };
    expect(bootstrapped.entries.some((e) => e.actor.subject === 'platform-admin' && e.actor.via === 'admin-key')).toBe(true);
    expect((await call('GET', '/v1/audit-log?limit=0', acmeAdmin)).status).toBe(400);
  });

  it('confines keys to their tenant: another tenant’s key id is 404, its audit log unseen', async () => {
    const globexAdmin = await bootstrap('globex', 'admin');
    const theirs = (await (await call('POST', '/v1/keys', globexAdmin, { name: 'g', role: 'viewer' })).json()) as { id: string };
    expect((await call('DELETE', `/v1/keys/${theirs.id}`, acmeAdmin)).status).toBe(404);
    expect((await call('PATCH', `/v1/keys/${theirs.id}`, acmeAdmin, { role: 'admin' })).status).toBe(404);
    const ours = (await (await call('GET', '/v1/keys', acmeAdmin)).json()) as { keys: { id: string; tenant: string }[] };
    expect(ours.keys.every((k) => k.tenant === 'acme')).toBe(true);
    const log = (await (await call('GET', '/v1/audit-log', acmeAdmin)).json()) as { entries: { tenant: string; target: string }[] };
    expect(log.entries.every((e) => e.tenant === 'acme')).toBe(true);
    expect(log.entries.some((e) => e.target === `key:${theirs.id}`)).toBe(false);
  });

  it('limits a tenant’s rate-limited requests per minute: 429 with Retry-After; other tenants count apart', async () => {
    const acmeOperator = await bootstrap('acme', 'operator');
    const globexOperator = await bootstrap('globex', 'operator');
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 3; i++) {
      const res = await call('GET', '/t/run', acmeOperator);
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses.at(-1)).toBe(429);
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(limited?.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(await limited?.json()).toMatchObject({ status: 429, code: 'rate_limit_exceeded', limit: 2 });
    expect((await call('GET', '/t/run', globexOperator)).status).toBe(200);
    // Routes without a limit are not counted, nor are refused requests.
    expect((await call('GET', '/t/read', acmeOperator)).status).toBe(200);
    const initechViewer = await bootstrap('initech', 'viewer');
    for (let i = 0; i < 3; i++) expect((await call('GET', '/t/run', initechViewer)).status).toBe(403);
    const initechOperator = await bootstrap('initech', 'operator');
    expect([(await call('GET', '/t/run', initechOperator)).status, (await call('GET', '/t/run', initechOperator)).status]).toEqual([
      200, 200,
    ]);
  });
});

describe('when the stores do not answer', () => {
  it('answers 503 with Retry-After, never lets the request through: a key store that fails, a rate-limit store that hangs', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [memoryKeysModule({ rateLimits: { chat: 0, uploads: 0, runs: 5 } })],
      controllers: [ProbeController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    applyHttpConventions(app);
    const operator = (await app.get(ApiKeyService).create('acme', { name: 'op', role: 'operator' }, 'platform-admin')).key;
    // The key store is read only for a key this replica has not cached with the tenant's current generation.
    const uncached = (await app.get(ApiKeyService).create('acme', { name: 'viewer', role: 'viewer' }, 'platform-admin')).key;
    await app.listen(0, '127.0.0.1');
    const base = await app.getUrl();
    try {
      const counter = app.get<{ hit: unknown }>(RATE_COUNTER);
      counter.hit = () => new Promise(() => undefined);
      const hung = await fetch(`${base}/t/run`, { headers: { authorization: `Bearer ${operator}` } });
      expect(hung.status).toBe(503);
      expect(hung.headers.get('retry-after')).toBe('5');
      expect(((await hung.json()) as { detail: string }).detail).toMatch(/rate-limit store does not answer \(no answer within 1000 ms\)/);

      const store = app.get<{ get: unknown }>(API_KEY_STORE);
      store.get = async () => {
        throw new Error('connection refused');
      };
      const down = await fetch(`${base}/t/read`, { headers: { authorization: `Bearer ${uncached}` } });
      expect(down.status).toBe(503);
      expect(((await down.json()) as { detail: string }).detail).toBe(
        'cannot check the API key: the key store does not answer (connection refused); retry',
      );
    } finally {
      await app.close();
    }
  });
});
