import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Browser } from 'playwright-core';
// The unit under test is the gateway's verifier itself, against the real provider: importing it
// from the app is allowed in this test only.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { OidcVerifier } from '../../apps/gateway/src/auth/oidc';
// So is the web app's sign-out (the URL its sign-out control sends the browser to).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { endSessionUrl } from '../../apps/web/src/lib/auth';
import { OidcProviderProcess, WEB_CLIENT_ID } from './harness/oidc';
import { freePort } from './harness/service-process';
import { launchChromium } from './harness/studio-web';

/**
 * A browser signs in at the local OpenID provider as the web app does: authorization code with
 * PKCE (S256), the provider's sign-in form filled through its labels, the code exchanged at the
 * token endpoint from the app's origin (CORS), the access token accepted by the gateway's verifier;
 * then the web app's sign-out (RP-initiated logout) ends the provider's session, so the next
 * sign-in asks for credentials again.
 */
describe('sign-in at the local OpenID provider in a browser', () => {
  let provider: OidcProviderProcess;
  let app: Server;
  let appOrigin: string;
  let browser: Browser;

  beforeAll(async () => {
    // The "web app": a page at the redirect URI (the browser lands there with ?code=...).
    const appPort = await freePort();
    appOrigin = `http://127.0.0.1:${appPort}`;
    app = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><html lang="en"><title>callback</title><main>signed in</main></html>');
    });
    await new Promise<void>((resolve) => app.listen(appPort, '127.0.0.1', resolve));
    provider = await OidcProviderProcess.start({
      accounts: [{ username: 'cody', password: 'cody-password-1', name: 'Cody Curator', tenant: 'tenant-web', role: 'curator' }],
      redirectUris: [`${appOrigin}/auth/callback`],
    });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await provider?.stop();
    await new Promise<void>((resolve) => (app ? app.close(() => resolve()) : resolve()));
  });

  function authorizeUrl(challenge: string, state: string): string {
    const url = new URL(`${provider.issuer}/auth`);
    url.search = new URLSearchParams({
      client_id: WEB_CLIENT_ID,
      response_type: 'code',
      redirect_uri: `${appOrigin}/auth/callback`,
      scope: 'openid profile email',
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();
    return url.href;
  }

  it('signs in through the form with the keyboard and gets a token the gateway accepts', async () => {
    const page = await browser.newPage();
    try {
      const verifier = randomBytes(32).toString('base64url');
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const state = randomBytes(8).toString('base64url');
      await page.goto(authorizeUrl(challenge, state));
      await expect(page.getByRole('heading', { name: 'Sign in to Alignment Studio' }).isVisible()).resolves.toBe(true);

      // A wrong password: the form comes back with an alert, the username kept.
      await page.getByLabel('Username').fill('cody');
      await page.getByLabel('Password').fill('wrong-password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect(page.getByRole('alert').textContent()).resolves.toContain('Wrong username or password');
      await expect(page.getByLabel('Username').inputValue()).resolves.toBe('cody');

      // The right one, typed and submitted with Enter.
      await page.getByLabel('Password').focus();
      await page.keyboard.type('cody-password-1');
      await Promise.all([page.waitForURL(`${appOrigin}/auth/callback?**`), page.keyboard.press('Enter')]);
      const landed = new URL(page.url());
      expect(landed.searchParams.get('state')).toBe(state);
      expect(landed.searchParams.get('iss')).toBe(provider.issuer);
      const code = landed.searchParams.get('code');
      expect(code).toEqual(expect.any(String));

      // The app exchanges the code from its own origin, as the SPA does (the provider allows its CORS).
      const tokens = await page.evaluate(
        async ({ tokenEndpoint, body }) => {
          const res = await fetch(tokenEndpoint, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body,
          });
          return { status: res.status, body: (await res.json()) as Record<string, unknown> };
        },
        {
          tokenEndpoint: `${provider.issuer}/token`,
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code: code as string,
            redirect_uri: `${appOrigin}/auth/callback`,
            client_id: WEB_CLIENT_ID,
            code_verifier: verifier,
          }).toString(),
        },
      );
      expect(tokens.status).toBe(200);
      const principal = await new OidcVerifier({
        issuer: provider.issuer,
        audience: provider.audience,
        clientId: WEB_CLIENT_ID,
        scope: 'openid profile email',
        tenantClaim: 'tenant',
        roleClaim: 'role',
        discoveryUrl: `${provider.issuer}/.well-known/openid-configuration`,
        jwksUrl: null,
        jwksCacheMaxAgeMs: 60_000,
        jwksCooldownMs: 1_000,
        clockToleranceMs: 0,
        algorithms: ['RS256'],
      }).verify(String(tokens.body['access_token']));
      expect(principal).toEqual({ subject: 'oidc:cody', name: 'Cody Curator', tenant: 'tenant-web', role: 'curator', via: 'oidc' });

      // Within the provider's session, signing in again needs no form (a token after expiry).
      await page.goto(authorizeUrl(challenge, 'again'));
      await page.waitForURL(`${appOrigin}/auth/callback?**`);
      expect(new URL(page.url()).searchParams.get('code')).toEqual(expect.any(String));

      // Signing out as the web app does: RP-initiated logout at the provider's end_session_endpoint
      // (from its discovery document, as GET /v1/auth/config gives it), with the sign-in's ID token.
      const discovery = (await (await fetch(`${provider.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      expect(discovery['end_session_endpoint']).toBe(`${provider.issuer}/session/end`);
      expect(tokens.body['id_token']).toEqual(expect.any(String));
      const signOut = endSessionUrl(
        { clientId: WEB_CLIENT_ID, endSessionEndpoint: String(discovery['end_session_endpoint']) },
        { token: String(tokens.body['access_token']), via: 'oidc', expiresAt: null, idToken: String(tokens.body['id_token']) },
        `${appOrigin}/signin`,
      );
      await page.goto(signOut as string);
      await expect(page.getByRole('heading', { name: 'Sign out of Alignment Studio?' }).isVisible()).resolves.toBe(true);
      // Confirmed with the keyboard: the provider ends its session and sends the browser back to the app.
      expect(await page.evaluate('document.activeElement && document.activeElement.textContent')).toBe('Yes, sign me out');
      await Promise.all([page.waitForURL(`${appOrigin}/signin`), page.keyboard.press('Enter')]);

      // The next sign-in asks for the username and password again.
      await page.goto(authorizeUrl(challenge, 'after-sign-out'));
      await expect(page.getByRole('heading', { name: 'Sign in to Alignment Studio' }).isVisible()).resolves.toBe(true);
      await expect(page.getByLabel('Password').inputValue()).resolves.toBe('');
      expect(page.url().startsWith(appOrigin)).toBe(false);
    } finally {
      await page.close();
    }
  });

  it('sends the browser back after sign-out only to a URI registered for the web client', async () => {
    const page = await browser.newPage();
    try {
      const foreign = new URL(`${provider.issuer}/session/end`);
      foreign.search = new URLSearchParams({
        client_id: WEB_CLIENT_ID,
        post_logout_redirect_uri: 'http://127.0.0.1:1/elsewhere',
      }).toString();
      await page.goto(foreign.href);
      await expect(page.getByRole('alert').textContent()).resolves.toMatch(/post_logout_redirect_uri not registered/);
    } finally {
      await page.close();
    }
  });

  it('cancelling the sign-in returns to the app with access_denied', async () => {
    const page = await browser.newPage();
    try {
      const challenge = createHash('sha256').update('y'.repeat(43)).digest('base64url');
      await page.goto(authorizeUrl(challenge, 'cancelled'));
      await Promise.all([page.waitForURL(`${appOrigin}/auth/callback?**`), page.getByRole('link', { name: 'Cancel' }).click()]);
      const landed = new URL(page.url());
      expect(landed.searchParams.get('error')).toBe('access_denied');
      expect(landed.searchParams.get('state')).toBe('cancelled');
    } finally {
      await page.close();
    }
  });

  it('refuses a redirect URI the web client does not have, and an authorization request without PKCE', async () => {
    const page = await browser.newPage();
    try {
      const challenge = createHash('sha256').update('x'.repeat(43)).digest('base64url');
      const foreign = new URL(authorizeUrl(challenge, 's1'));
      foreign.searchParams.set('redirect_uri', 'http://127.0.0.1:1/elsewhere');
      await page.goto(foreign.href);
      await expect(page.getByRole('alert').textContent()).resolves.toMatch(/redirect_uri/);

      const noPkce = new URL(authorizeUrl(challenge, 's2'));
      noPkce.searchParams.delete('code_challenge');
      noPkce.searchParams.delete('code_challenge_method');
      await page.goto(noPkce.href);
      // The error goes back to the (registered) redirect URI.
      expect(new URL(page.url()).searchParams.get('error')).toBe('invalid_request');
      expect(new URL(page.url()).searchParams.get('error_description')).toMatch(/PKCE/);
    } finally {
      await page.close();
    }
  });
});
