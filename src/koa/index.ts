/**
 * authflow for Koa 3. All logic lives in `src/web` (see `src/web/kit.ts`); this file only
 * translates: request → `WebRequest`, its `SessionPort`, `WebResult` → response, request decoration.
 */
import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import type { Context, Middleware, Next } from 'koa';
import session from 'koa-session';
import {
  AuthError, BearerGuard, SESSION_KEY, WebAuth, answerFailure, answerRoute, destroyIn, guardPromiseStore, routeTable, sessionSettings, setupMistake, storeGuard,
  type AccountInfo, type AuthOptions, type AuthSessionData, type AuthSessionOptions, type BearerClaims, type GetTokenOptions,
  type RequireBearerOptions, type SessionStoreOptions, type WebRequest, type WebResult,
} from '../web/kit.js';
import { signedCookieKey } from './sessionCookie.js';
import { FULL_LIFETIME, SESSION_ID, sessionPort, showUser } from './sessionPort.js';
import { memorySessionStore, redisSessionStore, type KoaSessionStore } from '../stores/sessionStores.js';

export { memorySessionStore, redisSessionStore, type KoaSessionStore };

declare module 'koa' {
  interface DefaultContext {
    /** An access token for `scopes`: from the session's token cache (web apps), or On-Behalf-Of the caller (behind `requireBearer()`). */
    getToken(scopes: readonly string[], options?: GetTokenOptions): Promise<string>;
    /** Behind `requireBearer()`: an app token (client credentials) for a downstream API. */
    getAppToken(scopes: readonly string[]): Promise<string>;
  }
  interface DefaultState {
    /** The signed-in account, or undefined. */
    account?: AccountInfo | undefined;
    /** The signed-in user's ID token claims, or undefined. */
    user?: Record<string, unknown> | undefined;
    /** Behind `requireBearer()`: the caller's validated access token claims. */
    auth?: BearerClaims | undefined;
  }
}

export type { AuthOptions, GetTokenOptions, AuthSessionOptions, RequireBearerOptions, SessionStoreOptions };

const WEB = Symbol('authflow.web');
const STORE = Symbol('authflow.sessionStore');

/** Answers the routes of `routeTable`, decorates every request, and turns failures below it needing interaction into a sign-in. */
export function auth(options: AuthOptions): Middleware {
  const web = new WebAuth(options);
  const routes = routeTable(web);
  return async function authflow(ctx: Context, next: Next): Promise<void> {
    decorate(ctx, web);
    const route = routes.match(ctx.method, ctx.path);
    if (route) {
      const store = (ctx as unknown as Record<symbol, KoaSessionStore | undefined>)[STORE];
      const input = { request: webRequest(ctx), stream: ctx.req, parsedBody: (ctx.request as { body?: unknown }).body, session: sessionPort(ctx), destroySession: (id: string) => destroyIn(store, id) };
      return send(ctx, await answerRoute(web, route, input));
    }
    await answering(ctx, next, (err) => answerFailure(webRequest(ctx), err, { web, session: sessionPort(ctx) }));
  };
}

/** Lets signed-in users through; others are sent to sign in (pages) or get a 401 naming the sign-in URL (APIs). */
export function requireAuth(): Middleware {
  return async (ctx, next) => {
    const web = (ctx.state as Record<symbol, WebAuth | undefined>)[WEB];
    if (!web) throw setupMistake('requireAuth() ran on a request auth() has not seen: mount app.use(auth(...)) before the routes that use requireAuth()');
    const result = web.requireUser(sessionPort(ctx), () => webRequest(ctx));
    if (result) send(ctx, result);
    else await next();
  };
}

/**
 * For web APIs: validates the caller's Bearer token and answers 401/403 the RFC 6750 way (`BearerGuard`); below
 * it `ctx.state.auth` holds the claims, `ctx.getToken` does On-Behalf-Of and `ctx.getAppToken` client credentials.
 */
export function requireBearer(options: RequireBearerOptions): Middleware {
  const guard = new BearerGuard(options);
  // The token refused, or a failure below (a claims challenge from the OP): the RFC 6750 answer.
  return (ctx, next) => answering(ctx, async () => {
    const { token, claims } = await guard.authenticate(ctx.get('authorization') || undefined);
    ctx.state.auth = claims;
    ctx.getToken = (scopes) => guard.onBehalfOf(token, scopes);
    ctx.getAppToken = (scopes) => guard.appToken(scopes);
    await next();
  }, (err) => guard.errorResult(webRequest(ctx), err));
}

/**
 * koa-session with authflow's cookie policy (`sessionSettings`; signed with `secret` alone, never
 * `app.keys`), sessions always on the server (`store`, else in memory), the store seen through the
 * store guard (`storeGuard`): a store failing or silent past `storeTimeoutMs` gives 503.
 */
export function authSession(app: Koa, options: AuthSessionOptions & SessionStoreOptions & { store?: KoaSessionStore }): Middleware {
  const settings = sessionSettings(options);
  const given = options.store ?? memorySessionStore();
  const store = guardPromiseStore(given, storeGuard(options, given, 'koa-session'));
  (app.context as unknown as Record<symbol, KoaSessionStore>)[STORE] = store;
  (app.context as unknown as Record<symbol, number>)[FULL_LIFETIME] = settings.maxAgeMs;
  const remember = (ctx: Context, id: string): string => ((ctx.state as Record<symbol, string>)[SESSION_ID] = id);
  // Until auth() runs for a request, ctx.getToken names the mistake (auth() mounted after the routes).
  app.context.getToken = () => Promise.reject(setupMistake('ctx.getToken was called on a request auth() has not seen: mount app.use(auth(...)) before your routes'));
  const middleware = session({
    key: settings.name, maxAge: settings.maxAgeMs, httpOnly: true, sameSite: 'lax', secure: settings.secure, rolling: false, renew: false, store,
    signed: false, // signed by authflow's own secret: see sessionCookie.ts
    externalKey: signedCookieKey(settings, remember),
    // Remember the id given at regenerate(): the back-channel logout index needs the new one.
    genid: (ctx: Context) => remember(ctx, randomUUID()),
  }, app) as unknown as Middleware;
  // The store failed while the session loaded (before auth() ran): the same answer as Express's authErrors().
  return (ctx, next) => answering(ctx, () => middleware(ctx, next), (err) => (err instanceof AuthError && err.code === 'store_unavailable' ? answerFailure(webRequest(ctx), err, {}) : undefined));
}

function decorate(ctx: Context, web: WebAuth): void {
  (ctx.state as Record<symbol, WebAuth>)[WEB] = web;
  ctx.getToken = (scopes, options) => web.getToken(sessionPort(ctx), scopes, options);
  // Read as it is, without the port's setup checks: a page that never uses authflow must not fail on them.
  showUser(ctx, (ctx.session as Record<string, AuthSessionData | undefined> | null)?.[SESSION_KEY]);
}

/** Runs `run`; a failure `answer` answers (while the response is not on its way) is sent, others are thrown on. */
async function answering(ctx: Context, run: () => Promise<unknown>, answer: (err: unknown) => WebResult | undefined): Promise<void> {
  try {
    await run();
  } catch (err) {
    // A response already on its way (streamed, ctx.respond = false) cannot become another answer.
    const result = ctx.headerSent ? undefined : answer(err);
    if (!result) throw err;
    send(ctx, result);
  }
}

function webRequest(ctx: Context): WebRequest {
  return { method: ctx.method, url: ctx.originalUrl, headers: ctx.headers, query: ctx.query as Record<string, unknown>, body: undefined, accepts: (types) => ctx.accepts(types) };
}

function send(ctx: Context, result: WebResult): void {
  ctx.set('cache-control', 'no-store');
  if (result.kind === 'redirect') return ctx.redirect(result.location);
  ctx.status = result.status;
  ctx.set(result.headers);
  ctx.type = result.contentType;
  ctx.body = result.body;
}
