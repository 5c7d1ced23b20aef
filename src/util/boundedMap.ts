/**
 * The one bounded map of authflow: at most `maxEntries` entries, each expiring after its TTL, the
 * least recently used dropped first when full (or, with `whenFull: 'refuse'`, new keys refused:
 * for bookkeeping that must not let new keys crowd out old ones). A `Map` iterates in insertion
 * order, so an entry is moved to the end when used and the front is always the least recent.
 */
export interface BoundedMapOptions {
  /** Most entries kept. */
  maxEntries: number;
  /** Default lifetime of an entry, ms (`set` may give its own). Default: entries never expire. */
  ttlMs?: number;
  /** What a `set` of a new key does when the map is full: drop the least recently used (default) or refuse. */
  whenFull?: 'evict' | 'refuse';
}

interface Entry<V> {
  value: V;
  expiresAt: number;
}

/** A `Map` with a size bound, per-entry TTL and LRU eviction (see {@link BoundedMapOptions}). */
export class BoundedMap<K, V> {
  readonly #entries = new Map<K, Entry<V>>();
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #refuse: boolean;
  /** The most recently used key: using it again leaves the order as it is (no delete and re-insert). */
  #newest: K | undefined;

  constructor(options: BoundedMapOptions) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    this.#max = options.maxEntries;
    this.#ttlMs = options.ttlMs ?? Infinity;
    this.#refuse = options.whenFull === 'refuse';
  }

  /** Entries held now (expired ones included until touched or evicted: the bound holds either way). */
  get size(): number {
    return this.#entries.size;
  }

  /** The live value for `key`, marking it most recently used. */
  get(key: K): V | undefined {
    const entry = this.#live(key);
    if (!entry) return undefined;
    // A Map keeps a deleted entry's slot until it grows or shrinks again: moving the same hot key
    // on every call would rebuild a small map's table every few calls.
    if (key !== this.#newest) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      this.#newest = key;
    }
    return entry.value;
  }

  /** The live value for `key`, leaving its place in the LRU order as it is. */
  peek(key: K): V | undefined {
    return this.#live(key)?.value;
  }

  /** True when `key` has a live value (does not mark it used). */
  has(key: K): boolean {
    return this.#live(key) !== undefined;
  }

  /**
   * Stores `value` as the most recently used, for `ttlMs` (default the map's). Returns false when
   * the map is full of live entries and refuses new keys.
   */
  set(key: K, value: V, ttlMs: number = this.#ttlMs): boolean {
    const existed = this.#entries.delete(key);
    if (!existed && this.#refuse && this.#entries.size >= this.#max) {
      this.#prune();
      if (this.#entries.size >= this.#max) return false;
    }
    this.#entries.set(key, { value, expiresAt: Date.now() + ttlMs });
    this.#newest = key;
    while (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value as K);
    return true;
  }

  /** Removes `key`; true when it was there. */
  delete(key: K): boolean {
    if (key === this.#newest) this.#newest = undefined;
    return this.#entries.delete(key);
  }

  /** Removes every entry. */
  clear(): void {
    this.#entries.clear();
    this.#newest = undefined;
  }

  /** The live entries, least recently used first. */
  *entries(): IterableIterator<[K, V]> {
    const now = Date.now();
    for (const [key, entry] of this.#entries) if (entry.expiresAt > now) yield [key, entry.value];
  }

  #live(key: K): Entry<V> | undefined {
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Drops every expired entry: O(n), only for a full map that refuses (small bookkeeping maps). */
  #prune(): void {
    const now = Date.now();
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
  }
}
