/**
 * authflow's metric instruments, made from the registered meter (rebuilt if the app registers
 * another provider). Every `record*` function returns at once when no meter provider is registered.
 */
import type * as OtelApi from '@opentelemetry/api';
import { activeMeter, meterGeneration } from './otel.js';
import { METRIC } from './names.js';

interface Instruments {
  acquisitions: OtelApi.Counter;
  acquisitionDuration: OtelApi.Histogram;
  tokenRequests: OtelApi.Counter;
  tokenRequestDuration: OtelApi.Histogram;
  lockWaits: OtelApi.Counter;
  storeErrors: OtelApi.Counter;
  storeDuration: OtelApi.Histogram;
  signIns: OtelApi.Counter;
  bearerValidations: OtelApi.Counter;
  bearerCacheHits: OtelApi.Counter;
}

/** Bucket bounds (seconds) for OP and store calls: 1 ms to 10 s. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

let built: Instruments | undefined;
let builtFor = -1;

/** The instruments, or undefined when no meter provider is registered. */
export function instruments(): Instruments | undefined {
  const meter = activeMeter();
  if (!meter) return undefined;
  if (builtFor !== meterGeneration || !built) {
    builtFor = meterGeneration;
    const histogram = (name: string, description: string) => meter.createHistogram(name, { unit: 's', description, advice: { explicitBucketBoundaries: LATENCY_BUCKETS } });
    built = {
      acquisitions: meter.createCounter(METRIC.acquisitions, { unit: '{acquisition}', description: 'Token acquisitions by flow and outcome (cache_hit with its layer, refresh, network, shared, error with its code)' }),
      acquisitionDuration: histogram(METRIC.acquisitionDuration, 'Duration of token acquisitions'),
      tokenRequests: meter.createCounter(METRIC.tokenRequests, { unit: '{request}', description: 'Requests to the OP\'s token endpoint by grant type and HTTP status' }),
      tokenRequestDuration: histogram(METRIC.tokenRequestDuration, 'Duration of requests to the OP\'s token endpoint'),
      lockWaits: meter.createCounter(METRIC.lockWaits, { unit: '{wait}', description: 'Waits for a partition\'s refresh lock, by outcome (acquired, timeout, error)' }),
      storeErrors: meter.createCounter(METRIC.storeErrors, { unit: '{error}', description: 'Failed token-cache store operations, by operation and reason' }),
      storeDuration: histogram(METRIC.storeDuration, 'Duration of token-cache store operations'),
      signIns: meter.createCounter(METRIC.signIns, { unit: '{sign_in}', description: 'Completed sign-ins (callbacks), by outcome and error code' }),
      bearerValidations: meter.createCounter(METRIC.bearerValidations, { unit: '{validation}', description: 'Bearer token validations, by outcome (valid, refused) and error code' }),
      bearerCacheHits: meter.createCounter(METRIC.bearerCacheHits, { unit: '{hit}', description: 'Bearer tokens found in the verified-token cache (no signature check)' }),
    };
  }
  return built;
}
