/**
 * The `authflow.acquire_token` span and the acquisition metrics. The flows report what only they
 * know (which cache layer answered, how long the refresh lock took, whether the OP was asked)
 * through {@link noteCacheLayer} and friends, which find the acquisition in the OpenTelemetry
 * context (the SDK's context manager carries it; one context for the span and the state, no
 * AsyncLocalStorage of our own). Without an SDK a flow pays one comparison and nothing is entered.
 */
import { ATTR, SPAN, type AcquisitionOutcome, type CacheLayer, type FlowName } from './names.js';
import { anyProviderRegistered, api, errorCodeOf, tracer, tracingOn, type Attributes } from './otel.js';
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
  /** Whether the flows can see this state (a context manager carries it); else outcomes are coarser. */
  tracked: boolean;
}

const STATE = api?.createContextKey('authflow.acquisition');

/** The acquisition running in this async context, if telemetry is on (and a context manager registered). */
export const currentAcquisition = (): AcquisitionState | undefined =>
  (STATE && acquisitions > 0 ? api!.context.active().getValue(STATE) as AcquisitionState | undefined : undefined);
/** Acquisitions observed so far: until the first, no context is looked at. */
let acquisitions = 0;

/** A flow read a partition from this layer. */
export function noteCacheLayer(layer: CacheLayer): void {
  const state = currentAcquisition();
  if (state) state.layer = layer;
}

/** A flow waited `ms` for the partition's refresh lock. */
export function noteLockWait(ms: number): void {
  const state = currentAcquisition();
  if (state) state.lockWaitedMs = Math.round((state.lockWaitedMs ?? 0) + ms);
}

/** This acquisition sent a request to the token endpoint. */
export function noteTokenRequest(): void {
  const state = currentAcquisition();
  if (state) state.tokenRequests++;
}

/**
 * Runs one acquisition (`run`) as an `authflow.acquire_token` span and counts it; with neither a
 * tracer nor a meter provider registered, just `run()`.
 */
export function observeAcquisition<T extends { fromCache: boolean }>(flow: FlowName, run: () => Promise<T>): Promise<T> {
  if (!anyProviderRegistered()) return run();
  const traced = tracingOn();
  if (!traced && !instruments()) return run();
  return observed(flow, run, traced);
}

async function observed<T extends { fromCache: boolean }>(flow: FlowName, run: () => Promise<T>, traced: boolean): Promise<T> {
  const otel = api!;
  acquisitions++;
  const state: AcquisitionState = { flow, layer: 'none', lockWaitedMs: undefined, tokenRequests: 0, tracked: false };
  const started = performance.now();
  const span = traced ? tracer().startSpan(SPAN.acquireToken, { kind: otel.SpanKind.INTERNAL, attributes: { [ATTR.flow]: flow } }) : undefined;
  let context = otel.context.active().setValue(STATE!, state);
  if (span) context = otel.trace.setSpan(context, span);
  let result: T | undefined;
  let failure: unknown;
  try {
    result = await otel.context.with(context, () => {
      // Without a context manager (a meter provider alone) the flows cannot reach the state.
      state.tracked = otel.context.active().getValue(STATE!) === state;
      return run();
    });
    return result;
  } catch (err) {
    failure = err;
    throw err;
  } finally {
    const outcome = outcomeOf(state, result, failure);
    if (span) {
      span.setAttributes(spanAttributes(state, result) as Record<string, string | number | boolean>);
      if (outcome === 'error') {
        const code = errorCodeOf(failure);
        span.setAttribute(ATTR.errorType, code);
        if (code !== '_OTHER') span.setAttribute(ATTR.errorCode, code);
        span.setStatus({ code: otel.SpanStatusCode.ERROR, message: code });
      }
      span.end();
    }
    const metrics = instruments();
    if (metrics) {
      const attributes: Attributes = { [ATTR.flow]: flow, [ATTR.outcome]: outcome };
      if (outcome === 'cache_hit' && state.tracked) attributes[ATTR.cacheLayer] = state.layer;
      if (outcome === 'error') attributes[ATTR.errorCode] = errorCodeOf(failure);
      metrics.acquisitions.add(1, attributes as Record<string, string>);
      metrics.acquisitionDuration.record((performance.now() - started) / 1000, { [ATTR.flow]: flow, [ATTR.outcome]: outcome });
    }
  }
}

function outcomeOf(state: AcquisitionState, result: { fromCache: boolean } | undefined, failure: unknown): AcquisitionOutcome {
  if (!result || failure !== undefined) return 'error';
  if (result.fromCache) return 'cache_hit';
  if (!state.tracked) return state.flow === 'silent' ? 'refresh' : 'network';
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
