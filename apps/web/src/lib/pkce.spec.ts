import { authorizationUrl, challengeOf, exchangeCode, randomToken, SignInError, type OidcConfig, type PendingSignIn } from './pkce';

const config: OidcConfig = {
  issuer: 'http://idp.test',
  clientId: 'studio-web',
  authorizationEndpoint: 'http://idp.test/auth',
  tokenEndpoint: 'http://idp.test/token',
  scope: 'openid profile',
};
const pending: PendingSignIn = {
  state: 's-1',
  verifier: 'v'.repeat(43),
  nonce: 'n-1',
  redirectUri: 'http://app.test/auth/callback',
  returnTo: '/',
};

describe('PKCE sign-in', () => {
  it('makes the S256 challenge of RFC 7636 (its appendix B example)', async () => {
    expect(await challengeOf('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('gives random verifiers of 43 URL-safe characters', () => {
    const a = randomToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomToken()).not.toBe(a);
  });

  it('builds the authorization URL with the challenge, state, nonce and (when configured) the resource', async () => {
    const url = new URL(await authorizationUrl({ ...config, audience: 'studio-api' }, pending));
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'studio-web',
      redirect_uri: 'http://app.test/auth/callback',
      scope: 'openid profile',
      state: 's-1',
      nonce: 'n-1',
      code_challenge: await challengeOf(pending.verifier),
      code_challenge_method: 'S256',
      resource: 'studio-api',
    });
  });

  it('trades the code with the verifier, and reads the expiry', async () => {
    const seen: { url: string; body: string }[] = [];
    const fetchImpl = (async (url: string, init: RequestInit) => {
      seen.push({ url, body: String(init.body) });
      return new Response(JSON.stringify({ access_token: 'at', expires_in: 60, id_token: 'it' }), { status: 200 });
    }) as unknown as typeof fetch;
    const tokens = await exchangeCode(config, pending, new URLSearchParams('code=c-1&state=s-1'), fetchImpl, () => 1_000);
    expect(tokens).toEqual({ accessToken: 'at', expiresAt: 61_000, idToken: 'it' });
    expect(seen[0]?.url).toBe('http://idp.test/token');
    expect(Object.fromEntries(new URLSearchParams(seen[0]?.body))).toEqual({
      grant_type: 'authorization_code',
      code: 'c-1',
      redirect_uri: 'http://app.test/auth/callback',
      client_id: 'studio-web',
      code_verifier: pending.verifier,
    });
  });

  it('refuses a callback whose state differs, one without a pending sign-in, a provider error, a refused code', async () => {
    const never = (async () => {
      throw new Error('must not be called');
    }) as unknown as typeof fetch;
    await expect(exchangeCode(config, pending, new URLSearchParams('code=c&state=other'), never)).rejects.toThrow(/state differs/);
    await expect(exchangeCode(config, null, new URLSearchParams('code=c&state=s-1'), never)).rejects.toThrow(/no sign-in was started/);
    await expect(exchangeCode(config, pending, new URLSearchParams('error=access_denied&error_description=nope'), never)).rejects.toThrow(
      'the identity provider refused the sign-in: access_denied (nope)',
    );
    const refusing = (async () =>
      new Response(JSON.stringify({ error: 'invalid_grant', error_description: 'grant request is invalid' }), {
        status: 400,
      })) as unknown as typeof fetch;
    await expect(exchangeCode(config, pending, new URLSearchParams('code=c&state=s-1'), refusing)).rejects.toThrow(SignInError);
    await expect(exchangeCode(config, pending, new URLSearchParams('code=c&state=s-1'), refusing)).rejects.toThrow(
      /\(400\): grant request is invalid/,
    );
  });
});
