import type { IncomingMessage } from 'node:http';
import { readForm } from './form.js';
import type { WebResult } from './render.js';
import type { SessionPort } from './session.js';
import type { WebAuth, WebRequest } from './webAuth.js';

/** What an adapter gives the web layer to answer one of authflow's routes. */
export interface RouteInput {
  /** The request, without its body. */
  request: WebRequest;
  /** The raw request, whose urlencoded body is read when the route needs one. */
  stream: IncomingMessage;
  /** A body a body parser upstream already read (Express `req.body`, Koa `ctx.request.body`). */
  parsedBody?: unknown;
  session: SessionPort;
  /** Removes another session from the session store (back-channel logout). */
  destroySession(sessionId: string): Promise<void>;
}

/** One of authflow's routes: whether it reads a form body, and its handler. */
export interface Route {
  readsBody: boolean;
  run(request: WebRequest, input: RouteInput): Promise<WebResult>;
}

/**
 * The route table of `auth()`: `GET /login`, `GET|POST /callback`, `GET /logout` (the
 * confirmation page), `POST /logout`, and `POST` back-channel logout when configured. Only the
 * form_post callback and back-channel logout read a body; every other request is left unread.
 */
export function routeTable(web: WebAuth): { match(method: string, path: string): Route | undefined; list: { method: string; path: string }[] } {
  const { paths } = web.options;
  const routes = new Map<string, Route>([
    [`GET ${paths.login}`, { readsBody: false, run: (r, i) => web.login(r, i.session) }],
    [`GET ${paths.callback}`, { readsBody: false, run: (r, i) => web.callback(r, i.session) }],
    [`POST ${paths.callback}`, { readsBody: true, run: (r, i) => web.callback(r, i.session) }],
    [`GET ${paths.logout}`, { readsBody: false, run: async () => web.logoutPage() }],
    [`POST ${paths.logout}`, { readsBody: false, run: (r, i) => web.logout(r, i.session) }],
  ]);
  if (paths.backchannelLogout) {
    routes.set(`POST ${paths.backchannelLogout}`, { readsBody: true, run: (r, i) => web.backchannelLogout(r, (id) => i.destroySession(id)) });
  }
  // The list is for frameworks that register each route (Fastify); the others match per request.
  const list = [...routes.keys()].map((key) => ({ method: key.slice(0, key.indexOf(' ')), path: key.slice(key.indexOf(' ') + 1) }));
  return { match: (method, path) => routes.get(`${method} ${path}`), list };
}

/**
 * Runs a route: reads its body when it needs one, then the handler. authflow's failures (a body
 * refused, a store down, a bad callback) become their answer; others are thrown for the framework.
 */
export async function answerRoute(web: WebAuth, route: Route, input: RouteInput): Promise<WebResult> {
  let request = input.request;
  try {
    if (route.readsBody) request = { ...request, body: await readForm(input.stream, input.parsedBody) };
    return await route.run(request, input);
  } catch (err) {
    const result = web.errorResult(request, undefined, err);
    if (!result) throw err;
    return result;
  }
}
