import type { CacheEntities } from '../cache/entities.js';
import { num, object } from '../util/options.js';
import type { CacheChanges, CacheWriteOptions, TokenCacheStore } from './types.js';

/** Options of {@link MemoryTokenCacheStore}. */
export interface MemoryTokenCacheStoreOptions {
  /** Most partitions kept; the least recently used is dropped beyond it. Default 10,000. */
  maxPartitions?: number;
  /** Default lifetime of a partition in seconds when a write gives none. Default 14 days. */
  ttlSeconds?: number;
}

interface Partition {
  /** Entities as JSON, so callers can never mutate what is stored. */
  fields: Map<string, string>;
  expiresAt: number;
}

/**
 * The embedded default store: partitions in this process's memory, bounded (LRU by partition)
 * and expiring, so a long-running process does not grow without limit. Nothing is shared with
 * other processes: use `RedisTokenCacheStore` when the app runs on more than one.
 *
 * @example
 * ```ts
 * const client = new ConfidentialClient({ clientId, authority, credential, cacheStore: new MemoryTokenCacheStore({ maxPartitions: 1000 }) });
 * ```
 */
export class MemoryTokenCacheStore implements TokenCacheStore {
  readonly #partitions = new Map<string, Partition>();
  readonly #maxPartitions: number;
  readonly #ttlSeconds: number;

  /** Options are checked now; a bad one throws `AuthError('invalid_config')` naming it. */
  constructor(options: MemoryTokenCacheStoreOptions = {}) {
    this.#maxPartitions = num('maxPartitions', object(options).maxPartitions, 10_000, { integer: true });
    this.#ttlSeconds = num('ttlSeconds', options.ttlSeconds, 14 * 24 * 3600);
  }

  /** Number of partitions held now (expired ones included until touched). */
  get size(): number {
    return this.#partitions.size;
  }

  async read(partition: string): Promise<CacheEntities> {
    const entry = this.#live(partition);
    const entities: CacheEntities = {};
    if (!entry) return entities;
    // Re-insert to mark it most recently used: a Map iterates in insertion order.
    this.#partitions.delete(partition);
    this.#partitions.set(partition, entry);
    for (const [key, json] of entry.fields) entities[key] = JSON.parse(json);
    return entities;
  }

  async write(partition: string, changes: CacheChanges, options: CacheWriteOptions = {}): Promise<void> {
    const entry = this.#live(partition) ?? { fields: new Map<string, string>(), expiresAt: 0 };
    for (const key of changes.remove) entry.fields.delete(key);
    for (const [key, entity] of Object.entries(changes.set)) entry.fields.set(key, JSON.stringify(entity));
    this.#partitions.delete(partition);
    if (entry.fields.size === 0) return;
    entry.expiresAt = Date.now() + (options.ttlSeconds ?? this.#ttlSeconds) * 1000;
    this.#partitions.set(partition, entry);
    while (this.#partitions.size > this.#maxPartitions) {
      const oldest = this.#partitions.keys().next().value as string;
      this.#partitions.delete(oldest);
    }
  }

  async clear(partition: string): Promise<void> {
    this.#partitions.delete(partition);
  }

  #live(partition: string): Partition | undefined {
    const entry = this.#partitions.get(partition);
    if (entry && entry.expiresAt <= Date.now()) {
      this.#partitions.delete(partition);
      return undefined;
    }
    return entry;
  }
}
