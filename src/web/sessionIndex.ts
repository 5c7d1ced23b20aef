import type { Cluster, Redis } from 'ioredis';
import { AuthError, configError } from '../errors.js';

/**
 * Which app sessions belong to an OP session (`sid`) or user (`sub`), so a back-channel logout
 * can end them. Entries are opaque strings (authflow stores the session id and cache partition).
 */
export interface SessionIndex {
  /** Files `entry` under each key, for `ttlSeconds`. */
  add(keys: readonly string[], entry: string, ttlSeconds: number): Promise<void>;
  /** Returns and forgets every entry filed under `key`. */
  take(key: string): Promise<string[]>;
}

/** The in-process default: enough for one app instance (entries expire; at most `maxKeys` kept). */
export class MemorySessionIndex implements SessionIndex {
  readonly #entries = new Map<string, Map<string, number>>();
  readonly #maxKeys: number;

  /** `maxKeys`: most OP sessions remembered (default 100,000); the oldest are dropped beyond it. */
  constructor(options: { maxKeys?: number } = {}) {
    this.#maxKeys = options.maxKeys ?? 100_000;
  }

  async add(keys: readonly string[], entry: string, ttlSeconds: number): Promise<void> {
    const expiresAt = Date.now() + ttlSeconds * 1000;
    for (const key of keys) {
      const entries = this.#entries.get(key) ?? new Map<string, number>();
      entries.set(entry, expiresAt);
      this.#entries.delete(key);
      this.#entries.set(key, entries);
    }
    while (this.#entries.size > this.#maxKeys) this.#entries.delete(this.#entries.keys().next().value as string);
  }

  async take(key: string): Promise<string[]> {
    const entries = this.#entries.get(key);
    this.#entries.delete(key);
    const now = Date.now();
    return [...(entries ?? [])].filter(([, expiresAt]) => expiresAt > now).map(([entry]) => entry);
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

  /** `client`: an ioredis `Redis` or `Cluster` you built; `prefix` of its keys (default `authflow:sx:`). */
  constructor(options: { client: Redis | Cluster; prefix?: string }) {
    if (!options?.client || typeof (options.client as Partial<Redis>).sadd !== 'function') throw configError('client', 'must be an ioredis Redis or Cluster instance');
    this.#client = options.client;
    this.#prefix = options.prefix ?? 'authflow:sx:';
  }

  async add(keys: readonly string[], entry: string, ttlSeconds: number): Promise<void> {
    try {
      // One command pair per key: keys may live in different cluster slots.
      for (const key of keys) {
        await this.#client.multi().sadd(this.#prefix + key, entry).expire(this.#prefix + key, Math.ceil(ttlSeconds)).exec();
      }
    } catch (err) {
      throw new AuthError('store_unavailable', { description: `Redis session index failed: ${(err as Error).message}`, cause: err });
    }
  }

  async take(key: string): Promise<string[]> {
    try {
      const results = await this.#client.multi().smembers(this.#prefix + key).del(this.#prefix + key).exec();
      const members = results?.[0]?.[1];
      return Array.isArray(members) ? members.map(String) : [];
    } catch (err) {
      throw new AuthError('store_unavailable', { description: `Redis session index failed: ${(err as Error).message}`, cause: err });
    }
  }
}
