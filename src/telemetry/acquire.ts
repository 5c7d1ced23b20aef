/**
 * The `authflow.acquire_token` span and the acquisition metrics. The flows report what only they
 * know (which cache layer answered, how long the refresh lock took, whether the OP was asked)
 * through {@link noteCacheLayer} and friends, which find the acquisition in an AsyncLocalStorage
 * entered only while telemetry is on: without an SDK a flow pays one comparison.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ATTR, SPAN, type AcquisitionOutcome, type CacheLayer, type FlowName } from './names.js';
import { errorCodeOf, inSpan, tracingOn, type Attributes } from './otel.js';
import { instruments } from './metrics.js';

/** What one acquisition learnt on its way. */
interface AcquisitionState {
  flow: FlowName;
  /** The layer of the last partition read. */
  layer: CacheLayer;
  /** Time spent waiting for the partition's refresh lock (in-process and the store's). */
  lockWaitedMs: number | undefined;
  /** Requests this acquisition sent to the token endpoint. */
  tokenRequests: number;
}

const current = new AsyncLocalStorage<AcquisitionState>();

/** The acquisition running in this async context, if telemetry is on. */
export const currentAcquisition = (): AcquisitionState | undefined => current.getStore();

/** A flow read a partition from this layer. */
export function noteCacheLayer(layer: CacheLayer): void {
  const state = current.getStore();
  if (state) state.layer = layer;
}

/** A flow waited `ms` for the partition's refresh lock. */
export function noteLockWait(ms: number): void {
  const state = current.getStore();
  if (state) state.lockWaitedMs = Math.round((state.lockWaitedMs ?? 0) + ms);
}

/** This acquisition sent a request to the token endpoint. */
export function noteTokenRequest(): void {
  const state = current.getStore();
  if (state) state.tokenRequests++;
}

/**
 * Runs one acquisition (`run`) as an `authflow.acquire_token` span and counts it; with neither a
 * tracer nor a meter provider registered, just `run()`.
 */
export function observeAcquisition<T extends { fromCache: boolean }>(flow: FlowName, run: () => Promise<T>): Promise<T> {
  const traced = tracingOn();
  if (!traced && !instruments()) return run();
  return observed(flow, run, traced);
}

async function observed<T extends { fromCache: boolean }>(flow: FlowName, run: () => Promise<T>, traced: boolean): Promise<T> {
  const state: AcquisitionState = { flow, layer: 'none', lockWaitedMs: undefined, tokenRequests: 0 };
  const started = performance.now();
  let result: T | undefined;
  let failure: unknown;
  try {
    const body = (): Promise<T> => current.run(state, run);
    result = traced
      ? await inSpan(SPAN.acquireToken, 'internal', { [ATTR.flow]: flow }, async (span) => {
        try {
          return (result = await body());
        } finally {
          span.setAttributes(spanAttributes(state, result) as Record<string, string | number | boolean>);
        }
      })
      : await body();
    return result;
  } catch (err) {
    failure = err;
    throw err;
  } finally {
    const metrics = instruments();
    if (metrics) {
      const outcome = outcomeOf(state, result, failure);
      const attributes: Attributes = { [ATTR.flow]: flow, [ATTR.outcome]: outcome };
      if (outcome === 'cache_hit') attributes[ATTR.cacheLayer] = state.layer;
      if (outcome === 'error') attributes[ATTR.errorCode] = errorCodeOf(failure);
      metrics.acquisitions.add(1, attributes as Record<string, string>);
      metrics.acquisitionDuration.record((performance.now() - started) / 1000, { [ATTR.flow]: flow, [ATTR.outcome]: outcome });
    }
  }
}

function outcomeOf(state: AcquisitionState, result: { fromCache: boolean } | undefined, failure: unknown): AcquisitionOutcome {
  if (!result || failure !== undefined) return 'error';
  if (result.fromCache) return 'cache_hit';
  if (state.tokenRequests === 0) return 'shared';
  return state.flow === 'silent' ? 'refresh' : 'network';
}

function spanAttributes(state: AcquisitionState, result: { fromCache: boolean } | undefined): Attributes {
  const fromCache = result?.fromCache === true;
  return {
    [ATTR.fromCache]: fromCache,
    [ATTR.cacheLayer]: fromCache ? state.layer : 'none',
    [ATTR.refreshed]: state.flow === 'silent' && !fromCache && state.tokenRequests > 0 && result !== undefined,
    ...(state.lockWaitedMs !== undefined ? { [ATTR.lockWaitedMs]: state.lockWaitedMs } : {}),
  };
}
