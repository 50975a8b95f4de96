import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpException } from '@nestjs/common';
// The unit under test is the gateway's verifier itself, against the real provider: importing it
// from the app is allowed in this test only.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { OidcVerifier, type OidcSettings } from '../../apps/gateway/src/auth/oidc';
import { OidcProviderProcess, WEB_CLIENT_ID, type OidcAccount } from './harness/oidc';
import { freePort } from './harness/service-process';

/**
 * The gateway's OidcVerifier against a real OpenID provider (deploy/local/oidc/provider.mjs, the
 * `oidc-provider` package) as a process: tokens from its authorization-code + PKCE sign-in and its
 * client-credentials grant, expiry, key rotation, a foreign issuer and audience, claims.
 */
const accounts: OidcAccount[] = [
  { username: 'ada', password: 'ada-password-1', name: 'Ada Admin', email: 'ada@a.example', tenant: 'tenant-a', role: 'admin' },
  { username: 'vic', password: 'vic-password-1', name: 'Vic Viewer', tenant: 'tenant-a', role: 'viewer' },
  { username: 'bob', password: 'bob-password-1', name: 'Bob Curator', tenant: 'tenant-b', role: 'curator' },
  { username: 'mallory', password: 'mallory-password', name: 'Mallory', tenant: 'tenant-a', role: 'superuser' },
  { username: 'badtenant', password: 'badtenant-password', name: 'Bad Tenant', tenant: '-not a tenant', role: 'viewer' },
];

function status(error: unknown): number {
  return error instanceof HttpException ? error.getStatus() : -1;
}

async function rejection(promise: Promise<unknown>): Promise<{ status: number; detail: string }> {
  try {
    await promise;
  } catch (error) {
    const body = error instanceof HttpException ? error.getResponse() : null;
    const detail = typeof body === 'object' && body !== null ? String((body as { message?: unknown }).message) : String(error);
    return { status: status(error), detail };
  }
  throw new Error('expected a rejection, the token was accepted');
}

describe('OidcVerifier against the real OpenID provider', () => {
  let provider: OidcProviderProcess;
  let keysDir: string;

  const settingsFor = (overrides: Partial<OidcSettings> = {}): OidcSettings => ({
    issuer: provider.issuer,
    audience: provider.audience,
    clientId: WEB_CLIENT_ID,
    scope: 'openid profile email',
    tenantClaim: 'tenant',
    roleClaim: 'role',
    discoveryUrl: `${provider.issuer}/.well-known/openid-configuration`,
    jwksUrl: null,
    jwksCacheMaxAgeMs: 60_000,
    jwksCooldownMs: 100,
    clockToleranceMs: 0,
    algorithms: ['RS256', 'ES256', 'PS256', 'EdDSA'],
    ...overrides,
  });

  beforeAll(async () => {
    keysDir = mkdtempSync(join(tmpdir(), 'studio-oidc-keys-'));
    provider = await OidcProviderProcess.start({
      accounts,
      clients: [
        { clientId: 'svc-operator', clientSecret: 'svc-operator-secret-1', tenant: 'tenant-a', role: 'operator' },
        { clientId: 'svc-short', clientSecret: 'svc-short-secret-123', tenant: 'tenant-a', role: 'viewer', accessTokenTtlSeconds: 1 },
      ],
      keysFile: join(keysDir, 'keys.json'),
    });
  });

  afterAll(async () => {
    await provider?.stop();
    rmSync(keysDir, { recursive: true, force: true });
  });

  it('a token from the authorization-code + PKCE sign-in names its tenant and role from the claims', async () => {
    const tokens = await provider.signIn('ada', 'ada-password-1');
    expect(tokens.token_type).toBe('Bearer');
    expect(tokens.id_token).toEqual(expect.any(String));
    const principal = await new OidcVerifier(settingsFor()).verify(tokens.access_token);
    expect(principal).toEqual({ subject: 'oidc:ada', name: 'Ada Admin', tenant: 'tenant-a', role: 'admin', via: 'oidc' });

    const bob = await new OidcVerifier(settingsFor()).verify((await provider.signIn('bob', 'bob-password-1')).access_token);
    expect(bob).toMatchObject({ subject: 'oidc:bob', tenant: 'tenant-b', role: 'curator' });
  });

  it('the sign-in form refuses a wrong password', async () => {
    await expect(provider.signIn('ada', 'not-her-password')).rejects.toThrow(/wrong username or password/);
    await expect(provider.signIn('nobody', 'whatever-password')).rejects.toThrow(/wrong username or password/);
  });

  it('a client-credentials token carries the client tenant and role', async () => {
    const principal = await new OidcVerifier(settingsFor()).verify(await provider.clientToken('svc-operator'));
    expect(principal).toEqual({ subject: 'oidc:svc-operator', name: 'svc-operator', tenant: 'tenant-a', role: 'operator', via: 'oidc' });
  });

  it('an expired token is 401 naming the expiry', async () => {
    const verifier = new OidcVerifier(settingsFor());
    const token = await provider.clientToken('svc-short');
    await expect(verifier.verify(token)).resolves.toMatchObject({ role: 'viewer' });
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const refused = await rejection(verifier.verify(token));
    expect(refused.status).toBe(401);
    expect(refused.detail).toMatch(/the token expired at \d{4}-\d\d-\d\dT/);
  });

  it('a token for another audience is 401 naming the audience', async () => {
    const token = (await provider.signIn('ada', 'ada-password-1')).access_token;
    const refused = await rejection(new OidcVerifier(settingsFor({ audience: 'urn:some-other-api' })).verify(token));
    expect(refused).toEqual({ status: 401, detail: expect.stringContaining('does not include "urn:some-other-api"') });
  });

  it("a token of another issuer is 401, even signed with a key the gateway's issuer publishes", async () => {
    // A second provider with the same signing keys: the signature verifies, the issuer must not.
    const other = await OidcProviderProcess.start({ accounts, port: await freePort(), keysFile: join(keysDir, 'keys.json') });
    try {
      const foreign = (await other.signIn('ada', 'ada-password-1')).access_token;
      const refused = await rejection(new OidcVerifier(settingsFor()).verify(foreign));
      expect(refused.status).toBe(401);
      expect(refused.detail).toContain(`issuer "${other.issuer}" is not the configured issuer "${provider.issuer}"`);
    } finally {
      await other.stop();
    }
  });

  it('a tampered token is 401', async () => {
    const token = (await provider.signIn('vic', 'vic-password-1')).access_token;
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = [header, Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url'), signature].join('.');
    const refused = await rejection(new OidcVerifier(settingsFor()).verify(forged));
    expect(refused).toEqual({ status: 401, detail: expect.stringContaining('signature does not verify') });
    expect((await rejection(new OidcVerifier(settingsFor()).verify('not.a.jwt'))).status).toBe(401);
  });

  it('an unknown role or an invalid tenant in the claims is 403 naming it', async () => {
    const verifier = new OidcVerifier(settingsFor());
    const role = await rejection(verifier.verify((await provider.signIn('mallory', 'mallory-password')).access_token));
    expect(role.status).toBe(403);
    expect(role.detail).toContain('"superuser"');
    const tenant = await rejection(verifier.verify((await provider.signIn('badtenant', 'badtenant-password')).access_token));
    expect(tenant.status).toBe(403);
    expect(tenant.detail).toContain('not a valid tenant id');
    // Claims named otherwise: the configured names are the ones read.
    const renamed = await rejection(
      new OidcVerifier(settingsFor({ roleClaim: 'groups' })).verify((await provider.signIn('vic', 'vic-password-1')).access_token),
    );
    expect(renamed).toEqual({ status: 403, detail: expect.stringContaining('claim "groups" is missing') });
  });

  it('key rotation: a token of the withdrawn key is 401, the new key is accepted without a new verifier', async () => {
    const verifier = new OidcVerifier(settingsFor());
    const before = (await provider.signIn('vic', 'vic-password-1')).access_token;
    await expect(verifier.verify(before)).resolves.toMatchObject({ role: 'viewer' });

    // Rotation that keeps the old key published: both verify.
    await provider.rotateKeys({ keep: true });
    await new Promise((resolve) => setTimeout(resolve, 150)); // past the refetch cool-down
    const during = (await provider.signIn('vic', 'vic-password-1')).access_token;
    await expect(verifier.verify(during)).resolves.toMatchObject({ role: 'viewer' });
    await expect(verifier.verify(before)).resolves.toMatchObject({ role: 'viewer' });

    // Rotation that withdraws the old keys: the new key's token makes the verifier read the set again.
    const { signingKey } = await provider.rotateKeys({ keep: false });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const after = (await provider.signIn('vic', 'vic-password-1')).access_token;
    await expect(verifier.verify(after)).resolves.toMatchObject({ subject: 'oidc:vic', role: 'viewer' });
    expect(JSON.parse(Buffer.from(after.split('.')[0] as string, 'base64url').toString())).toMatchObject({ kid: signingKey });
    for (const old of [before, during]) {
      const refused = await rejection(verifier.verify(old));
      expect(refused.status).toBe(401);
      expect(refused.detail).toMatch(/signing key \(kid [\w-]+\) is not among the issuer's published keys/);
    }
  });

  it('a withdrawn key stops verifying once the cached key set is older than its maximum age', async () => {
    const verifier = new OidcVerifier(settingsFor({ jwksCacheMaxAgeMs: 500 }));
    const token = (await provider.signIn('vic', 'vic-password-1')).access_token;
    await expect(verifier.verify(token)).resolves.toMatchObject({ role: 'viewer' });
    await provider.rotateKeys({ keep: false });
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect((await rejection(verifier.verify(token))).status).toBe(401);
  });

  it('gives the web app the endpoints of its sign-in, from the discovery document', async () => {
    await expect(new OidcVerifier(settingsFor()).clientConfig()).resolves.toEqual({
      issuer: provider.issuer,
      clientId: WEB_CLIENT_ID,
      authorizationEndpoint: `${provider.issuer}/auth`,
      tokenEndpoint: `${provider.issuer}/token`,
      endSessionEndpoint: `${provider.issuer}/session/end`,
      scope: 'openid profile email',
      audience: provider.audience,
    });
  });

  it('an unreachable provider is 503 naming it; a discovery document of another issuer too', async () => {
    const port = await freePort();
    const down = await rejection(
      new OidcVerifier(settingsFor({ discoveryUrl: `http://127.0.0.1:${port}/.well-known/openid-configuration` })).verify('a.b.c'),
    );
    expect(down.status).toBe(503);
    expect(down.detail).toContain(`http://127.0.0.1:${port}/.well-known/openid-configuration did not answer`);
    const mismatch = await rejection(new OidcVerifier(settingsFor({ issuer: `${provider.issuer}/` })).clientConfig());
    expect(mismatch.status).toBe(503);
    expect(mismatch.detail).toContain(`names the issuer "${provider.issuer}", not the configured OIDC_ISSUER "${provider.issuer}/"`);
  });
});
