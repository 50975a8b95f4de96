import { loadSession, saveSession, savePending, takePending } from './auth';

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

  it('reads a pending sign-in once', () => {
    const storage = new MemoryStorage();
    savePending({ state: 's' }, storage);
    expect(takePending(storage)).toEqual({ state: 's' });
    expect(takePending(storage)).toBeNull();
  });
});
