import type { Cluster, Redis } from 'ioredis';
import { AuthError } from '../errors.js';
import type { SessionIndex } from './sessionIndex.js';
import { num, object, redisClient, redisPrefix } from '../util/options.js';
import { whenConnected } from './redisReady.js';

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
  new AuthError('store_unavailable', { reason: 'store_failed', description: `Redis session index failed: ${(err as Error).message}`, cause: err });
