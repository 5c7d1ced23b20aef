import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { CacheEntities, CacheEntity } from '../cache/entities.js';
import { FieldCipher, type EncryptionKey } from '../cache/crypto.js';
import { silentLogger, type Logger } from '../logger.js';
import { AuthError, configError } from '../errors.js';
import type { CacheChanges, CacheWriteOptions, LockOptions, ReleaseLock, TokenCacheStore } from './types.js';
import { isConnecting, whenConnected } from './redisReady.js';
import { LockWaker } from './redisLockWaker.js';
import { durabilityOf, NO_REPLICA, waitForReplica, type RedisDurability } from './redisDurability.js';
import { isRefreshToken } from '../cache/entities.js';
import { logger, num, object, redisClient, redisPrefix } from '../util/options.js';
import { BoundedMap } from '../util/boundedMap.js';

/** Options of {@link RedisTokenCacheStore}; checked when the store is built. */
export interface RedisTokenCacheStoreOptions {
  /** An ioredis `Redis` or `Cluster` you built (and close). */
  client: Redis | Cluster;
  /** Prefix of every key. Default `authflow:tc:`. */
  prefix?: string;
  /**
   * AES-256-GCM keys for values at rest; the first encrypts, all decrypt. Required when
   * `NODE_ENV=production` unless `encryption: 'off'`; elsewhere values are stored as JSON without them.
   */
  encryptionKeys?: readonly EncryptionKey[];
  /**
   * `'off'` stores refresh and access tokens in Redis as clear JSON, also in production: say it
   * only when Redis itself is protected (disk encryption, ACLs, TLS) and you accept that.
   */
  encryption?: 'off';
  /** How long a refresh lock lives if its holder dies, ms. Default 15,000 (above the OP timeout). */
  lockTtlMs?: number;
  /** Longest wait for another instance's refresh lock, ms. Default `lockTtlMs` + 1,000. */
  lockWaitMs?: number;
  /** Partition lifetime when a write names none (the refresh token's usual life), s. Default 14 days. */
  ttlSeconds?: number;
  /** Longest a command may take before the call fails with `store_unavailable`, ms. Default 1,000. */
  commandTimeoutMs?: number;
  /** Where the store reports problems (an undecryptable value, a lost lock). Default: silent. */
  logger?: Logger;
  /**
   * What a write that stores a new refresh token (and a refresh lock) waits for before the call
   * goes on. `'replica'`: `WAIT 1` on the master that took it, so a failover to a replica keeps
   * the rotated refresh token (and the lock); when no replica acknowledges within
   * `durabilityTimeoutMs` the write is sent once more (the master may have lost its role) and, still
   * unacknowledged, a warning is logged and the call goes on. Such a write that fails (the master is
   * failing over) is retried for up to half of `lockTtlMs`. `'none'`: no wait, no retry.
   * Default `'replica'` when `client` is a Cluster or a Sentinel connection, else `'none'`.
   * Access-token-only writes never wait (losing one costs one refresh).
   */
  durability?: RedisDurability;
  /** Longest wait for a replica's acknowledgement (`WAIT`'s timeout), ms. Default 500. */
  durabilityTimeoutMs?: number;
}

/**
 * The partition's schema, in a field of its own. 1 (no field): authflow's first release (MSAL
 * Python's 6-part keys, `user_assertion_hash`). 2: entities as written by any MSAL, kept whole,
 * msal-node 7's keys. Version 1 partitions read as they are: lookups match on fields, not keys,
 * and the first write removes entries it supersedes under the old keys.
 */
export const SCHEMA_FIELD = '@schema';
const SCHEMA_VERSION = 2;

/**
 * Compare-and-delete: only the owner releases a lock (it may have expired and been taken since);
 * a release is announced on the lock's channel (ARGV[2]) in the same step, so waiters in other
 * processes wake at once (see redisLockWaker.ts).
 */
const RELEASE_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]); redis.call('publish', ARGV[2], '1'); return 1 else return 0 end";

/** Polling while release messages can arrive: only the fallback for a lost one. */
const FALLBACK_POLL_MS = { min: 100, spread: 150 };
/**
 * Stored values decoded recently, by partition and field, with the exact stored text (ciphertext or
 * JSON) they were decoded from: a partition read again and unchanged (every hit with
 * `localCacheSeconds: 0`) is neither decrypted nor parsed again. The cipher binds a value to its
 * partition and field, so a text moved elsewhere is decoded again (and refused). About 2-4 KB an
 * entry (the text and its entity), so at most ~8 MB.
 */
const DECODED_VALUES_MAX = 2_000;
/**
 * Partitions whose last read is kept (its stored texts and a frozen snapshot of its entities), so a
 * partition read again unchanged is answered with the same snapshot. About twice a partition's
 * stored size each (10-40 KB): at most a few MB.
 */
const SNAPSHOTS_MAX = 250;

/**
 * Token caches in Redis: a partition is one HASH `<prefix>{<partition>}` (the braces are a hash
 * tag, so a partition's keys share one cluster slot), one field per cache entity under its MSAL
 * key. One `HGETALL` reads a partition; a write sends only what changed (`HDEL`/`HSET`) and the
 * `EXPIRE` in one `MULTI`. Refreshes across instances are serialised by `SET NX PX` locks released
 * by a compare-and-delete script. Works on a single Redis, on Redis Cluster and through Sentinel.
 *
 * On replicated Redis (`durability: 'replica'`, the default for a Cluster or Sentinel client) a
 * write that stores a new refresh token, and a lock taken, are acknowledged by a replica (`WAIT 1`
 * on the master that took them) before the call goes on: a master that dies then fails over to a
 * replica that has them, so no rotated refresh token is lost and no second instance redeems the
 * one in flight.
 *
 * A Redis that is down or slow fails calls with `AuthError('store_unavailable')` (503) within
 * `commandTimeoutMs`; commands are not queued while the client is disconnected, and the next call
 * after Redis returns works again.
 *
 * @example
 * ```ts
 * const redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 1, connectTimeout: 2000 });
 * const cacheStore = new RedisTokenCacheStore({ client: redis, encryptionKeys: [{ id: 'k1', key: process.env.CACHE_KEY! }] });
 * const client = new ConfidentialClient({ clientId, authority, credential, cacheStore });
 * ```
 */
export class RedisTokenCacheStore implements TokenCacheStore {
  readonly #client: Redis | Cluster;
  readonly #prefix: string;
  readonly #cipher: FieldCipher | undefined;
  readonly #lockTtlMs: number;
  readonly #lockWaitMs: number;
  readonly #ttlSeconds: number;
  readonly #commandTimeoutMs: number;
  readonly #logger: Logger;
  readonly #reported = new Set<string>();
  readonly #waker: LockWaker;
  readonly #decoded = new BoundedMap<string, { text: string; entity: CacheEntity }>({ maxEntries: DECODED_VALUES_MAX });
  readonly #snapshots = new BoundedMap<string, { entities: CacheEntities; texts: Record<string, string>; count: number }>({ maxEntries: SNAPSHOTS_MAX });
  readonly #durability: RedisDurability;
  readonly #durabilityTimeoutMs: number;
  #unacknowledged = 0;

  /** Options are checked now; a bad one throws `AuthError('invalid_config')` naming it. */
  constructor(options: RedisTokenCacheStoreOptions) {
    this.#client = redisClient(object(options).client, ['hgetall', 'multi']);
    this.#prefix = redisPrefix(options.prefix, 'authflow:tc:');
    this.#cipher = cipherOf(options);
    this.#lockTtlMs = num('lockTtlMs', options.lockTtlMs, 15_000, { integer: true });
    this.#lockWaitMs = num('lockWaitMs', options.lockWaitMs, this.#lockTtlMs + 1_000, { integer: true });
    this.#ttlSeconds = num('ttlSeconds', options.ttlSeconds, 14 * 24 * 3600, { integer: true });
    this.#commandTimeoutMs = num('commandTimeoutMs', options.commandTimeoutMs, 1_000, { integer: true });
    this.#logger = logger(options.logger, silentLogger);
    this.#waker = new LockWaker(this.#client, this.#commandTimeoutMs);
    this.#durability = durabilityOf(options.durability, this.#client);
    this.#durabilityTimeoutMs = num('durabilityTimeoutMs', options.durabilityTimeoutMs, 500, { integer: true, positive: true, max: 60_000 });
    if (!this.#cipher && process.env.NODE_ENV === 'production') {
      this.#logger.warn({ option: 'encryption' }, 'authflow: token cache values are stored in Redis in clear text (encryption: \'off\')');
    }
  }

  /** The Redis key of a partition's hash. */
  keyOf(partition: string): string {
    return `${this.#prefix}{${partition}}`;
  }

  /**
   * The partition, frozen. A value stored as it was at the last read is not decoded again (nor
   * looked up among the decoded values: compared with the last read's text). When every value is
   * as it was and none was added or removed, the same object as then: what a lookup found in it
   * may be remembered with it (see the silent flow), as with the local copy's snapshots.
   */
  async read(partition: string): Promise<CacheEntities> {
    const fields = await this.#command('read', () => this.#client.hgetall(this.keyOf(partition)));
    const last = this.#snapshots.get(partition);
    let unchanged = last !== undefined;
    const entities: CacheEntities = {};
    const texts: Record<string, string> = {};
    let count = 0;
    for (const [field, value] of Object.entries(fields)) {
      if (field === SCHEMA_FIELD) {
        const version = Number(this.#decodeText(partition, field, value));
        if (version > SCHEMA_VERSION) this.#reportOnce(`schema ${version} is newer than ${SCHEMA_VERSION}: read as far as understood`);
        continue;
      }
      const same = last !== undefined && last.texts[field] === value;
      const entity = same ? last.entities[field] : this.#decode(partition, field, value);
      if (!entity) continue;
      entities[field] = entity;
      texts[field] = value;
      count += 1;
      if (!same) unchanged = false;
    }
    if (unchanged && count === last!.count) return last!.entities;
    Object.freeze(entities);
    this.#snapshots.set(partition, { entities, texts, count });
    return entities;
  }

  async write(partition: string, changes: CacheChanges, options: CacheWriteOptions = {}): Promise<void> {
    const fields = Object.entries(changes.set);
    if (fields.length === 0 && changes.remove.length === 0) return;
    const key = this.keyOf(partition);
    const durable = this.#durability === 'replica' && fields.some(([, entity]) => isRefreshToken(entity));
    const values = fields.length > 0
      ? { ...Object.fromEntries(fields.map(([field, entity]) => [field, this.#encode(partition, field, entity)])), [SCHEMA_FIELD]: this.#encodeText(partition, SCHEMA_FIELD, String(SCHEMA_VERSION)) }
      : undefined;
    const ttl = Math.max(1, Math.ceil(options.ttlSeconds ?? this.#ttlSeconds));
    const send = async (): Promise<void> => {
      const transaction = this.#client.multi();
      if (changes.remove.length > 0) transaction.hdel(key, ...changes.remove);
      if (values) transaction.hset(key, values).expire(key, ttl);
      const results = await this.#command('write', () => transaction.exec());
      const failed = results?.find(([err]) => err);
      if (!results || failed) throw unavailable('write', failed?.[0] ?? new Error('transaction aborted'));
    };
    if (!durable) return send();
    // A rotated refresh token exists nowhere else: a master failing over is waited out (the write is
    // idempotent), within half the lock's life so the lock still covers it.
    const deadline = Date.now() + this.#lockTtlMs / 2;
    await this.#retrying(send, deadline);
    const replicas = await waitForReplica(this.#client, key, this.#durabilityTimeoutMs);
    if (replicas > 0) return;
    if (replicas === NO_REPLICA) return this.#unreplicated('a refresh token write', true);
    // No replica has it. A master paused past its failover takes the write as it wakes, then learns it
    // was replaced and drops it: sent again, the write reaches whoever serves the slot now.
    await this.#retrying(send, deadline).catch(() => undefined);
    await this.#replicated(key, 'a refresh token write');
  }

  /** Runs `attempt` again after a store failure, until `deadline`; the last failure is thrown. */
  async #retrying(attempt: () => Promise<void>, deadline: number): Promise<void> {
    for (let pause = 50; ; pause = Math.min(pause * 2, 500)) {
      try {
        return await attempt();
      } catch (err) {
        if (!(err instanceof AuthError) || err.code !== 'store_unavailable' || Date.now() + pause >= deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }

  /**
   * `WAIT 1` for the write to `key` (see redisDurability.ts); a write no replica acknowledged in
   * time is counted and reported without naming the partition (a partition names a user).
   */
  async #replicated(key: string, what: string): Promise<void> {
    const replicas = await waitForReplica(this.#client, key, this.#durabilityTimeoutMs);
    if (replicas <= 0) this.#unreplicated(what, replicas === NO_REPLICA);
  }

  /** Counts an unacknowledged write; a Cluster without replicas (`once`) is reported once per process, not per refresh. */
  #unreplicated(what: string, once = false): void {
    this.#unacknowledged++;
    if (once) {
      if (this.#reported.has('no-replica')) return;
      this.#reported.add('no-replica');
    }
    this.#logger.warn(
      { unacknowledgedPartitions: this.#unacknowledged, durabilityTimeoutMs: this.#durabilityTimeoutMs },
      `authflow: no Redis replica acknowledged ${what} in time; it is lost if the master fails now`,
    );
  }

  async clear(partition: string): Promise<void> {
    await this.#command('clear', () => this.#client.del(this.keyOf(partition)));
  }

  /**
   * Takes the partition's refresh lock, waiting while another instance holds it, for at most
   * `lockWaitMs`; a lock whose holder died expires after `lockTtlMs`. A waiter is woken by the
   * holder's release (a message on the lock's channel; directly, in this process) and polls only
   * as the fallback for a lost message (every 100-250 ms; every 5-50 ms without pub/sub). After
   * each wait, `options.doneWhileWaiting` may end it without the lock (resolving to `undefined`).
   */
  lock(partition: string): Promise<ReleaseLock>;
  lock(partition: string, options: LockOptions): Promise<ReleaseLock | undefined>;
  async lock(partition: string, options: LockOptions = {}): Promise<ReleaseLock | undefined> {
    const key = `${this.keyOf(partition)}:lock`;
    const channel = `${key}:released`;
    const owner = randomUUID();
    const deadline = Date.now() + this.#lockWaitMs;
    const release = async (): Promise<void> => {
      let released: unknown;
      const unlock = async (): Promise<void> => {
        released = await this.#command('unlock', () => this.#client.eval(RELEASE_SCRIPT, 1, key, owner, channel));
      };
      // A durable lock survives a failover: a release that failed on the way would hold the
      // partition for the rest of lockTtlMs, so it is retried like a refresh token write.
      await (this.#durability === 'replica' ? this.#retrying(unlock, Date.now() + this.#lockTtlMs / 2) : unlock());
      if (released === 1) this.#waker.wake(channel);
    };
    if (await this.#take(key, owner)) return release;
    // Listening before the next attempt: a release between that attempt and the wait is still heard.
    const listener = this.#waker.listen(channel);
    try {
      const subscribed = await listener.ready;
      for (let attempt = 0; ; attempt++) {
        if (await this.#take(key, owner)) return release;
        if (Date.now() >= deadline) {
          throw new AuthError('store_unavailable', { reason: 'lock_timeout', description: `another instance held the refresh lock for longer than ${this.#lockWaitMs} ms` });
        }
        const pause = subscribed
          ? FALLBACK_POLL_MS.min + Math.random() * FALLBACK_POLL_MS.spread
          : Math.min(50, 5 * 2 ** Math.min(attempt, 4)) * (0.5 + Math.random());
        await listener.next(Math.max(1, Math.min(pause, deadline - Date.now())));
        // The holder may have done this caller's work (a refreshed token): then no lock is needed.
        if (options.doneWhileWaiting && await options.doneWhileWaiting()) return undefined;
      }
    } finally {
      listener.close();
    }
  }

  /**
   * One attempt at the lock. With `durability: 'replica'` a lock taken is on a replica before the
   * refresh token is redeemed: a failover to that replica keeps it, so no other instance takes the
   * partition (and spends the same refresh token) while this one is in flight.
   */
  async #take(key: string, owner: string): Promise<boolean> {
    const taken = await this.#command('lock', () => this.#client.set(key, owner, 'PX', this.#lockTtlMs, 'NX')) === 'OK';
    if (taken && this.#durability === 'replica') await this.#replicated(key, 'a refresh lock');
    return taken;
  }

  #encode(partition: string, field: string, entity: CacheEntity): string {
    return this.#encodeText(partition, field, JSON.stringify(entity));
  }

  /** Encrypted like every value (nothing in a partition is clear text when keys are configured). */
  #encodeText(partition: string, field: string, text: string): string {
    return this.#cipher ? this.#cipher.encrypt(text, `${partition}\n${field}`) : text;
  }

  #decodeText(partition: string, field: string, value: string): string | undefined {
    if (!this.#cipher) return value;
    const result = this.#cipher.decrypt(value, `${partition}\n${field}`);
    return 'problem' in result ? undefined : result.plaintext;
  }

  #decode(partition: string, field: string, value: string): CacheEntity | undefined {
    // Looked up by partition and field (short strings), then the stored text compared whole: hashing
    // each 2 KB text as a map key would cost more than a string comparison.
    const where = `${partition}\n${field}`;
    const known = this.#decoded.get(where);
    if (known && known.text === value) return known.entity;
    // Frozen: every reader of this text shares the entity, so none may change it for the others.
    const entity = this.#parse(where, value);
    if (entity) this.#decoded.set(where, { text: value, entity: Object.freeze(entity) });
    else this.#decoded.delete(where);
    return entity;
  }

  /** Decrypts (bound to `where`, the partition and field) and parses one stored value. */
  #parse(where: string, value: string): CacheEntity | undefined {
    let json = value;
    if (this.#cipher) {
      const result = this.#cipher.decrypt(value, where);
      if ('problem' in result) {
        this.#reportOnce(result.problem, result.keyId);
        return undefined;
      }
      json = result.plaintext;
    }
    try {
      const entity = JSON.parse(json) as unknown;
      if (entity && typeof entity === 'object' && !Array.isArray(entity)) return entity as CacheEntity;
    } catch {
      // Falls through: an unreadable value is absent, never a crash.
    }
    this.#reportOnce('unreadable');
    return undefined;
  }

  /** Logs each kind of unreadable value once per process: never the value, nor its key. */
  #reportOnce(problem: string, keyId?: string): void {
    const id = `${problem}:${keyId ?? ''}`;
    if (this.#reported.has(id)) return;
    this.#reported.add(id);
    this.#logger.warn({ problem, ...(keyId ? { keyId } : {}) }, 'authflow: a cached value could not be read and is treated as absent');
  }

  /**
   * Runs a command only on a connected client (one still connecting is waited for), and no
   * longer than the command timeout, the wait included.
   */
  async #command<T>(operation: string, run: () => Promise<T>): Promise<T> {
    const started = Date.now();
    const status = isConnecting(this.#client) ? await whenConnected(this.#client, this.#commandTimeoutMs) : this.#client.status;
    if (status !== 'ready' && status !== 'wait') {
      throw unavailable(operation, new Error(`Redis connection is ${status}`));
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      const left = Math.max(1, this.#commandTimeoutMs - (Date.now() - started));
      timer = setTimeout(() => reject(new Error(`no answer within ${this.#commandTimeoutMs} ms`)), left);
    });
    try {
      return await Promise.race([run(), timeout]);
    } catch (err) {
      throw err instanceof AuthError ? err : unavailable(operation, err);
    } finally {
      clearTimeout(timer);
    }
  }
}

function unavailable(operation: string, cause: unknown): AuthError {
  return new AuthError('store_unavailable', {
    description: `Redis ${operation} failed: ${(cause as Error)?.message ?? 'unknown error'}`,
    cause,
  });
}

/**
 * The cipher for values at rest. Tokens (refresh tokens above all) must not sit in a production
 * Redis in clear text by default: with `NODE_ENV=production`, no keys is refused unless the
 * deployer opted out in so many words (`encryption: 'off'`).
 */
function cipherOf(options: RedisTokenCacheStoreOptions): FieldCipher | undefined {
  const { encryption, encryptionKeys } = options;
  if (encryption !== undefined && encryption !== 'off') throw configError('encryption', 'must be \'off\' (or left out: encryptionKeys then encrypt)');
  if (encryption === 'off' && encryptionKeys !== undefined) throw configError('encryption', 'is \'off\' but encryptionKeys is set: choose one');
  if (encryptionKeys !== undefined) return new FieldCipher(encryptionKeys, 'encryptionKeys');
  if (encryption === undefined && process.env.NODE_ENV === 'production') {
    throw configError('encryptionKeys', 'is required when NODE_ENV=production (tokens would be stored in Redis in clear text); set encryption: \'off\' to accept that explicitly');
  }
  return undefined;
}

