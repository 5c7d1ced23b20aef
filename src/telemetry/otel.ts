/**
 * `@opentelemetry/api`, when the app has it: an optional peer dependency, loaded once with
 * `require` (its CommonJS build) in a `try`, so authflow works without it. Whether anything is
 * recorded is decided per call and costs one comparison when no SDK is registered: the API's
 * global tracer and meter providers are then its no-op ones.
 */
import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';

/** The API module, or undefined when the app does not have it installed. */
export const api: typeof OtelApi | undefined = (() => {
  if (process.env.AUTHFLOW_OTEL_DISABLED === '1') return undefined;
  try {
    return createRequire(import.meta.url)('@opentelemetry/api') as typeof OtelApi;
  } catch {
    return undefined;
  }
})();

/**
 * Where every copy of the API 1.x keeps its registered providers (`trace`, `metrics`, ...): one
 * read of it tells that neither is registered, before the API's own (slower) lookups run.
 */
const API_GLOBAL = Symbol.for('opentelemetry.js.api.1');
const registered = (type: 'trace' | 'metrics'): boolean =>
  (globalThis as unknown as Record<symbol, Record<string, unknown> | undefined>)[API_GLOBAL]?.[type] !== undefined;

/**
 * False when no tracer or meter provider is registered (or the API is absent): the one check a
 * hot path makes before anything else. True does not mean recording: see {@link tracingOn}.
 */
export function anyProviderRegistered(): boolean {
  const holder = (globalThis as unknown as Record<symbol, Record<string, unknown> | undefined>)[API_GLOBAL];
  return holder !== undefined && (holder.trace !== undefined || holder.metrics !== undefined) && api !== undefined;
}

let lastTraceDelegate: unknown;
let tracing = false;
/**
 * True when a tracer provider other than the API's no-op one is registered. The API's
 * global provider is a proxy whose delegate is a `NoopTracerProvider` until an SDK registers
 * (the class is looked up by name: the app's ESM copy of the API and our CommonJS copy are two
 * module instances sharing one global). Remembered per delegate, so a call costs a comparison.
 */
export function tracingOn(): boolean {
  if (!api || !registered('trace')) return false;
  const provider = api.trace.getTracerProvider() as OtelApi.TracerProvider & { getDelegate?: () => unknown };
  const delegate = provider.getDelegate ? provider.getDelegate() : provider;
  if (delegate !== lastTraceDelegate) {
    lastTraceDelegate = delegate;
    cachedTracer = undefined;
    tracing = (delegate as object | undefined)?.constructor?.name !== 'NoopTracerProvider';
  }
  return tracing;
}

let lastMeterProvider: unknown;
let meter: OtelApi.Meter | undefined;
/** The meter when a meter provider other than the no-op one is registered; else undefined. */
export function activeMeter(): OtelApi.Meter | undefined {
  if (!api || !registered('metrics')) return undefined;
  const provider = api.metrics.getMeterProvider();
  if (provider !== lastMeterProvider) {
    lastMeterProvider = provider;
    meter = (provider as object).constructor?.name === 'NoopMeterProvider' ? undefined : provider.getMeter('authflow');
    meterGeneration++;
  }
  return meter;
}
/** Changes whenever the meter does, so instruments made from the previous one are rebuilt. */
export let meterGeneration = 0;

let cachedTracer: OtelApi.Tracer | undefined;
/** authflow's tracer, kept until another provider is registered (only call when {@link tracingOn}). */
export const tracer = (): OtelApi.Tracer => (cachedTracer ??= api!.trace.getTracer('authflow'));

/** Attributes as the API takes them. */
export type Attributes = Record<string, string | number | boolean | undefined>;

/**
 * Runs `work` inside a span (its children and log lines see it as the active span) and ends it:
 * status ERROR with `error.type` (`classify(err)`) and `error.code` when `work` throws. Only call when {@link tracingOn}.
 */
export async function inSpan<T>(
  name: string, kind: 'internal' | 'client', attributes: Attributes, work: (span: OtelApi.Span) => Promise<T>, classify: (err: unknown) => string = errorCodeOf,
): Promise<T> {
  const otel = api!;
  const span = tracer().startSpan(name, { kind: kind === 'client' ? otel.SpanKind.CLIENT : otel.SpanKind.INTERNAL, attributes });
  try {
    return await otel.context.with(otel.trace.setSpan(otel.context.active(), span), () => work(span));
  } catch (err) {
    const code = classify(err);
    span.setAttribute('error.type', code);
    if (code !== '_OTHER' && classify === errorCodeOf) span.setAttribute('error.code', code);
    span.setStatus({ code: otel.SpanStatusCode.ERROR, message: code });
    throw err;
  } finally {
    span.end();
  }
}

/** An error's stable `code` (an AuthError's), `_OTHER` otherwise: never its message (it may quote input). */
export function errorCodeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[a-z_]{1,64}$/.test(code) ? code : '_OTHER';
}

/** The active span's ids, for log lines (undefined without an API, a span or a valid context). */
export function activeSpanIds(): { trace_id: string; span_id: string } | undefined {
  if (!api) return undefined;
  const span = api.trace.getActiveSpan();
  if (!span) return undefined;
  const { traceId, spanId } = span.spanContext();
  return api.isSpanContextValid(span.spanContext()) ? { trace_id: traceId, span_id: spanId } : undefined;
}
