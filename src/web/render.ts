import type { AuthError } from '../errors.js';

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
}

export const redirect = (location: string): WebResult => ({ kind: 'redirect', location });

/** True for API-style requests (XHR, fetch asking for JSON): they get JSON, never a redirect. */
export function wantsJson(request: RequestShape): boolean {
  const header = (name: string): string => {
    const value = request.headers[name];
    return (Array.isArray(value) ? value.join(',') : value ?? '').toLowerCase();
  };
  if (header('x-requested-with') === 'xmlhttprequest') return true;
  const accept = header('accept');
  if (!accept) return false;
  const json = accept.indexOf('application/json');
  const html = accept.indexOf('text/html');
  return json !== -1 && (html === -1 || json < html);
}

/**
 * An error page or JSON body for a failed request: the code, a description (generic for 5xx,
 * whose details stay in the logs) and the correlation id. Never a token: AuthError descriptions
 * hold none, and everything is HTML-escaped (an OP's error_description can be forged in a callback URL).
 */
export function errorResult(request: RequestShape, error: AuthError, extra: { loginUri?: string; headers?: Record<string, string> } = {}): WebResult {
  const description = error.expose ? error.description : 'the sign-in service had a problem; try again later';
  const headers = { 'cache-control': 'no-store', ...extra.headers };
  if (wantsJson(request)) {
    const body = {
      error: error.code,
      error_description: description,
      ...(error.correlationId ? { correlation_id: error.correlationId } : {}),
      ...(extra.loginUri ? { login_uri: extra.loginUri } : {}),
    };
    return { kind: 'respond', status: error.status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(body), headers };
  }
  const lines = [
    `<p>${escapeHtml(description)}</p>`,
    `<p>Error code: <code>${escapeHtml(error.code)}</code></p>`,
    error.correlationId ? `<p>Correlation id: <code>${escapeHtml(error.correlationId)}</code></p>` : '',
    extra.loginUri ? `<p><a href="${escapeHtml(extra.loginUri)}">Sign in</a></p>` : '<p><a href="/">Back to the start page</a></p>',
  ];
  const body = `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Sign-in problem</title></head>\n<body><h1>Sign-in problem</h1>\n${lines.join('\n')}\n</body></html>\n`;
  return { kind: 'respond', status: error.status, contentType: 'text/html; charset=utf-8', body, headers };
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
