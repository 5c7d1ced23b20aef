import type { AuthError } from '../errors.js';
import { isProduction } from '../logger.js';
import { hintFor } from './hints.js';

/** What a handler asks the adapter to do: redirect, or answer with a body. */
export type WebResult =
  | { kind: 'redirect'; location: string }
  | { kind: 'respond'; status: number; contentType: string; body: string; headers: Record<string, string> };

/** What the web layer needs to know about the request to choose HTML or JSON. */
export interface RequestShape {
  method: string;
  /** Path and query as the browser asked for them. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /**
   * The framework's content negotiation (Express `req.accepts`, Koa `ctx.accepts`, both the
   * `accepts` package): the best of `types` for the Accept header, or false.
   */
  accepts?(types: string[]): string | false;
}

export const redirect = (location: string): WebResult => ({ kind: 'redirect', location });

/**
 * True for API-style requests (XHR, fetch asking for JSON): they get JSON, never a redirect. The
 * Accept header is weighed by the framework's own `accepts` (q-values, specificity, order); a
 * request without one (no adapter) is a page.
 */
export function wantsJson(request: RequestShape): boolean {
  const requestedWith = request.headers['x-requested-with'];
  if ((Array.isArray(requestedWith) ? requestedWith.join(',') : requestedWith ?? '').toLowerCase() === 'xmlhttprequest') return true;
  return request.accepts?.(['html', 'json']) === 'json';
}

/** The same request, answered as JSON whatever it accepts (web APIs). */
export const asJson = <R extends RequestShape>(request: R): R => ({ ...request, accepts: () => 'json' });

/** What a 5xx page says in production: the detail is in the log line with the same correlation id. */
export const GENERIC_DESCRIPTION = 'the sign-in service had a problem; try again later';

export interface ErrorResultExtra {
  /** A sign-in link (interaction needed). */
  loginUri?: string;
  headers?: Record<string, string>;
  /** The id the log line carries (defaults to the error's). */
  correlationId?: string;
}

/**
 * An error page or JSON body for a failed request: the code, the description and the correlation
 * id of the log line. Outside production the page also carries the description of a 5xx and the
 * OP's own error code (a developer reads it there); in production a 5xx page stays generic and the
 * details stay in the log. Never a token: AuthError descriptions hold none, and everything is
 * HTML-escaped (an OP's error_description can be forged in a callback URL).
 */
export function errorResult(request: RequestShape, error: AuthError, extra: ErrorResultExtra = {}): WebResult {
  const detailed = error.expose || !isProduction();
  const description = detailed ? error.description : GENERIC_DESCRIPTION;
  const opCode = detailed ? [error.opError, error.suberror].filter(Boolean).join(' / ') : '';
  // The reason is data from a closed list; a 5xx's stays in the log in production, like its description.
  const reason = detailed ? error.reason : undefined;
  const hint = isProduction() ? undefined : hintFor(error);
  const correlationId = extra.correlationId ?? error.correlationId;
  const headers = { 'cache-control': 'no-store', ...extra.headers };
  if (wantsJson(request)) {
    const body = {
      error: error.code,
      ...(reason ? { reason } : {}),
      error_description: description,
      ...(opCode ? { op_error: opCode } : {}),
      ...(hint ? { hint } : {}),
      ...(correlationId ? { correlation_id: correlationId } : {}),
      ...(extra.loginUri ? { login_uri: extra.loginUri } : {}),
    };
    return { kind: 'respond', status: error.status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(body), headers };
  }
  const lines = [
    `<p id="error-description">${escapeHtml(description)}</p>`,
    `<p>Error code: <code id="error-code">${escapeHtml(error.code)}</code></p>`,
    reason ? `<p>Reason: <code id="error-reason">${escapeHtml(reason)}</code></p>` : '',
    opCode ? `<p>The sign-in service said: <code id="op-error">${escapeHtml(opCode)}</code></p>` : '',
    hint ? `<p>What to do: <span id="hint">${escapeHtml(hint)}</span></p>` : '',
    correlationId ? `<p>Correlation id: <code id="correlation-id">${escapeHtml(correlationId)}</code></p>` : '',
    extra.loginUri ? `<p><a href="${escapeHtml(extra.loginUri)}">Sign in</a></p>` : '<p><a href="/">Back to the start page</a></p>',
  ];
  const body = `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Sign-in problem</title></head>\n<body><h1>Sign-in problem</h1>\n${lines.filter(Boolean).join('\n')}\n</body></html>\n`;
  return { kind: 'respond', status: error.status, contentType: 'text/html; charset=utf-8', body, headers };
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
