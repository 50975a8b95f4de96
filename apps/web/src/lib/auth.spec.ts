import {
  endSessionUrl,
  loadSession,
  providerSignOutUrl,
  ProviderSignOutError,
  saveSession,
  savePending,
  takePending,
  type StoredSession,
} from './auth';

class MemoryStorage implements Storage {
  private readonly map = new Map<string, string>();
  get length() {
    return this.map.size;
  }
  clear() {
    this.map.clear();
  }
  getItem(key: string) {
    return this.map.get(key) ?? null;
  }
  key(i: number) {
    return [...this.map.keys()][i] ?? null;
  }
  removeItem(key: string) {
    this.map.delete(key);
  }
  setItem(key: string, value: string) {
    this.map.set(key, value);
  }
}

describe('the stored session', () => {
  it('keeps a session until its expiry, then drops it', () => {
    const storage = new MemoryStorage();
    saveSession({ token: 'jwt', via: 'oidc', expiresAt: 2_000 }, storage);
    expect(loadSession(storage, 1_999)).toEqual({ token: 'jwt', via: 'oidc', expiresAt: 2_000 });
    expect(loadSession(storage, 2_000)).toBeNull();
    expect(storage.length).toBe(0);
  });

  it("keeps an OIDC session's ID token for the sign-out, and reads a session stored before it was kept", () => {
    const storage = new MemoryStorage();
    saveSession({ token: 'jwt', via: 'oidc', expiresAt: null, idToken: 'id.jwt' }, storage);
    expect(loadSession(storage)?.idToken).toBe('id.jwt');
    storage.setItem('studio.session', JSON.stringify({ token: 'jwt', via: 'oidc', expiresAt: null }));
    expect(loadSession(storage)).toEqual({ token: 'jwt', via: 'oidc', expiresAt: null });
    storage.setItem('studio.session', JSON.stringify({ token: 'jwt', via: 'oidc', expiresAt: null, idToken: 7 }));
    expect(loadSession(storage)).toBeNull();
  });

  it('reads a pending sign-in once', () => {
    const storage = new MemoryStorage();
    savePending({ state: 's' }, storage);
    expect(takePending(storage)).toEqual({ state: 's' });
    expect(takePending(storage)).toBeNull();
  });
});

describe('signing out at the OpenID provider (RP-initiated logout)', () => {
  const config = { clientId: 'studio-web', endSessionEndpoint: 'https://id.example.com/session/end?ui=1' };
  const oidc: StoredSession = { token: 'at', via: 'oidc', expiresAt: null, idToken: 'header.payload.sig' };
  const back = 'https://studio.example.com/signin';

  it("sends the browser to the provider's end_session_endpoint with id_token_hint, client_id and post_logout_redirect_uri", () => {
    const url = new URL(endSessionUrl(config, oidc, back) as string);
    expect(url.origin + url.pathname).toBe('https://id.example.com/session/end');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      ui: '1',
      id_token_hint: 'header.payload.sig',
      client_id: 'studio-web',
      post_logout_redirect_uri: back,
    });
  });

  it('names the client alone when the sign-in gave no ID token', () => {
    const url = new URL(endSessionUrl(config, { ...oidc, idToken: null }, back) as string);
    expect(url.searchParams.has('id_token_hint')).toBe(false);
    expect(url.searchParams.get('client_id')).toBe('studio-web');
  });

  it('has nothing to end for an API key, without a session, or when the provider offers no sign-out', () => {
    expect(endSessionUrl(config, { token: 'sk-studio-x', via: 'api-key', expiresAt: null }, back)).toBeNull();
    expect(endSessionUrl(config, null, back)).toBeNull();
    expect(endSessionUrl({ clientId: 'studio-web', endSessionEndpoint: null }, oidc, back)).toBeNull();
    expect(endSessionUrl({ clientId: 'studio-web' }, oidc, back)).toBeNull();
    expect(endSessionUrl(null, oidc, back)).toBeNull();
  });

  it("reads the gateway's sign-in configuration only for an OIDC session, and says so when it cannot", async () => {
    let reads = 0;
    const load = async () => {
      reads += 1;
      return { oidc: config };
    };
    expect(await providerSignOutUrl({ token: 'sk', via: 'api-key', expiresAt: null }, back, load)).toBeNull();
    expect(reads).toBe(0);
    expect(await providerSignOutUrl(oidc, back, load)).toMatch(/^https:\/\/id\.example\.com\/session\/end\?/);
    const failed = providerSignOutUrl(oidc, back, async () => {
      throw new Error('the gateway could not be reached (Failed to fetch)');
    });
    await expect(failed).rejects.toBeInstanceOf(ProviderSignOutError);
    await expect(failed).rejects.toThrow(
      'could not read the sign-in configuration to sign out at the identity provider (the gateway could not be reached (Failed to fetch))',
    );
  });
});
