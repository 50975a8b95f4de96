import { LruCache, memoised, withMemoScope } from './memo';

describe('LruCache', () => {
  it('forgets the least recently used entry beyond its capacity', () => {
    const cache = new LruCache<number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // "a" is now the most recent
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
    expect(cache.size).toBe(2);
  });

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new LruCache<number>(0)).toThrow(/positive integer, got 0/);
    expect(() => memoised((k) => k, 1.5)).toThrow(/positive integer, got 1.5/);
  });
});

describe('memoised', () => {
  it('computes each distinct argument once within a scope, and keeps nothing outside one', () => {
    const calls: string[] = [];
    const upper = memoised((k: string) => {
      calls.push(k);
      return k.toUpperCase();
    }, 8);
    expect(upper('x')).toBe('X');
    expect(upper('x')).toBe('X');
    expect(calls).toEqual(['x', 'x']);

    calls.length = 0;
    withMemoScope(() => {
      expect(upper('x')).toBe('X');
      expect(upper('y')).toBe('Y');
      // A nested scope shares the outer one's caches.
      withMemoScope(() => expect(upper('x')).toBe('X'));
      expect(upper('y')).toBe('Y');
    });
    expect(calls).toEqual(['x', 'y']);

    // A new scope starts empty: no run profits from another's.
    calls.length = 0;
    withMemoScope(() => upper('x'));
    expect(calls).toEqual(['x']);
  });

  it('caches null and undefined results too, and recomputes what the LRU forgot', () => {
    const calls: string[] = [];
    const nothing = memoised((k: string) => {
      calls.push(k);
      return k === 'n' ? null : undefined;
    }, 2);
    withMemoScope(() => {
      nothing('n');
      nothing('u');
      nothing('n');
      nothing('u');
      expect(calls).toEqual(['n', 'u']);
      nothing('z'); // evicts "n", the least recently used
      nothing('n');
      expect(calls).toEqual(['n', 'u', 'z', 'n']);
    });
  });

  it('ends the scope when the work throws', () => {
    const calls: string[] = [];
    const id = memoised((k: string) => {
      calls.push(k);
      return k;
    }, 4);
    expect(() =>
      withMemoScope(() => {
        id('a');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    id('a');
    id('a');
    expect(calls).toEqual(['a', 'a', 'a']);
  });
});
