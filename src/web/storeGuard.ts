/**
 * The session store seen through a guard, the same for every adapter: each call answers within
 * `storeTimeoutMs`, a Redis client still making its first connection is waited for (within the
 * same time), and every failure becomes `store_unavailable` (503), never a hang or a 500.
 */
import type { Cluster, Redis } from 'ioredis';
import { AuthError, configError, type StoreFailureReason } from '../errors.js';
import { defaultLogger } from '../logger.js';
import { isConnecting, isIoredis, whenConnected } from '../stores/redisReady.js';
import { num } from '../util/options.js';
import { keepStringPrototypeFast } from '../util/stringPrototype.js';
import { errorResult, type RequestShape, type WebResult } from './render.js';
import { reportFailure } from './report.js';
import type { BearerGuard } from './bearerGuard.js';
import type { SessionPort } from './session.js';
import type { WebAuth, WebRequest } from './webAuth.js';

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

/**
 * Checks the store and the guard's options (each refusal names the option); the client is
 * `redis`, else the store's own ioredis `client` (whose arrival undoes ioredis 6's slowing of
 * string methods, as `redisClient()` does for the Redis stores).
 */
export function storeGuard(options: SessionStoreOptions, store: unknown, kind: string): StoreGuard {
  const methods = store as Record<string, unknown> | null | undefined;
  if (store !== undefined && (!methods || ['get', 'set', 'destroy'].some((m) => typeof methods[m] !== 'function'))) {
    throw configError('store', `must be a ${kind} store (get, set, destroy)`);
  }
  const timeoutMs = num('storeTimeoutMs', options.storeTimeoutMs, 1_000, { integer: true });
  if (options.redis !== undefined && !isIoredis(options.redis)) throw configError('redis', 'must be an ioredis Redis or Cluster instance');
  // connect-redis keeps the ioredis client out of reach (behind its own wrapper): `redis` names it.
  const own = (store as { client?: unknown } | undefined)?.client;
  const client = options.redis ?? (isIoredis(own) ? own : undefined);
  if (client) keepStringPrototypeFast();
  return { timeoutMs, client };
}

type Callback = (err?: unknown, value?: unknown) => void;

/**
 * Runs one store call through the guard, callback style (no promise of its own: express-session's
 * stores are called on every request). `start` begins the call and hands its outcome to `done`
 * (once; it may also return a promise, whose rejection counts as a failure); `callback` gets the
 * value, or the failure as `store_unavailable`: a timeout, a throw, an error or a rejection.
 */
function guardedCall(guard: StoreGuard, operation: string, start: (done: Callback) => unknown, callback: Callback): void {
  let settled = false;
  let timer: NodeJS.Timeout | undefined;
  const finish: Callback = (err, value) => {
    if (settled) return;
    settled = true;
    if (timer) clearTimeout(timer);
    if (err) callback(err instanceof AuthError && err.code === 'store_unavailable' ? err : storeError(operation, 'store_failed', err));
    else callback(null, value);
  };
  const arm = (): void => {
    timer = setTimeout(() => finish(storeError(operation, 'store_timeout', new Error(`no answer within ${guard.timeoutMs} ms`))), guard.timeoutMs);
  };
  const call = (): void => {
    if (settled) return;
    try {
      const result = start(finish);
      if (result instanceof Promise) result.catch((err: unknown) => finish(err ?? new Error('rejected')));
    } catch (err) {
      finish(err ?? new Error('threw'));
    }
    // A store that answered at once (express-session's touch on a store with touch disabled, on
    // every request) needs no timer.
    if (!settled && !timer) arm();
  };
  if (guard.client && isConnecting(guard.client)) {
    // The wait for the first connection counts against the same time.
    arm();
    void whenConnected(guard.client, guard.timeoutMs).then(call);
  } else {
    call();
  }
}

/** Runs one store call through the guard (see {@link guardedCall}), promise style. */
export function guarded<T>(guard: StoreGuard, operation: string, run: () => T | Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => guardedCall(guard, operation, (done) => {
    const result = run();
    // Any thenable (a store's own promise library) is followed; a rejection reaches guardedCall.
    if (typeof (result as PromiseLike<T> | undefined)?.then === 'function') return Promise.resolve(result).then((value) => done(null, value));
    done(null, result);
    return undefined;
  }, (err, value) => (err ? reject(err) : resolve(value as T))));
}

/** An express-session (callback-style) store through the guard; the store itself is left untouched. */
export function guardCallbackStore<S extends object>(store: S, guard: StoreGuard): S {
  const guardedStore = Object.create(store) as Record<string, unknown>;
  for (const method of ['get', 'set', 'destroy', 'touch'] as const) {
    const original = (store as Record<string, unknown>)[method] as ((...a: unknown[]) => unknown) | undefined;
    if (typeof original !== 'function') continue;
    guardedStore[method] = (...args: unknown[]) => {
      const callback = typeof args[args.length - 1] === 'function' ? (args.pop() as Callback) : () => {};
      // Answered in a microtask of its own: express-session runs the rest of the request in this
      // callback, which must not run inside the store's code (its try/catch would take the app's errors).
      guardedCall(guard, method, (done) => {
        args.push(done);
        return original.apply(store, args);
      }, (err, value) => queueMicrotask(() => callback(err, value)));
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

/**
 * Removes another session from a session store (back-channel logout): callback-style
 * (express-session) or promise-style (koa-session) `destroy`; no store, nothing to remove.
 */
export function destroyIn(store: { destroy(id: string, callback?: (err?: unknown) => void): unknown } | undefined, sessionId: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!store) return resolve();
    const fail = (err: unknown): void => reject(asStoreError('destroy', err));
    const result = store.destroy(sessionId, (err?: unknown) => (err ? fail(err) : resolve()));
    if (result instanceof Promise) result.then(() => resolve(), fail);
  });
}

/** An authflow error as it is; anything else a session store threw as `store_unavailable`. */
export function asStoreError(operation: string, err: unknown): AuthError {
  return err instanceof AuthError ? err : storeError(operation, 'store_failed', err);
}

/** `store_unavailable` for a session store call that failed. */
export function storeError(operation: string, reason: StoreFailureReason, cause: unknown): AuthError {
  return new AuthError('store_unavailable', { reason, description: `the session store failed to ${operation}`, cause });
}

/**
 * The answer to a failure, from whoever can give it: `requireBearer()`'s guard (web APIs), else
 * `auth()` with the session (a sign-in when interaction is needed), else `auth()` without one,
 * else a plain authflow page (before `auth()` ran). Undefined for errors that are not authflow's.
 */
export function answerFailure(request: WebRequest, error: unknown, by: { guard?: BearerGuard | undefined; web?: WebAuth | undefined; session?: SessionPort | undefined }): WebResult | undefined {
  if (by.guard) return by.guard.errorResult(request, error);
  if (by.web && by.session) return by.web.errorResult(request, by.session, error);
  if (by.web && error instanceof AuthError) return by.web.failure(request, error);
  return failureBeforeAuth(request, error);
}

/**
 * The answer to an authflow failure raised before `auth()` ran (the session store is down while
 * the session loads): a plain authflow page or JSON, logged with the id it shows.
 */
export function failureBeforeAuth(request: RequestShape, error: unknown): WebResult | undefined {
  if (!(error instanceof AuthError)) return undefined;
  return errorResult(request, error, { correlationId: reportFailure(defaultLogger, request, error) });
}
