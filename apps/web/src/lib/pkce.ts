/**
 * OAuth 2.0 authorization code with PKCE (RFC 7636) for a public client in the browser: a random
 * verifier, its S256 challenge, the authorization URL with state and nonce, and the code exchange.
 */
export interface OidcConfig {
  issuer: string;
  clientId: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  scope: string;
  /** The API's audience (RFC 8707 resource indicator), when the provider needs one to issue a JWT access token. */
  audience?: string | null;
}

export interface PendingSignIn {
  state: string;
  verifier: string;
  nonce: string;
  redirectUri: string;
  returnTo: string;
}

export interface TokenSet {
  accessToken: string;
  /** Epoch ms when the access token expires, when the provider said. */
  expiresAt: number | null;
  idToken: string | null;
}

function base64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** 32 random bytes, base64url: 43 characters, inside RFC 7636's 43..128. */
export function randomToken(bytes = 32): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

export async function challengeOf(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}

export async function authorizationUrl(config: OidcConfig, pending: PendingSignIn): Promise<string> {
  const url = new URL(config.authorizationEndpoint);
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: pending.redirectUri,
    scope: config.scope,
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: await challengeOf(pending.verifier),
    code_challenge_method: 'S256',
  };
  if (config.audience) params['resource'] = config.audience;
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}

export class SignInError extends Error {
  override name = 'SignInError';
}

/** Checks the callback's state against the pending sign-in, then trades the code for tokens. */
export async function exchangeCode(
  config: OidcConfig,
  pending: PendingSignIn | null,
  callback: URLSearchParams,
  fetchImpl: typeof fetch = fetch,
  now: () => number = Date.now,
): Promise<TokenSet> {
  const error = callback.get('error');
  if (error)
    throw new SignInError(
      `the identity provider refused the sign-in: ${error}${callback.get('error_description') ? ` (${callback.get('error_description')})` : ''}`,
    );
  if (!pending) throw new SignInError('no sign-in was started in this browser tab (or it was already completed): start again');
  if (callback.get('state') !== pending.state)
    throw new SignInError('the sign-in answer does not match the sign-in started here (state differs): start again');
  const code = callback.get('code');
  if (!code) throw new SignInError('the identity provider sent no authorization code');
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code,
    redirect_uri: pending.redirectUri,
    client_id: config.clientId,
    code_verifier: pending.verifier,
  });
  if (config.audience) body.set('resource', config.audience);
  const res = await fetchImpl(config.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body,
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new SignInError(`the token endpoint answered ${res.status} with no JSON`);
  }
  if (!res.ok) {
    throw new SignInError(
      `the token endpoint refused the code (${res.status}): ${String(json['error_description'] ?? json['error'] ?? text)}`,
    );
  }
  const accessToken = json['access_token'];
  if (typeof accessToken !== 'string' || accessToken === '') throw new SignInError('the token endpoint answered without an access_token');
  const expiresIn = json['expires_in'];
  return {
    accessToken,
    expiresAt: typeof expiresIn === 'number' ? now() + expiresIn * 1000 : null,
    idToken: typeof json['id_token'] === 'string' ? json['id_token'] : null,
  };
}
