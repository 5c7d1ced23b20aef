/**
 * authflow for Hono 4 (on Node through `@hono/node-server`). All logic lives in `src/web` (see
 * `src/web/kit.ts`, and `src/web/serverSession.ts` for the session); this file only translates:
 * request → `WebRequest`, its `SessionPort`, `WebResult` → response, the context's variables.
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import accepts from 'accepts';
import type { Context, ErrorHandler, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { HTTPException } from 'hono/http-exception';
import {
  AuthError, BearerGuard, WebAuth, answerFailure, answerRoute, routeTable, setupMistake,
  type AccountInfo, type AuthOptions, type AuthSessionOptions, type BearerClaims, type GetTokenOptions,
  type RequireBearerOptions, type SessionPort, type SessionStoreOptions, type WebRequest, type WebResult,
} from '../web/kit.js';
import { ServerSessions, type ServerSession } from '../web/serverSession.js';
import { parseUrlencoded } from '../web/form.js';
import { memorySessionStore, redisSessionStore, type KoaSessionStore } from '../stores/sessionStores.js';

export { memorySessionStore, redisSessionStore };
export type { AuthOptions, GetTokenOptions, AuthSessionOptions, RequireBearerOptions, SessionStoreOptions };

/** authflow's session store contract (get, set, destroy as promises): the same as Koa's, so `memorySessionStore()` and `redisSessionStore()` serve both. */
export type HonoSessionStore = KoaSessionStore;

/** What authflow puts in the context: `c.get('getToken')`, `c.var.account`, … (use `new Hono<AuthEnv>()`). */
export interface AuthVariables {
  /** An access token for `scopes`: from the session's token cache (web apps), or On-Behalf-Of the caller (behind `requireBearer()`). */
  getToken(scopes: readonly string[], options?: GetTokenOptions): Promise<string>;
  /** The signed-in account, or undefined. */
  account: AccountInfo | undefined;
  /** The signed-in user's ID token claims, or undefined. */
  user: Record<string, unknown> | undefined;
  /** Behind `requireBearer()`: the caller's validated access token claims. */
  auth: BearerClaims | undefined;
  /** Behind `requireBearer()`: an app token (client credentials) for a downstream API. */
  getAppToken(scopes: readonly string[]): Promise<string>;
}

/** The Hono `Env` of an app using authflow: `new Hono<AuthEnv>()` types `c.get` / `c.var`. */
export interface AuthEnv {
  Variables: AuthVariables;
}

type C = Context<AuthEnv>;

/** What authflow's middleware saw of one request (it lives as long as the request's context). */
interface RequestState {
  web?: WebAuth;
  guard?: BearerGuard;
  session?: ServerSession;
  of?: ServerSessions;
}
/** On the context itself, not among its variables: apps do not see it, and `c.var` (a new object of every variable at each read) stays small. */
const STATE = Symbol('authflow.state');
const stateOf = (c: Context): RequestState => ((c as unknown as Record<symbol, RequestState>)[STATE] ??= {});

const noAppToken = (): Promise<never> => Promise.reject(setupMistake('getAppToken is only available behind requireBearer(...)'));

/** Answers the routes of `routeTable` (sign-in, callback, logout, back-channel logout) and sets the context's variables. */
export function auth(options: AuthOptions): MiddlewareHandler<AuthEnv> {
  const web = new WebAuth(options);
  const routes = routeTable(web);
  return async function authflow(c, next) {
    stateOf(c).web = web;
    c.set('getToken', (scopes, getOptions) => web.getToken(sessionPort(c), scopes, getOptions));
    c.set('getAppToken', noAppToken);
    setUser(c, web);
    const route = routes.match(c.req.method, c.req.path);
    if (!route) return next();
    const { of } = stateOf(c);
    const input = { request: webRequest(c), stream: bodyStream(c), session: sessionPort(c), destroySession: (id: string) => of ? of.destroy(id) : Promise.resolve() };
    const result = await answerRoute(web, route, input);
    setUser(c, web); // signed in or out by the route: middleware above sees who is now
    return send(c, result);
  };
}

/**
 * The error handler (`app.onError(authErrors())`): authflow's failures answered by `answerFailure`
 * (a sign-in when interaction is needed, RFC 6750 answers behind `requireBearer()`); others go to
 * `fallback`, by default what Hono does itself (an `HTTPException`'s response, else a plain 500).
 */
export function authErrors(fallback?: ErrorHandler<AuthEnv>): ErrorHandler<AuthEnv> {
  return (err, c) => {
    const { guard, web, session } = stateOf(c);
    const result = answerFailure(webRequest(c), err, { guard, web, session });
    if (result) return send(c, result);
    if (fallback) return fallback(err, c);
    if (err instanceof HTTPException) return err.getResponse();
    console.error(err);
    return c.text('Internal Server Error', 500);
  };
}

/** Lets signed-in users through; others are sent to sign in (pages) or get a 401 naming the sign-in URL (APIs). */
export function requireAuth(): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const { web } = stateOf(c);
    if (!web) throw setupMistake('requireAuth() ran on a request auth() has not seen: app.use(auth(...)) before the routes that use requireAuth()');
    const result = web.requireUser(sessionPort(c), () => webRequest(c));
    if (result) return send(c, result);
    await next();
  };
}

/**
 * For web APIs: validates the caller's Bearer token and answers 401/403 the RFC 6750 way (`BearerGuard`); behind
 * it `c.var.auth` holds the claims, `c.var.getToken` does On-Behalf-Of and `c.var.getAppToken` client credentials.
 * Failures below it (a claims challenge from the OP) are answered by `authErrors()`.
 */
export function requireBearer(options: RequireBearerOptions): MiddlewareHandler<AuthEnv> {
  const guard = new BearerGuard(options);
  return async (c, next) => {
    stateOf(c).guard = guard;
    let token: string;
    try {
      const authenticated = await guard.authenticate(c.req.header('authorization'));
      token = authenticated.token;
      c.set('auth', authenticated.claims);
    } catch (err) {
      const result = guard.errorResult(webRequest(c), err);
      if (!result) throw err;
      return send(c, result);
    }
    c.set('getToken', (scopes) => guard.onBehalfOf(token, scopes));
    c.set('getAppToken', (scopes) => guard.appToken(scopes));
    await next();
  };
}

/**
 * authflow's server-side session (see `ServerSessions`): a random id in a cookie signed with
 * `secret` (`httpOnly`, `SameSite=Lax`, `Secure` unless the app is on http://localhost), the data
 * in `store` (default in memory; `redisSessionStore({ client })` for several instances) seen through
 * the store guard: a store failing or silent past `storeTimeoutMs` gives 503. A new id at sign-in.
 */
export function authSession(options: AuthSessionOptions & SessionStoreOptions & { store?: HonoSessionStore }): MiddlewareHandler<AuthEnv> {
  const of = new ServerSessions(options, 'authflow/hono session');
  const { name, secure } = of.settings;
  return async (c, next) => {
    let session: ServerSession;
    try {
      session = await of.load(getCookie(c, name));
    } catch (err) {
      // The store failed while the session loads (before auth() runs): authflow's 503 page.
      const result = answerFailure(webRequest(c), err, {});
      if (!result) throw err;
      return send(c, result);
    }
    Object.assign(stateOf(c), { session, of });
    await next();
    let change;
    try {
      const committing = session.commit();
      change = committing instanceof Promise ? await committing : committing;
    } catch (err) {
      c.res = send(c, answerFailure(webRequest(c), err, {})!);
      return;
    }
    if (change && 'set' in change) setCookie(c, name, change.set, { httpOnly: true, sameSite: 'Lax', secure, path: '/', maxAge: Math.floor(change.maxAgeMs / 1000) });
    else if (change) deleteCookie(c, name, { httpOnly: true, sameSite: 'Lax', secure, path: '/' });
  };
}

function setUser(c: C, web: WebAuth): void {
  const { session } = stateOf(c);
  const user = session ? web.user(session) : undefined;
  c.set('account', user?.account);
  c.set('user', user?.claims);
}

function sessionPort(c: Context): SessionPort {
  const { session } = stateOf(c);
  if (!session) throw new AuthError('invalid_config', { description: 'authflow needs a session: app.use(authSession(...)) before auth()' });
  return session;
}

/** The request as the web layer sees it; headers and query are read when asked for (a signed-in request needs neither). */
function webRequest(c: Context): WebRequest {
  const url = c.req.url;
  const path = url.slice(url.indexOf('/', url.indexOf('//') + 2));
  let headers: Record<string, string> | undefined;
  let query: Record<string, unknown> | undefined;
  return {
    method: c.req.method, url: path, body: undefined,
    get headers() { return (headers ??= c.req.header()); },
    get query() { return (query ??= path.includes('?') ? parseUrlencoded(path.slice(path.indexOf('?') + 1)) : {}); },
    accepts: (types) => accepts({ headers: { accept: c.req.header('accept') } } as unknown as IncomingMessage).type(types) as string | false,
  };
}

/** The request body as a Node stream with its headers, for the kit's form reader (any runtime's `Request`). */
function bodyStream(c: Context): IncomingMessage {
  const body = c.req.raw.body;
  const stream = body ? Readable.fromWeb(body as NodeReadableStream<Uint8Array>) : Readable.from([]);
  return Object.assign(stream, { headers: c.req.header() }) as unknown as IncomingMessage;
}

function send(c: Context, result: WebResult): Response {
  if (result.kind === 'redirect') return c.body(null, 302, { location: result.location, 'cache-control': 'no-store' });
  return c.body(result.body, result.status as 200, { ...result.headers, 'content-type': result.contentType, 'cache-control': 'no-store' });
}
