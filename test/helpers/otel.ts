/**
 * The OpenTelemetry SDK for tests: a tracer provider (always-on sampler) exporting to an
 * in-memory exporter, the AsyncLocalStorage context manager, and a meter provider whose reader
 * the test collects on demand. Registered globally once per process (the API refuses a second
 * registration); `reset()` empties the spans and starts a fresh meter provider, so each test
 * reads only its own points.
 */
import { context, metrics, trace, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AlwaysOnSampler, BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { AggregationTemporality, DataPointType, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type MetricData } from '@opentelemetry/sdk-metrics';

export interface Telemetry {
  spans(): ReadableSpan[];
  /** Spans named `name`. */
  named(name: string): ReadableSpan[];
  /** The direct children of `parent`. */
  childrenOf(parent: ReadableSpan): ReadableSpan[];
  /** The metrics recorded since the last reset, collected now. */
  collect(): Promise<MetricData[]>;
  /** Sum of a counter's points whose attributes include `where` (0 when none). */
  count(name: string, where?: Attributes): Promise<number>;
  /** Number of values a histogram recorded for points whose attributes include `where`. */
  histogramCount(name: string, where?: Attributes): Promise<number>;
  reset(): void;
}

let installed: Telemetry | undefined;

export function installTelemetry(): Telemetry {
  if (installed) {
    installed.reset();
    return installed;
  }
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors: [new SimpleSpanProcessor(exporter)] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  let reader!: PeriodicExportingMetricReader;
  const freshMeters = (): void => {
    metrics.disable();
    reader = new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000 });
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  };
  freshMeters();
  const collect = async (): Promise<MetricData[]> => {
    const { resourceMetrics } = await reader.collect();
    return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
  };
  const matching = async (name: string, where: Attributes) => {
    const metric = (await collect()).find((m) => m.descriptor.name === name);
    const points = (metric?.dataPoints ?? []) as Array<{ attributes: Attributes; value: unknown }>;
    return { metric, points: points.filter((p) => Object.entries(where).every(([k, v]) => p.attributes[k] === v)) };
  };
  installed = {
    spans: () => exporter.getFinishedSpans(),
    named: (name) => exporter.getFinishedSpans().filter((s) => s.name === name),
    childrenOf: (parent) => exporter.getFinishedSpans().filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId),
    collect,
    async count(name, where = {}) {
      const { metric, points } = await matching(name, where);
      if (metric && metric.dataPointType !== DataPointType.SUM) throw new Error(`${name} is not a counter`);
      return points.reduce((sum, p) => sum + (p.value as number), 0);
    },
    async histogramCount(name, where = {}) {
      const { metric, points } = await matching(name, where);
      if (metric && metric.dataPointType !== DataPointType.HISTOGRAM) throw new Error(`${name} is not a histogram`);
      return points.reduce((sum, p) => sum + (p.value as { count: number }).count, 0);
    },
    reset() {
      exporter.reset();
      freshMeters();
    },
  };
  return installed;
}

/**
 * Every attribute value and event (name and attributes) of `spans` that contains one of
 * `secrets`, as `span: key=value` lines; `except` names attributes left out (with a reason at the call).
 */
export function leaks(spans: readonly ReadableSpan[], secrets: Iterable<string>, except: readonly string[] = []): string[] {
  const wanted = [...secrets].filter((s) => s.length >= 3);
  const found: string[] = [];
  const check = (where: string, value: unknown): void => {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    for (const secret of wanted) if (text?.toLowerCase().includes(secret.toLowerCase())) found.push(`${where}=${text.slice(0, 80)} holds "${secret.slice(0, 12)}..."`);
  };
  for (const span of spans) {
    check(`${span.name}: (name)`, span.name);
    check(`${span.name}: (status)`, span.status.message ?? '');
    for (const [key, value] of Object.entries(span.attributes)) if (!except.includes(key)) check(`${span.name}: ${key}`, value);
    for (const event of span.events) {
      check(`${span.name}: event`, event.name);
      for (const [key, value] of Object.entries(event.attributes ?? {})) check(`${span.name}: event ${key}`, value);
    }
  }
  return found;
}
