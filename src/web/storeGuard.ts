/**
 * The session store seen through a guard, the same for every adapter: each call answers within
 * `storeTimeoutMs`, a Redis client still making its first connection is waited for (within the
 * same time), and every failure becomes `store_unavailable` (503), never a hang or a 500.
 */
import type { Cluster, Redis } from 'ioredis';
import { AuthError, configError, type StoreFailureReason } from '../errors.js';
import { defaultLogger } from '../logger.js';
import { isIoredis, whenConnected } from '../stores/redisReady.js';
import { num } from '../util/options.js';
import { errorResult, type RequestShape, type WebResult } from './render.js';
import { reportFailure } from './report.js';

/** Options of `authSession()` about its store (Express and Koa). */
export interface SessionStoreOptions {
  /**
   * The ioredis client behind `store`: requests made while it is still making its first
   * connection (just after the app starts) wait for it, within `storeTimeoutMs`, instead of failing.
   */
  redis?: Redis | Cluster;
  /** Longest a store call may take, ms; past it the request fails with `store_unavailable` (503). Default 1,000. */
  storeTimeoutMs?: number;
}

/** The checked guard settings. */
export interface StoreGuard {
  timeoutMs: number;
  client: Redis | Cluster | undefined;
}

/** Checks the guard's options (each refusal names the option); the client is `redis`, else the store's own ioredis `client`. */
export function storeGuard(options: SessionStoreOptions, store: unknown): StoreGuard {
  const timeoutMs = num('storeTimeoutMs', options.storeTimeoutMs, 1_000, { integer: true });
  if (options.redis !== undefined && !isIoredis(options.redis)) throw configError('redis', 'must be an ioredis Redis or Cluster instance');
  // connect-redis keeps the ioredis client out of reach (behind its own wrapper): `redis` names it.
  const own = (store as { client?: unknown } | undefined)?.client;
  return { timeoutMs, client: options.redis ?? (isIoredis(own) ? own : undefined) };
}

/** Runs one store call through the guard. */
export function guarded<T>(guard: StoreGuard, operation: string, run: () => T | Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => fail(storeError(operation, 'store_timeout', new Error(`no answer within ${guard.timeoutMs} ms`))), guard.timeoutMs);
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(err instanceof AuthError && err.code === 'store_unavailable' ? err : storeError(operation, 'store_failed', err));
    };
    const call = (): void => {
      if (settled) return;
      Promise.resolve().then(run).then((value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      }, fail);
    };
    if (guard.client) void whenConnected(guard.client, guard.timeoutMs).then(call);
    else call();
  });
}

type Callback = (err?: unknown, value?: unknown) => void;

/** An express-session (callback-style) store through the guard; the store itself is left untouched. */
export function guardCallbackStore<S extends object>(store: S, guard: StoreGuard): S {
  const guardedStore = Object.create(store) as Record<string, unknown>;
  for (const method of ['get', 'set', 'destroy', 'touch'] as const) {
    const original = (store as Record<string, unknown>)[method];
    if (typeof original !== 'function') continue;
    guardedStore[method] = (...args: unknown[]) => {
      const callback = typeof args[args.length - 1] === 'function' ? (args.pop() as Callback) : () => {};
      const run = () => new Promise<unknown>((resolve, reject) => {
        const result = (original as (...a: unknown[]) => unknown).call(store, ...args, (err?: unknown, value?: unknown) => (err ? reject(err) : resolve(value)));
        if (result instanceof Promise) result.catch(reject);
      });
      guarded(guard, method, run).then((value) => callback(null, value), (err: unknown) => callback(err));
    };
  }
  return guardedStore as S;
}

/** A koa-session (promise-style) store through the guard; the store itself is left untouched. */
export function guardPromiseStore<S extends object>(store: S, guard: StoreGuard): S {
  const guardedStore = Object.create(store) as Record<string, unknown>;
  for (const method of ['get', 'set', 'destroy'] as const) {
    const original = (store as Record<string, unknown>)[method];
    if (typeof original !== 'function') continue;
    guardedStore[method] = (...args: unknown[]) => guarded(guard, method, () => (original as (...a: unknown[]) => unknown).apply(store, args));
  }
  return guardedStore as S;
}

/** `store_unavailable` for a session store call that failed. */
export function storeError(operation: string, reason: StoreFailureReason, cause: unknown): AuthError {
  return new AuthError('store_unavailable', { reason, description: `the session store failed to ${operation}`, cause });
}

/**
 * The answer to an authflow failure raised before `auth()` ran (the session store is down while
 * the session loads): a plain authflow page or JSON, logged with the id it shows.
 */
export function failureBeforeAuth(request: RequestShape, error: unknown): WebResult | undefined {
  if (!(error instanceof AuthError)) return undefined;
  return errorResult(request, error, { correlationId: reportFailure(defaultLogger, request, error) });
}
