import type { Cluster, Redis } from 'ioredis';
import { AuthError, configError } from '../errors.js';
import { whenConnected } from '../stores/redisReady.js';
import { BoundedMap } from '../util/boundedMap.js';
import { num, object, redisClient, redisPrefix } from '../util/options.js';

/**
 * Which app sessions belong to an OP session (`sid`) or user (`sub`), so a back-channel logout
 * can end them. Entries are opaque strings (authflow stores the session id and cache partition).
 */
export interface SessionIndex {
  /** Files `entry` under each key, for `ttlSeconds`. */
  add(keys: readonly string[], entry: string, ttlSeconds: number): Promise<void>;
  /** Returns and forgets every entry filed under `key`. */
  take(key: string): Promise<string[]>;
  /**
   * Forgets `entry` under each key: the session ended at the app (logout). Optional so indexes
   * written for earlier versions still load; without it a logged-out session's id stays filed
   * until its TTL (harmless: the session itself is gone).
   */
  remove?(keys: readonly string[], entry: string): Promise<void>;
  /**
   * True the first time `id` is claimed within `ttlSeconds`, false on a repeat: the replay
   * defence for back-channel logout tokens (`jti`). Optional: without it authflow remembers ids
   * in process memory, which does not see replays sent to another instance.
   */
  claimOnce?(id: string, ttlSeconds: number): Promise<boolean>;
}

/**
 * The in-process default: enough for one app instance (entries expire; at most `maxKeys` keys and
 * `maxKeys` claimed ids kept, the oldest dropped first).
 */
export class MemorySessionIndex implements SessionIndex {
  readonly #entries: BoundedMap<string, Map<string, number>>;
  readonly #claimed: BoundedMap<string, true>;

  /** `maxKeys`: most OP sessions remembered (default 100,000); the least recently filed are dropped beyond it. */
  constructor(options: { maxKeys?: number } = {}) {
    const maxKeys = num('maxKeys', object(options).maxKeys, 100_000, { integer: true });
    this.#entries = new BoundedMap({ maxEntries: maxKeys });
    this.#claimed = new BoundedMap({ maxEntries: maxKeys });
  }

  async add(keys: readonly string[], entry: string, ttlSeconds: number): Promise<void> {
    const expiresAt = Date.now() + ttlSeconds * 1000;
    for (const key of keys) {
      const entries = this.#entries.peek(key) ?? new Map<string, number>();
      entries.set(entry, expiresAt);
      this.#entries.set(key, entries, ttlSeconds * 1000);
    }
  }

  async take(key: string): Promise<string[]> {
    const entries = this.#entries.peek(key);
    this.#entries.delete(key);
    const now = Date.now();
    return [...(entries ?? [])].filter(([, expiresAt]) => expiresAt > now).map(([entry]) => entry);
  }

  async remove(keys: readonly string[], entry: string): Promise<void> {
    for (const key of keys) {
      const entries = this.#entries.peek(key);
      entries?.delete(entry);
      if (entries?.size === 0) this.#entries.delete(key);
    }
  }

  async claimOnce(id: string, ttlSeconds: number): Promise<boolean> {
    if (this.#claimed.has(id)) return false;
    this.#claimed.set(id, true, ttlSeconds * 1000);
    return true;
  }
}

/**
 * The index in Redis (one SET per key, with EXPIRE), shared by every app instance.
 *
 * @example
 * ```ts
 * app.use(auth({ client, baseUrl, routes: { backchannelLogout: '/backchannel-logout' }, sessionIndex: new RedisSessionIndex({ client: redis }) }));
 * ```
 */
export class RedisSessionIndex implements SessionIndex {
  readonly #client: Redis | Cluster;
  readonly #prefix: string;

  readonly #connectTimeoutMs: number;

  /**
   * `client`: an ioredis `Redis` or `Cluster` you built; `prefix` of its keys (default `authflow:sx:`);
   * `connectTimeoutMs`: how long a call waits for a client still connecting (default 1,000).
   */
  constructor(options: { client: Redis | Cluster; prefix?: string; connectTimeoutMs?: number }) {
    this.#client = redisClient(object(options).client, ['sadd', 'srem', 'multi', 'set']);
    this.#prefix = redisPrefix(options.prefix, 'authflow:sx:');
    this.#connectTimeoutMs = num('connectTimeoutMs', options.connectTimeoutMs, 1_000, { integer: true });
  }

  async add(keys: readonly string[], entry: string, ttlSeconds: number): Promise<void> {
    try {
      await whenConnected(this.#client, this.#connectTimeoutMs);
      // One command pair per key: keys may live in different cluster slots.
      for (const key of keys) {
        await this.#client.multi().sadd(this.#prefix + key, entry).expire(this.#prefix + key, Math.ceil(ttlSeconds)).exec();
      }
    } catch (err) {
      throw storeFailed(err);
    }
  }

  async take(key: string): Promise<string[]> {
    try {
      await whenConnected(this.#client, this.#connectTimeoutMs);
      const results = await this.#client.multi().smembers(this.#prefix + key).del(this.#prefix + key).exec();
      const members = results?.[0]?.[1];
      return Array.isArray(members) ? members.map(String) : [];
    } catch (err) {
      throw storeFailed(err);
    }
  }

  async remove(keys: readonly string[], entry: string): Promise<void> {
    try {
      for (const key of keys) await this.#client.srem(this.#prefix + key, entry);
    } catch (err) {
      throw storeFailed(err);
    }
  }

  /** `SET NX EX`: one atomic claim, seen by every app instance sharing the Redis. */
  async claimOnce(id: string, ttlSeconds: number): Promise<boolean> {
    try {
      return (await this.#client.set(`${this.#prefix}seen:${id}`, '1', 'EX', Math.max(1, Math.ceil(ttlSeconds)), 'NX')) === 'OK';
    } catch (err) {
      throw storeFailed(err);
    }
  }
}

const storeFailed = (err: unknown): AuthError =>
  new AuthError('store_unavailable', { description: `Redis session index failed: ${(err as Error).message}`, cause: err });
