import type { ClientConfig } from '../config.js';
import type { CacheEntities } from '../cache/entities.js';
import type { LocalPartitionCache } from '../cache/localCache.js';
import { AuthError } from '../errors.js';
import type { OpClient } from '../opClient.js';
import type { TokenResult } from '../results.js';
import type { CacheChanges, ReleaseLock } from '../stores/types.js';
import { KeyedMutex, SingleFlight } from '../util/concurrency.js';
import { noteCacheLayer } from '../telemetry/acquire.js';
import { lockWaitEnded, observeStore } from '../telemetry/calls.js';

/** What every flow needs: the validated options, the OP connection and the refresh coordination. */
export interface FlowContext {
  config: ClientConfig;
  op: OpClient;
  /** Concurrent identical acquisitions share one request. */
  flight: SingleFlight<TokenResult>;
  /** One refresh per partition at a time in this process. */
  partitionMutex: KeyedMutex;
  /** Recently read partitions, for cache hits (undefined when `localCacheSeconds` is 0). */
  local: LocalPartitionCache | undefined;
  /** Store reads for cache lookups in progress: concurrent lookups of one partition share one read. */
  reads: SingleFlight<CacheEntities>;
}

/**
 * Reads a partition from the store (and remembers it locally); a failing store becomes
 * `store_unavailable` (503). With `local` (only for looking up a cached access token, never before
 * a refresh), a partition read in the last `localCacheSeconds` is served from memory, and lookups
 * arriving while a read of the partition is under way share it (a page's parallel calls for one
 * user, a refresh storm: one store read per process instead of one per call). A write here makes
 * the next lookup read again.
 */
export async function readPartition(ctx: FlowContext, partition: string, options: { local?: boolean } = {}): Promise<CacheEntities> {
  if (options.local) {
    const remembered = localPartition(ctx, partition);
    if (remembered) return remembered;
  }
  const entities = options.local ? await ctx.reads.run(partition, () => readFromStore(ctx, partition)) : await readFromStore(ctx, partition);
  // Noted in each caller's acquisition, those who joined a shared read included.
  noteCacheLayer('store');
  return entities;
}

/** The local copy of the partition when there is a fresh one, without an await (the hot path of a cache hit). */
export function localPartition(ctx: FlowContext, partition: string): CacheEntities | undefined {
  const remembered = ctx.local?.get(partition);
  if (remembered) noteCacheLayer('local');
  return remembered;
}

async function readFromStore(ctx: FlowContext, partition: string): Promise<CacheEntities> {
  let entities: CacheEntities;
  const store = ctx.config.cacheStore;
  try {
    entities = await observeStore(store, 'read', () => store.read(partition));
  } catch (err) {
    throw storeError(err, 'read');
  }
  ctx.local?.set(partition, entities);
  return entities;
}

export async function writePartition(ctx: FlowContext, partition: string, changes: CacheChanges, ttlSeconds?: number): Promise<void> {
  ctx.reads.forget(partition);
  try {
    const store = ctx.config.cacheStore;
    await observeStore(store, 'write', () => store.write(partition, changes, ttlSeconds === undefined ? {} : { ttlSeconds }));
  } catch (err) {
    ctx.local?.delete(partition);
    throw storeError(err, 'write');
  }
  ctx.local?.apply(partition, changes);
}

export async function clearPartition(ctx: FlowContext, partition: string): Promise<void> {
  ctx.reads.forget(partition);
  ctx.local?.delete(partition);
  try {
    const store = ctx.config.cacheStore;
    await observeStore(store, 'clear', () => store.clear(partition));
  } catch (err) {
    throw storeError(err, 'clear');
  }
}

/**
 * Runs `work` holding the partition exclusively: in this process (a mutex) and, when the store
 * offers one, across processes (its lock). `work` must re-read the partition: whoever held the
 * lock before may have refreshed already.
 */
export async function withPartitionLock<T>(
  ctx: FlowContext, partition: string, work: () => Promise<T>,
  /** Asked after each wait for another process's lock: a result when the holder did the work for us (no lock taken then). */
  doneWhileWaiting?: () => Promise<T | undefined>,
): Promise<T> {
  const waitStarted = performance.now();
  return ctx.partitionMutex.run(partition, async () => {
    const store = ctx.config.cacheStore;
    if (!store.lock) {
      lockWaitEnded(waitStarted);
      return work();
    }
    let done: T | undefined;
    const options = doneWhileWaiting ? { doneWhileWaiting: async () => (done = await doneWhileWaiting()) !== undefined } : {};
    let release: ReleaseLock | undefined;
    try {
      release = await observeStore(store, 'lock', () => store.lock!(partition, options));
    } catch (err) {
      lockWaitEnded(waitStarted, err);
      throw storeError(err, 'lock');
    }
    lockWaitEnded(waitStarted);
    if (!release) {
      if (done !== undefined) return done;
      throw storeError(new Error('the store\'s lock() resolved without a lock'), 'lock');
    }
    try {
      return await work();
    } finally {
      await release().catch((err: unknown) => {
        ctx.config.logger.warn({ partition, error: (err as Error)?.message }, 'authflow: could not release a cache lock; it expires by itself');
      });
    }
  });
}

function storeError(err: unknown, operation: string): AuthError {
  if (err instanceof AuthError) return err;
  return new AuthError('store_unavailable', {
    description: `the token cache store failed to ${operation}: ${(err as Error)?.message ?? 'unknown error'}`,
    cause: err,
  });
}

/** Partition key of On-Behalf-Of tokens for one incoming assertion (msal-node's `userAssertionHash`). */
export const oboPartition = (assertionHash: string): string => `obo.${assertionHash}`;

/** Partition key of app tokens: one per client and tenant (Microsoft.Identity.Web's choice). */
export const appPartition = (clientId: string, tenant: string): string => `app.${clientId}.${tenant}`;
