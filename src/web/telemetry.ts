/**
 * A span per route of the kit (`authflow.web.login`, `.callback`, `.logout`, `.backchannel_logout`,
 * with `http.route`), and the sign-in counter (a callback that signed someone in, or its failure's
 * code). Adapters get them through `WebAuth`; with no SDK registered a route pays one comparison.
 */
import { ATTR, SPAN } from '../telemetry/names.js';
import { anyProviderRegistered, errorCodeOf, inSpan, tracingOn } from '../telemetry/otel.js';
import { instruments } from '../telemetry/metrics.js';
import type { WebAuth } from './webAuth.js';

type Route = 'login' | 'callback' | 'logout' | 'backchannelLogout';
const SPAN_SUFFIX: Record<Route, string> = { login: 'login', callback: 'callback', logout: 'logout', backchannelLogout: 'backchannel_logout' };

/** Wraps the route handlers of `auth` (own properties shadowing the prototype's methods). */
export function instrumentRoutes(auth: WebAuth): void {
  for (const route of Object.keys(SPAN_SUFFIX) as Route[]) {
    const handler = auth[route].bind(auth) as (...args: unknown[]) => Promise<unknown>;
    const name = `${SPAN.webPrefix}.${SPAN_SUFFIX[route]}`;
    const path = auth.options.paths[route] ?? '';
    const wrapped = (...args: unknown[]): Promise<unknown> => {
      if (!anyProviderRegistered()) return handler(...args);
      const counted = route === 'callback' ? instruments() : undefined;
      if (!tracingOn() && !counted) return handler(...args);
      const run = tracingOn() ? inSpan(name, 'internal', { [ATTR.route]: path }, () => handler(...args)) : handler(...args);
      if (!counted) return run;
      return run.then(
        (result) => {
          counted.signIns.add(1, { [ATTR.outcome]: 'success' });
          return result;
        },
        (err: unknown) => {
          counted.signIns.add(1, { [ATTR.outcome]: 'failure', [ATTR.errorCode]: errorCodeOf(err) });
          throw err;
        },
      );
    };
    Object.defineProperty(auth, route, { value: wrapped, configurable: true, writable: true });
  }
}
