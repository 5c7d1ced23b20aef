/**
 * Log lines as one object each: what the call site gives (`code`, `correlationId`, ...), plus the
 * acquisition's `flow` and the active span's `trace_id`/`span_id` when telemetry is on, so a line
 * is found from a trace and the other way round. `console` is adapted: its methods print their
 * arguments side by side, so it gets one JSON object per line instead.
 */
import type { Logger } from '../logger.js';
import { currentAcquisition } from './acquire.js';
import { activeSpanIds, anyProviderRegistered, api } from './otel.js';

type Level = keyof Logger;
const LEVELS: readonly Level[] = ['debug', 'info', 'warn', 'error'];
const structured = new WeakSet<Logger>();

/** A `console` (the global one or a `new Console()`), which has no `(obj, msg)` signature. */
export function isConsole(value: unknown): boolean {
  return value === globalThis.console || (typeof value === 'object' && value !== null && value instanceof (globalThis.console.Console as unknown as new (...args: never[]) => object));
}

/** `console` as a pino-style logger: one JSON object per line, `{ level, msg, ...fields }`. */
export function consoleLogger(target: Console): Logger {
  const line = (level: Level) => (obj: Record<string, unknown>, msg?: string): void => {
    target[level](safeJson({ level, msg: msg ?? '', ...obj }));
  };
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

/**
 * `logger` with each line's object completed by `flow`, `trace_id` and `span_id` when an
 * acquisition or a span is active (nothing is added otherwise, and nothing at all without the
 * OpenTelemetry API). Idempotent.
 */
export function structuredLogger(logger: Logger): Logger {
  if (structured.has(logger)) return logger;
  const target = isConsole(logger) ? consoleLogger(logger as unknown as Console) : logger;
  if (!api) {
    structured.add(target);
    return target;
  }
  const wrap = (level: Level) => (obj: Record<string, unknown>, msg?: string): void => {
    if (!anyProviderRegistered()) return target[level](obj, msg);
    const flow = currentAcquisition()?.flow;
    const ids = activeSpanIds();
    target[level](flow || ids ? { ...obj, ...(flow && obj.flow === undefined ? { flow } : {}), ...ids } : obj, msg);
  };
  const wrapped = Object.fromEntries(LEVELS.map((level) => [level, wrap(level)])) as unknown as Logger;
  structured.add(wrapped);
  return wrapped;
}

function safeJson(obj: Record<string, unknown>): string {
  try {
    return JSON.stringify(obj, (_key, value: unknown) => (value instanceof Error ? value.message : value));
  } catch {
    return '{}';
  }
}
