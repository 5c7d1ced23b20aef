/**
 * A pino-style logger. authflow logs one line per call to the OP (endpoint, status, duration,
 * correlation id) at `debug`, failures at `warn` or `error`; never a token, code, verifier,
 * assertion or secret.
 */
export interface Logger {
  /** Routine detail, e.g. one line per OP call. */
  debug(obj: Record<string, unknown>, msg?: string): void;
  /** Notable events. */
  info(obj: Record<string, unknown>, msg?: string): void;
  /** Failures authflow answered (the OP refused, a store was down). */
  warn(obj: Record<string, unknown>, msg?: string): void;
  /** Failures that need the developer or operator. */
  error(obj: Record<string, unknown>, msg?: string): void;
}

type Level = keyof Logger;

const noop = (): void => {};
/** A logger that says nothing (pass it as `logger` to silence authflow). */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/**
 * A logger writing one line per call to stderr, `authflow <level> <message> {json}`, for the
 * levels given; the others are dropped. JSON keeps a line one line whatever the values hold
 * (an OP's `error_description` can come from a forged callback URL).
 */
export function stderrLogger(levels: readonly Level[]): Logger {
  const line = (level: Level) => (obj: Record<string, unknown>, msg?: string): void => {
    const text = (msg ?? '').replace(/^authflow:\s*/, '').replace(/[\r\n]+/g, ' ');
    // process.stderr is looked up per call, so a test (or the app) may replace it.
    process.stderr.write(`authflow ${level} ${text} ${safeJson(obj)}\n`);
  };
  const on = new Set(levels);
  return {
    debug: on.has('debug') ? line('debug') : noop,
    info: on.has('info') ? line('info') : noop,
    warn: on.has('warn') ? line('warn') : noop,
    error: on.has('error') ? line('error') : noop,
  };
}

/**
 * The logger used when none is given. Outside production (`NODE_ENV !== 'production'`) warnings
 * and errors go to stderr: a developer sees why a sign-in failed. In production errors (the
 * failures whose page stays generic: 5xx, setup mistakes) still go to stderr, since the page
 * says nothing and the log line is where the detail lives; warnings (a user's stale tab, a
 * refused callback) stay quiet there. Decided per call, so NODE_ENV set after import counts.
 */
export const defaultLogger: Logger = {
  debug: noop,
  info: noop,
  warn: (obj, msg) => {
    if (!isProduction()) stderr.warn(obj, msg);
  },
  error: (obj, msg) => stderr.error(obj, msg),
};
const stderr = stderrLogger(['warn', 'error']);

/** True when NODE_ENV is `production`: pages stay generic, details go to the log only. */
export const isProduction = (): boolean => process.env.NODE_ENV === 'production';

function safeJson(obj: Record<string, unknown>): string {
  try {
    return JSON.stringify(obj, (_key, value: unknown) => (value instanceof Error ? value.message : value));
  } catch {
    return '{}';
  }
}
