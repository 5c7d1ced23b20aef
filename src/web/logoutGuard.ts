/**
 * Logout only by a same-origin POST (finding 6 of the security review): any site can make a
 * browser GET a URL (a link, an image, `location = ...`), and the session cookie, `SameSite=Lax`,
 * goes along with top-level navigations. `GET /logout` therefore signs nobody out; it answers a
 * page whose button POSTs, and the POST must come from the app's own pages.
 */
import { AuthError } from '../errors.js';
import { escapeHtml, type RequestShape, type WebResult } from './render.js';

/**
 * Refuses (403 `cross_site_request`) a state-changing request another site's page made:
 * - `Origin`, when present, must be the app's origin (`null`, sent from sandboxed or privacy-
 *   sensitive contexts, is refused too);
 * - `Sec-Fetch-Site`, when present, must be `same-origin` or `none` (typed or bookmarked).
 *
 * A request with neither header is let through: every current browser sends `Origin` on a POST
 * (Chrome and Safari always, Firefox since 70) and `Sec-Fetch-Site` on every request, so a forged
 * cross-site POST always carries one of them; what lacks both is not a browser (curl, tests,
 * server-side callers), which no other site can steer. The session cookie being `SameSite=Lax`
 * (not sent on cross-site POSTs) is a second, independent defence.
 *
 * @see https://fetch.spec.whatwg.org/#origin-header
 * @see https://www.w3.org/TR/fetch-metadata/#sec-fetch-site-header
 */
export function assertSameOrigin(request: RequestShape, baseUrl: URL): void {
  const origin = single(request.headers.origin);
  if (origin !== undefined && origin !== baseUrl.origin) {
    throw new AuthError('cross_site_request', { description: 'this request came from another site\'s page; sign out from the app\'s own page' });
  }
  const site = single(request.headers['sec-fetch-site'])?.toLowerCase();
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw new AuthError('cross_site_request', { description: 'this request came from another site\'s page; sign out from the app\'s own page' });
  }
}

/**
 * The answer to `GET /logout`: a small page whose button POSTs to `action`. Not cached, and not
 * to be framed (a framed button could be clicked through a decoy: clickjacking).
 */
export function logoutConfirmation(action: string, home: string): WebResult {
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign out</title></head>
<body><h1>Sign out</h1>
<form method="post" action="${escapeHtml(action)}"><button id="sign-out" type="submit">Sign out</button></form>
<p><a href="${escapeHtml(home)}">Cancel</a></p>
</body></html>
`;
  return {
    kind: 'respond',
    status: 200,
    contentType: 'text/html; charset=utf-8',
    body,
    headers: { 'cache-control': 'no-store', 'content-security-policy': "frame-ancestors 'none'", 'x-frame-options': 'DENY' },
  };
}

/** A header's value when it was sent once; a repeated header counts as foreign (never trusted). */
function single(value: string | string[] | undefined): string | undefined {
  if (Array.isArray(value)) return value.length === 1 ? value[0] : '\u0000repeated';
  return value;
}
