/**
 * The signed-in session, kept in sessionStorage (per tab; gone when the tab closes): an API key
 * or an OIDC access token with its expiry. Never in localStorage, never in a cookie.
 */
export interface StoredSession {
  token: string;
  via: 'api-key' | 'oidc';
  expiresAt: number | null;
}

const SESSION = 'studio.session';
const PENDING = 'studio.oidc.pending';

export function loadSession(storage: Storage = sessionStorage, now = Date.now()): StoredSession | null {
  try {
    const raw = storage.getItem(SESSION);
    if (!raw) return null;
    const s = JSON.parse(raw) as StoredSession;
    if (typeof s.token !== 'string' || !s.token) return null;
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
