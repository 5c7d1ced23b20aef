/**
 * The OpenTelemetry SDK as the telemetry bench rows register it: always-on sampler, in-memory span
 * exporter (emptied every second so a long run does not hold every span), AsyncLocalStorage
 * context manager and a meter provider with a reader (collected by nobody: recording is the cost).
 * `register()` and `unregister()` may alternate in one process.
 */
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AlwaysOnSampler, BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';

export interface RegisteredSdk {
  /** Spans exported since registration. */
  spans(): number;
  unregister(): Promise<void>;
}

export function registerSdk(): RegisteredSdk {
  const exporter = new InMemorySpanExporter();
  let exported = 0;
  const drain = setInterval(() => {
    exported += exporter.getFinishedSpans().length;
    exporter.reset();
  }, 1000);
  drain.unref();
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  const tracerProvider = new BasicTracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors: [new SimpleSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(tracerProvider);
  const meterProvider = new MeterProvider({
    readers: [new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000 })],
  });
  metrics.setGlobalMeterProvider(meterProvider);
  return {
    spans: () => exported + exporter.getFinishedSpans().length,
    async unregister() {
      clearInterval(drain);
      trace.disable();
      metrics.disable();
      context.disable();
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}
