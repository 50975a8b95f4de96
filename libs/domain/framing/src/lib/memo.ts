/**
 * Bounded memoisation for pure functions of a string, scoped to one piece of work: generation
 * reads the same words, phrases and sentences through compromise again and again (a rule's
 * sentence is restated in every answer of its statement, an actor recurs in hundreds of
 * statements), and one compromise parse costs far more than a map lookup.
 *
 * Results are kept only inside `withMemoScope` (one generation run): outside a scope a memoised
 * function simply computes, and a scope's caches are dropped when it ends, so no run pays for or
 * profits from another's. Inside a scope each cache forgets its least recently used entry once it
 * holds its capacity, so memory stays bounded however long the document.
 */
export class LruCache<V> {
  private readonly entries = new Map<string, V>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`cache capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value for a key, marked as most recently used; undefined when absent. */
  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

/** The caches of the scope in progress, one per memoised function; null outside any scope. */
let scope: Map<object, LruCache<{ value: unknown }>> | null = null;

/**
 * Run `work` with memoised functions keeping their results until it returns; a scope opened inside
 * another shares the outer one's caches.
 */
export function withMemoScope<T>(work: () => T): T {
  if (scope !== null) return work();
  scope = new Map();
  try {
    return work();
  } finally {
    scope = null;
  }
}

/**
 * `fn` with its results kept per argument, within a `withMemoScope`, in an LRU cache of `capacity`
 * entries. For pure functions only: the same argument must always give the same result, and
 * callers must not mutate a returned object (it is shared).
 */
export function memoised<V>(fn: (key: string) => V, capacity: number): (key: string) => V {
  const id = {};
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`cache capacity must be a positive integer, got ${capacity}`);
  return (key: string): V => {
    if (scope === null) return fn(key);
    let cache = scope.get(id) as LruCache<{ value: V }> | undefined;
    if (cache === undefined) {
      cache = new LruCache<{ value: V }>(capacity);
      scope.set(id, cache as LruCache<{ value: unknown }>);
    }
    const hit = cache.get(key);
    if (hit !== undefined) return hit.value;
    const value = fn(key);
    cache.set(key, { value });
    return value;
  };
}
