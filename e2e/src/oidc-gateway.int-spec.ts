import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithServers, eventually, uniqueName } from '@studio/testing';
import { OidcProviderProcess, oidcGatewayEnv, type OidcAccount } from './harness/oidc';
import { freePort } from './harness/service-process';
import { Stack, type HttpAnswer } from './harness/stack';

/**
 * OIDC bearer tokens through the running gateway (and the framer behind it), issued by a real
 * OpenID provider (deploy/local/oidc/provider.mjs) as its own process: a valid token reaches its
 * tenant's data; tenant and role come from the token's claims, never from x-tenant-id; expired
 * tokens, tokens of another issuer or audience and tokens of a withdrawn key are refused; a key
 * rotated in is accepted without restarting the gateway.
 */
describeWithServers(['KAFKA_BROKERS', 'MONGO_URL', 'REDIS_URL'], 'OIDC bearer tokens at the gateway', (urls) => {
  const tenantA = uniqueName('oidc-a');
  const tenantB = uniqueName('oidc-b');
  const accounts: OidcAccount[] = [
    { username: 'ada', password: 'ada-password-1', name: 'Ada Admin', tenant: tenantA, role: 'admin' },
    { username: 'vic', password: 'vic-password-1', name: 'Vic Viewer', tenant: tenantA, role: 'viewer' },
    { username: 'bob', password: 'bob-password-1', name: 'Bob Admin', tenant: tenantB, role: 'admin' },
  ];
  const clients = [
    { clientId: 'svc-short', clientSecret: 'svc-short-secret-123', tenant: tenantA, role: 'admin', accessTokenTtlSeconds: 2 },
  ];
  let keysDir: string;
  let provider: OidcProviderProcess;
  let stack: Stack;
  /** GET /v1/auth/config before the provider was started. */
  let providerDown: HttpAnswer;
  const contextId = uniqueName('ctx');
  let documentId = '';

  beforeAll(async () => {
    keysDir = mkdtempSync(join(tmpdir(), 'studio-oidc-gw-'));
    // As the web app's test does: the provider's port first, the gateway, then the provider with
    // the gateway's redirect URI (the gateway reads the discovery document on first use).
    const port = await freePort();
    stack = await Stack.start({
      servers: urls,
      services: ['gateway', 'framer'],
      runtimes: [],
      tenant: tenantA,
      prefix: 'oidc',
      // A short cool-down between key-set reads, so that a rotation is seen within the test.
      env: (name) => (name === 'gateway' ? { ...oidcGatewayEnv(port), OIDC_JWKS_COOLDOWN_MS: '100' } : {}),
    });
    providerDown = await stack.call('GET', '/v1/auth/config', undefined, 'gateway', {}, 'anonymous');
    provider = await OidcProviderProcess.start({
      port,
      accounts,
      clients,
      keysFile: join(keysDir, 'keys.json'),
      redirectUris: [`${stack.url('gateway')}/auth/callback`],
    });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    await provider?.stop();
    if (keysDir) rmSync(keysDir, { recursive: true, force: true });
  });

  const bearer = (token: string, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, ...extra });
  const call = (
    method: string,
    path: string,
    token: string | null,
    body?: unknown,
    extra: Record<string, string> = {},
  ): Promise<HttpAnswer> =>
    token === null
      ? stack.call(method, path, body, 'gateway', extra, 'anonymous')
      : stack.call(method, path, body, 'gateway', bearer(token, extra));
  const signIn = async (username: string) => (await provider.signIn(username, `${username}-password-1`)).access_token;
  const versionsPath = () => `/v1/contexts/${contextId}/documents/${documentId}/versions`;

  it('tells the web app how to sign in (public), once the provider answers', async () => {
    expect(providerDown.status).toBe(503);
    expect(providerDown.text).toContain(`${provider.url}/.well-known/openid-configuration did not answer`);
    expect(providerDown.headers.get('retry-after')).toBe('5');
    const res = await call('GET', '/v1/auth/config', null);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      apiKeys: true,
      oidc: {
        issuer: provider.issuer,
        clientId: 'studio-web',
        authorizationEndpoint: `${provider.issuer}/auth`,
        tokenEndpoint: `${provider.issuer}/token`,
        endSessionEndpoint: `${provider.issuer}/session/end`,
        scope: 'openid profile email',
        audience: provider.audience,
      },
    });
  });

  it("a valid token reaches its tenant's data", async () => {
    const ada = await signIn('ada');
    const created = await call('POST', '/v1/contexts', ada, { id: contextId, name: 'OIDC policies' });
    expect(created.status).toBe(201);
    const uploaded = await call('POST', `/v1/contexts/${contextId}/documents`, ada, {
      filename: 'gifts.md',
      mediaType: 'text/markdown',
      content:
        '# Gifts\n\n1. Employees must not accept gifts worth more than 50 EUR.\n2. Employees may accept promotional items of nominal value.\n',
    });
    expect(uploaded.status).toBe(202);
    documentId = String(uploaded.body['documentId']);
    const versions = await stack.waitFor(
      'the document framed',
      async () => {
        const res = await call('GET', versionsPath(), ada);
        return res.status === 200 ? res : null;
      },
      60_000,
    );
    expect(versions.body).toMatchObject({ documentId, currentVersion: 1 });
    // Without a credential, or with a token that is not one, nothing is reached.
    const anonymous = await call('GET', versionsPath(), null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const garbage = await call('GET', versionsPath(), 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln');
    expect(garbage.status).toBe(401);
    expect(garbage.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(garbage.type).toContain('application/problem+json');
  });

  it('tenant and role come from the claims: a forged x-tenant-id is ignored', async () => {
    // The ID token is no access token: it is for the web client, not the gateway.
    const idToken = (await provider.signIn('ada', 'ada-password-1')).id_token as string;
    const asId = await call('GET', versionsPath(), idToken);
    expect(asId.status).toBe(401);
    expect(asId.text).toContain(`does not include \\"${provider.audience}\\"`);

    const bob = await signIn('bob');
    const me = await call('GET', '/v1/me', bob, undefined, { 'x-tenant-id': tenantA });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ subject: 'oidc:bob', name: 'Bob Admin', tenant: tenantB, role: 'admin', via: 'oidc' });
    // Tenant B's admin naming tenant A in the header still sees tenant B's (empty) world.
    const forged = await call('GET', versionsPath(), bob, undefined, { 'x-tenant-id': tenantA });
    expect(forged.status).toBe(404);

    // The viewer of tenant A reads, and is refused a write for its role.
    const vic = await signIn('vic');
    expect((await call('GET', versionsPath(), vic)).status).toBe(200);
    const write = await call('POST', '/v1/contexts', vic, { id: uniqueName('ctx'), name: 'not allowed' }, { 'x-tenant-id': tenantA });
    expect(write.status).toBe(403);
    expect(write.text).toContain('viewer');
    expect(write.text).toContain('contexts:write');
  });

  it('an expired token is 401', async () => {
    const token = await provider.clientToken('svc-short');
    expect((await call('GET', versionsPath(), token)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const expired = await call('GET', versionsPath(), token);
    expect(expired.status).toBe(401);
    expect(expired.text).toMatch(/expired/);
  });

  it("tokens of another issuer or for another audience are 401, though signed with the issuer's own key", async () => {
    // Two more providers with the same signing keys: one names another issuer, one issues for another audience.
    const otherIssuer = await OidcProviderProcess.start({ accounts, clients, keysFile: join(keysDir, 'keys.json') });
    const otherAudience = await OidcProviderProcess.start({
      accounts,
      clients,
      issuer: provider.issuer,
      audience: 'urn:another-api',
      keysFile: join(keysDir, 'keys.json'),
    });
    try {
      const wrongIssuer = await call('GET', versionsPath(), await otherIssuer.clientToken('svc-short'));
      expect(wrongIssuer.status).toBe(401);
      expect(wrongIssuer.text).toContain(`issuer \\"${otherIssuer.issuer}\\"`);
      const wrongAudience = await call('GET', versionsPath(), await otherAudience.clientToken('svc-short'));
      expect(wrongAudience.status).toBe(401);
      expect(wrongAudience.text).toContain('urn:another-api');
    } finally {
      await otherIssuer.stop();
      await otherAudience.stop();
    }
  });

  it("rotated keys: the withdrawn key's token is 401, the new key's token works without restarting the gateway", async () => {
    const before = await signIn('ada');
    expect((await call('GET', versionsPath(), before)).status).toBe(200);
    const { signingKey } = await provider.rotateKeys({ keep: false });
    await new Promise((resolve) => setTimeout(resolve, 200)); // past the gateway's key-set read cool-down
    const after = await signIn('ada');
    expect(JSON.parse(Buffer.from(after.split('.')[0] as string, 'base64url').toString())).toMatchObject({ kid: signingKey });
    const fresh = await call('GET', versionsPath(), after);
    expect(fresh.status).toBe(200);
    const stale = await eventually(async () => {
      const res = await call('GET', versionsPath(), before);
      return res.status === 401 ? res : null;
    }, 5_000);
    expect(stale.text).toMatch(/not among the issuer's published keys/);
  });
});
