/**
 * The signed-in session, kept in sessionStorage (per tab; gone when the tab closes): an API key
 * or an OIDC access token with its expiry. Never in localStorage, never in a cookie.
 */
export interface StoredSession {
  token: string;
  via: 'api-key' | 'oidc';
  expiresAt: number | null;
  /** OIDC: the ID token of the sign-in, the `id_token_hint` of the sign-out at the provider (absent in older sessions). */
  idToken?: string | null;
}

const SESSION = 'studio.session';
const PENDING = 'studio.oidc.pending';

export function loadSession(storage: Storage = sessionStorage, now = Date.now()): StoredSession | null {
  try {
    const raw = storage.getItem(SESSION);
    if (!raw) return null;
    const s = JSON.parse(raw) as StoredSession;
    if (typeof s.token !== 'string' || !s.token) return null;
    if (s.idToken !== undefined && s.idToken !== null && typeof s.idToken !== 'string') return null;
    if (s.expiresAt !== null && s.expiresAt <= now) {
      storage.removeItem(SESSION);
      return null;
    }
    return s;
  } catch {
    return null;
  }
}

export function saveSession(session: StoredSession | null, storage: Storage = sessionStorage): void {
  if (session) storage.setItem(SESSION, JSON.stringify(session));
  else storage.removeItem(SESSION);
}

export function savePending(value: unknown, storage: Storage = sessionStorage): void {
  storage.setItem(PENDING, JSON.stringify(value));
}

/** The pending OIDC sign-in, read once (a callback cannot be replayed). */
export function takePending<T>(storage: Storage = sessionStorage): T | null {
  const raw = storage.getItem(PENDING);
  storage.removeItem(PENDING);
  if (!raw) return null;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return null;
  }
}

/** What signing out at the provider needs of `oidc` in GET /v1/auth/config. */
export interface ProviderSignOutConfig {
  clientId: string;
  /** The provider's `end_session_endpoint` (discovery); null or absent: it offers no sign-out. */
  endSessionEndpoint?: string | null;
}

/**
 * Where to send the browser to end the provider's session too (OpenID Connect RP-Initiated
 * Logout 1.0): the provider's end_session_endpoint with `id_token_hint` (the sign-in's ID token,
 * when it gave one), `client_id`, and `post_logout_redirect_uri` (a URI registered for the
 * client, where the provider sends the browser back). Null when the session did not come from
 * the provider or the provider offers no sign-out: signing out here is then all there is to do.
 */
export function endSessionUrl(
  config: ProviderSignOutConfig | null,
  session: StoredSession | null,
  postLogoutRedirectUri: string,
): string | null {
  if (!config?.endSessionEndpoint || session?.via !== 'oidc') return null;
  const url = new URL(config.endSessionEndpoint);
  if (session.idToken) url.searchParams.set('id_token_hint', session.idToken);
  url.searchParams.set('client_id', config.clientId);
  url.searchParams.set('post_logout_redirect_uri', postLogoutRedirectUri);
  return url.toString();
}

/** The provider's session could not be ended: the studio's is, but the next sign-in may not ask for credentials. */
export class ProviderSignOutError extends Error {
  override name = 'ProviderSignOutError';
}

/**
 * `endSessionUrl` with the gateway's current sign-in configuration (`loadConfig`: GET
 * /v1/auth/config). A configuration that cannot be read is a ProviderSignOutError saying so.
 */
export async function providerSignOutUrl(
  session: StoredSession | null,
  postLogoutRedirectUri: string,
  loadConfig: () => Promise<{ oidc: ProviderSignOutConfig | null }>,
): Promise<string | null> {
  if (session?.via !== 'oidc') return null;
  let config: { oidc: ProviderSignOutConfig | null };
  try {
    config = await loadConfig();
  } catch (error) {
    throw new ProviderSignOutError(
      `could not read the sign-in configuration to sign out at the identity provider (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  return endSessionUrl(config.oidc, session, postLogoutRedirectUri);
}
