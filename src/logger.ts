/**
 * A pino-style logger. authflow logs one line per call to the OP (endpoint, status, duration,
 * correlation id) at `debug`, failures at `warn`; never a token, code, verifier, assertion or secret.
 */
export interface Logger {
  debug(obj: Record<string, unknown>, msg?: string): void;
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
}

const noop = (): void => {};
/** The default logger: says nothing. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
