/**
 * A small in-process cache with a time-to-live and single-flight loading: concurrent misses for one key share one
 * load, and a failed load is not cached. Used for answers of services we call (IAM, policy, data governance, UBI).
 */
export interface TtlCache<V> {
  /** The cached value if younger than the TTL, else the loader's (shared by concurrent callers). */
  get(key: string, load: () => Promise<V>): Promise<V>;
  /** The last value stored for `key`, however old, with its age; for stale-while-down fallbacks. */
  peek(key: string): { value: V; ageMs: number } | undefined;
}

export function createTtlCache<V>(opts: { ttlMs: number; maxEntries?: number; now?: () => number }): TtlCache<V> {
  const now = opts.now ?? Date.now;
  const maxEntries = opts.maxEntries ?? 10_000;
  const entries = new Map<string, { value: V; at: number }>();
  const loading = new Map<string, Promise<V>>();

  const set = (key: string, value: V) => {
    entries.delete(key);
    entries.set(key, { value, at: now() });
    // Oldest first out: Map keeps insertion order and set() re-inserts.
    while (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
  };

  return {
    async get(key, load) {
      const hit = entries.get(key);
      if (hit && now() - hit.at < opts.ttlMs) return hit.value;
      let pending = loading.get(key);
      if (!pending) {
        pending = load().then(
          (value) => {
            loading.delete(key);
            set(key, value);
            return value;
          },
          (err) => {
            loading.delete(key);
            throw err;
          },
        );
        loading.set(key, pending);
      }
      return pending;
    },
    peek(key) {
      const hit = entries.get(key);
      return hit ? { value: hit.value, ageMs: now() - hit.at } : undefined;
    },
  };
}
