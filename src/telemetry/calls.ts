/**
 * Child spans and metrics for what an acquisition waits on: requests to the OP (HTTP client
 * semantic conventions) and token-cache store operations (`db.system`, `db.operation`, the
 * partition count, never a key). Each wrapper is `run()` itself when telemetry is off.
 */
import type * as OtelApi from '@opentelemetry/api';
import { ATTR, SPAN } from './names.js';
import { anyProviderRegistered, api, errorCodeOf, inSpan, tracingOn, type Attributes } from './otel.js';
import { instruments } from './metrics.js';
import { noteLockWait, noteTokenRequest } from './acquire.js';
import { RedisTokenCacheStore } from '../stores/redis.js';
import type { TokenCacheStore } from '../stores/types.js';

/** What {@link observeOpRequest} may read of a request: never its body beyond `grant_type`. */
export interface OpRequestInfo {
  url: string;
  method: string | undefined;
  body: unknown;
  /** The OP's `jwks_uri`, to label key downloads. */
  jwksUri: string | undefined;
}

/** One request to the OP as a CLIENT span named by its method, counted when it is a token request. */
export function observeOpRequest(info: OpRequestInfo, send: () => Promise<Response>): Promise<Response> {
  if (!anyProviderRegistered()) return send();
  const traced = tracingOn();
  const metrics = instruments();
  if (!traced && !metrics) return send();
  const url = new URL(info.url);
  const method = (info.method ?? 'GET').toUpperCase();
  const grantType = grantTypeOf(info.body);
  const endpoint = grantType ? 'token' : url.pathname.includes('/.well-known/') ? 'discovery' : info.url === info.jwksUri ? 'jwks' : 'other';
  if (grantType) noteTokenRequest();
  const attributes: Attributes = {
    [ATTR.httpMethod]: method,
    [ATTR.serverAddress]: url.hostname,
    [ATTR.serverPort]: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    'url.scheme': url.protocol.replace(':', ''),
    [ATTR.endpoint]: endpoint,
    ...(grantType ? { [ATTR.grantType]: grantType } : {}),
  };
  const started = performance.now();
  const count = (outcome: Attributes): void => {
    if (!metrics || !grantType) return;
    const labels = { [ATTR.grantType]: grantType, ...outcome } as Record<string, string | number>;
    metrics.tokenRequests.add(1, labels);
    metrics.tokenRequestDuration.record((performance.now() - started) / 1000, labels);
  };
  const attempt = async (span?: OtelApi.Span): Promise<Response> => {
    let response: Response;
    try {
      response = await send();
    } catch (err) {
      count({ [ATTR.errorType]: fetchErrorType(err) });
      throw err;
    }
    span?.setAttribute(ATTR.httpStatus, response.status);
    if (response.status >= 400) {
      span?.setAttribute(ATTR.errorType, String(response.status));
      span?.setStatus({ code: api!.SpanStatusCode.ERROR });
    }
    count({ [ATTR.httpStatus]: response.status });
    return response;
  };
  return traced ? inSpan(method, 'client', attributes, attempt, fetchErrorType) : attempt();
}

function fetchErrorType(err: unknown): string {
  const name = (err as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError') return 'op_timeout';
  if (name === 'AbortError') return 'aborted';
  return 'op_unreachable';
}

function grantTypeOf(body: unknown): string | undefined {
  let value: string | null = null;
  if (body instanceof URLSearchParams) value = body.get('grant_type');
  else if (typeof body === 'string') value = new URLSearchParams(body).get('grant_type');
  // Grant types are URIs or short names; anything else is not labelled with its value.
  return value === null ? undefined : /^[\w:.\-/]{1,100}$/.test(value) ? value : '_OTHER';
}

/** One token-cache store operation on one partition, as an `authflow.cache_store` span and its latency. */
export function observeStore<T>(store: TokenCacheStore, operation: 'read' | 'write' | 'clear' | 'lock', run: () => Promise<T>): Promise<T> {
  if (!anyProviderRegistered()) return run();
  const traced = tracingOn();
  const metrics = instruments();
  if (!traced && !metrics) return run();
  const system = store instanceof RedisTokenCacheStore ? 'redis' : store.constructor?.name === 'MemoryTokenCacheStore' ? 'memory' : 'other';
  const attributes: Attributes = { [ATTR.dbSystem]: system, [ATTR.dbOperation]: operation, [ATTR.partitions]: 1 };
  const started = performance.now();
  const measured = async (): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      metrics?.storeErrors.add(1, { [ATTR.dbSystem]: system, [ATTR.dbOperation]: operation, [ATTR.errorType]: reasonOf(err) });
      throw err;
    } finally {
      metrics?.storeDuration.record((performance.now() - started) / 1000, { [ATTR.dbSystem]: system, [ATTR.dbOperation]: operation });
    }
  };
  return traced ? inSpan(SPAN.store, 'client', attributes, measured) : measured();
}

/** The end of a wait for a partition's refresh lock (begun at `startedAt`): counted, and noted on the acquisition. */
export function lockWaitEnded(startedAt: number, failure?: unknown): void {
  if (!anyProviderRegistered()) return;
  const metrics = instruments();
  if (!metrics && !tracingOn()) return;
  noteLockWait(performance.now() - startedAt);
  const outcome = failure === undefined ? 'acquired' : reasonOf(failure) === 'lock_timeout' ? 'timeout' : 'error';
  metrics?.lockWaits.add(1, { [ATTR.lockOutcome]: outcome });
}

function reasonOf(err: unknown): string {
  const reason = (err as { reason?: unknown } | null)?.reason;
  return typeof reason === 'string' ? reason : errorCodeOf(err);
}
