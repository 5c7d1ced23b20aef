import type { CacheChanges, CacheEntities } from '../cache/entities.js';

export type { CacheChanges } from '../cache/entities.js';

/** Options of {@link TokenCacheStore.write}. */
export interface CacheWriteOptions {
  /**
   * How long the partition is worth keeping, in seconds (the refresh token's lifetime when the OP
   * says it). Stores that expire data use it; the store's own default applies when absent.
   */
  ttlSeconds?: number;
}

/** Releases a lock taken with {@link TokenCacheStore.lock}. */
export type ReleaseLock = () => Promise<void>;

/** Options of {@link TokenCacheStore.lock}. */
export interface LockOptions {
  /**
   * Asked after each wait for the lock (a release heard, a poll): true when the holder's work has
   * made the lock unnecessary (it refreshed what this caller needed). `lock` then resolves to
   * `undefined` without taking it: a storm's waiters read the new token side by side instead of
   * each taking the lock in turn.
   */
  doneWhileWaiting?: () => Promise<boolean>;
}

/**
 * Where token caches live. A partition is one user's (or one assertion's, or one app's) cache:
 * reading it is one round trip, writing sends only what changed, so writers never clobber
 * each other's unrelated entities.
 *
 * @example
 * ```ts
 * const entities = await store.read('session:3f2a');     // {} when the partition is absent
 * await store.write('session:3f2a', { set: { [key]: entity }, remove: [] });
 * ```
 */
export interface TokenCacheStore {
  /** All entities of a partition, keyed by MSAL key; `{}` when it does not exist. */
  read(partition: string): Promise<CacheEntities>;
  /** Applies the changes atomically for this partition. */
  write(partition: string, changes: CacheChanges, options?: CacheWriteOptions): Promise<void>;
  /** Deletes a whole partition. */
  clear(partition: string): Promise<void>;
  /**
   * Optional: an exclusive lock on a partition shared by every process using this store, held
   * while a refresh token is redeemed. Resolves once taken (waiting while another holder has it),
   * or to `undefined`, nothing held, when `options.doneWhileWaiting` said so after a wait.
   * Stores local to one process need none: authflow already serialises refreshes in-process.
   */
  lock?(partition: string, options?: LockOptions): Promise<ReleaseLock | undefined>;
}
