import type { CacheChanges, CacheEntities } from './entities.js';
import { BoundedMap } from '../util/boundedMap.js';

/**
 * A short-lived copy of recently read partitions in this process (Microsoft.Identity.Web's L1),
 * so a cache hit costs no round trip to a shared store. Only the cache-hit path reads it: a
 * refresh always reads the store under the partition's lock, so a refresh token is never taken
 * from here. Local writes and clears update it at once; what another instance does (a logout
 * that clears a partition, a flush) is seen here after at most `ttlMs`. Bounded: least recently
 * used partitions are dropped beyond `maxPartitions`. Each partition is kept as a frozen snapshot
 * (what the store gave when it is frozen already, else a frozen copy: the store's object stays its
 * own), replaced, never changed, by a write: what a lookup found in a snapshot may be remembered
 * with it (see the silent flow).
 */
export class LocalPartitionCache {
  readonly #entries: BoundedMap<string, { entities: CacheEntities }>;

  constructor(ttlMs: number, maxPartitions = 10_000) {
    this.#entries = new BoundedMap({ maxEntries: maxPartitions, ttlMs });
  }

  /** The partition as last read or written here, if that was less than the TTL ago (frozen). */
  get(partition: string): CacheEntities | undefined {
    return this.#entries.get(partition)?.entities;
  }

  /** Remembers a partition just read from the store. */
  set(partition: string, entities: CacheEntities): void {
    // A store's frozen snapshot (RedisTokenCacheStore's) is kept as it is: what was remembered with it still counts.
    this.#entries.set(partition, { entities: Object.isFrozen(entities) ? entities : Object.freeze({ ...entities }) });
  }

  /** Applies a write made through this client to the copy, if there is one (a new object: readers keep theirs). */
  apply(partition: string, changes: CacheChanges): void {
    const entry = this.#entries.peek(partition);
    if (!entry) return;
    const entities: CacheEntities = { ...entry.entities, ...changes.set };
    for (const key of changes.remove) delete entities[key];
    entry.entities = Object.freeze(entities);
  }

  delete(partition: string): void {
    this.#entries.delete(partition);
  }
}
