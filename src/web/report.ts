import { randomUUID } from 'node:crypto';
import { AuthError } from '../errors.js';
import { defaultLogger, type Logger } from '../logger.js';
import { hintFor } from './hints.js';
import type { RequestShape } from './render.js';
import { BoundedMap } from '../util/boundedMap.js';

/**
 * Keys already logged by `reportOnce`, per kind (the key's first line): setup mistakes are one
 * line per process, not per request. Bounded per kind, so Host headers a client makes up cannot
 * crowd out the setup mistakes.
 */
const reported = new Map<string, BoundedMap<string, true>>();
const MAX_REPORTED = 100;

/**
 * Logs a failure the web layer answers, with the correlation id the page shows (the
 * `client-request-id` sent to the OP when the failure came from the OP, a new one otherwise), and
 * returns that id. One line: the
 * code and description (the OP's, e.g. `invalid_client: AADSTS7000215 …`), the OP's raw error and
 * suberror, method and path; never the query (it holds the authorization code). `invalid_config`
 * (a setup mistake, the same on every request) is logged once per process.
 */
export function reportFailure(logger: Logger, request: RequestShape, error: AuthError, extra: Record<string, unknown> = {}): string {
  const correlationId = error.correlationId ?? randomUUID();
  if (error.code === 'invalid_config' && !firstTime(`config\n${error.description}`)) return correlationId;
  const fields = {
    code: error.code,
    ...(error.reason ? { reason: error.reason } : {}),
    ...(error.opError ? { opError: error.opError } : {}),
    ...(error.suberror ? { suberror: error.suberror } : {}),
    status: error.status,
    correlationId,
    method: request.method,
    path: pathOf(request.url),
    ...(hintFor(error) ? { hint: hintFor(error) } : {}),
    ...extra,
  };
  logger[error.status >= 500 ? 'error' : 'warn'](fields, `authflow: ${error.code}: ${error.description}`);
  return correlationId;
}

/** Logs `message` at most once per process for the same `key` (setup mistakes, host mismatches). */
export function reportOnce(logger: Logger, level: 'warn' | 'error', key: string, fields: Record<string, unknown>, message: string): void {
  if (firstTime(key)) logger[level](fields, message);
}

function firstTime(key: string): boolean {
  const kind = key.split('\n', 1)[0]!;
  let seen = reported.get(kind);
  if (!seen) reported.set(kind, (seen = new BoundedMap({ maxEntries: MAX_REPORTED, whenFull: 'refuse' })));
  return !seen.has(key) && seen.set(key, true);
}

/** The path of a request URL, without its query (which may hold a code or state). */
export const pathOf = (url: string): string => url.split(/[?#]/, 1)[0] ?? '/';

/**
 * The error for a wiring mistake found at a request (a route before `auth()`), logged once per
 * process where the developer looks (stderr by default): no client logger is reachable then.
 */
export function setupMistake(description: string): AuthError {
  reportOnce(defaultLogger, 'error', `config\n${description}`, { code: 'invalid_config' }, `authflow: ${description}`);
  return new AuthError('invalid_config', { description });
}
