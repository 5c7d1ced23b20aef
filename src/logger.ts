/**
 * A pino-style logger. authflow logs one line per call to the OP (endpoint, status, duration,
 * correlation id) at `debug`, failures at `warn`; never a token, code, verifier, assertion or secret.
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

const noop = (): void => {};
/** The default logger: says nothing. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
