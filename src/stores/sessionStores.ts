/**
 * Server-side session stores for authflow/koa (koa-session's external store contract), kept with
 * the other stores so that Redis code lives in one place. Sessions always live on the server: the cookie
 * holds only an opaque, signed id (a sign-in in flight keeps its PKCE verifier and nonce in the
 * session, which must never reach the browser).
 */
import type { Cluster, Redis } from 'ioredis';
import { AuthError } from '../errors.js';
import { isConnecting, whenConnected } from './redisReady.js';
import { BoundedMap } from '../util/boundedMap.js';
import { num, object, redisClient, redisPrefix } from '../util/options.js';

/** koa-session's external store contract. */
export interface KoaSessionStore {
  /** The session stored under `key`, or undefined. */
  get(key: string): Promise<Record<string, unknown> | undefined>;
  /** Stores the session for `maxAge` milliseconds (`'session'`: for the browser session). */
  set(key: string, value: Record<string, unknown>, maxAge: number | 'session' | undefined): Promise<void>;
  /** Deletes the session. */
  destroy(key: string): Promise<void>;
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * The default store: sessions in process memory, each expiring with its `maxAge`, at most
 * `maxSessions` kept (the least recently used are dropped first). Enough for one instance and for
 * development; use `redisSessionStore()` when several instances serve the app.
 */
export function memorySessionStore(options: { maxSessions?: number } = {}): KoaSessionStore {
  const max = num('maxSessions', object(options).maxSessions, 10_000, { integer: true });
  const sessions = new BoundedMap<string, string>({ maxEntries: max });
  return {
    async get(key) {
      const json = sessions.get(key);
      return json === undefined ? undefined : (JSON.parse(json) as Record<string, unknown>);
    },
    async set(key, value, maxAge) {
      sessions.set(key, JSON.stringify(value), typeof maxAge === 'number' ? maxAge : DAY_MS);
    },
    async destroy(key) {
      sessions.delete(key);
    },
  };
}

/** A koa-session store on an ioredis client (one string per session, expiring with it). */
export function redisSessionStore(options: { client: Redis | Cluster; prefix?: string; connectTimeoutMs?: number }): KoaSessionStore {
  const client = redisClient(object(options).client, ['get', 'set', 'del']);
  const prefix = redisPrefix(options.prefix, 'authflow:sess:');
  const connectTimeoutMs = num('connectTimeoutMs', options.connectTimeoutMs, 1_000, { integer: true });
  // Promise chains rather than async functions: a session is read on every request.
  const guarded = <T>(operation: string, run: () => Promise<T>): Promise<T> => {
    if (client.status !== 'ready') {
      return Promise.reject(new AuthError('store_unavailable', { reason: 'store_not_ready', description: `the session store cannot ${operation}: Redis is ${client.status}` }));
    }
    let running: Promise<T>;
    try {
      running = run();
    } catch (err) {
      running = Promise.reject(err);
    }
    return running.catch((err: unknown) => {
      throw new AuthError('store_unavailable', { reason: 'store_failed', description: `the session store failed to ${operation}`, cause: err });
    });
  };
  // A client still making its first connection is waited for; one that is down fails at once.
  const guard = <T>(operation: string, run: () => Promise<T>): Promise<T> => (isConnecting(client)
    ? whenConnected(client, connectTimeoutMs).then(() => guarded(operation, run))
    : guarded(operation, run));
  return {
    get: (key) => guard('read', () => client.get(prefix + key).then(sessionOf)),
    set: (key, value, maxAge) => guard('write', () => client.set(prefix + key, JSON.stringify(value), 'PX', typeof maxAge === 'number' ? maxAge : DAY_MS).then(() => undefined)),
    destroy: (key) => guard('delete', () => client.del(prefix + key).then(() => undefined)),
  };
}

/** A stored session's data; an unreadable one is absent (koa-session then starts a new session). */
function sessionOf(value: string | null): Record<string, unknown> | undefined {
  if (!value) return undefined;
  try {
    const data: unknown = JSON.parse(value);
    return data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
