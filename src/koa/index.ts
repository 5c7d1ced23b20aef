/**
 * authflow for Koa 3: `auth()` answers the sign-in routes, gives every request `ctx.getToken`,
 * `ctx.state.account` and `ctx.state.user`, and turns "sign in again / consent" failures thrown
 * below it into a sign-in; `requireAuth()` guards pages. Sessions are koa-session's, ideally with
 * `authSession()` and `redisSessionStore()`. All logic lives in `src/web`.
 *
 * @example
 * ```ts
 * app.use(authSession(app, { baseUrl, secret: process.env.SESSION_SECRET, store: redisSessionStore({ client: redis }) }));
 * app.use(auth({ client, baseUrl, scopes: ['api://orders/Orders.Read'] }));
 * router.get('/orders', requireAuth(), async (ctx) => { ctx.body = await callOrders(await ctx.getToken(['api://orders/Orders.Read'])); });
 * ```
 */
import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import type { Context, Middleware, Next } from 'koa';
import session from 'koa-session';
import { AuthError, configError } from '../errors.js';
import type { AccountInfo } from '../results.js';
import type { AuthOptions } from '../web/options.js';
import type { WebResult } from '../web/render.js';
import { setupMistake } from '../web/report.js';
import { answerRoute, routeTable } from '../web/routes.js';
import { SESSION_KEY, type AuthSessionData, type SessionPort } from '../web/session.js';
import { sessionSettings, type AuthSessionOptions } from '../web/sessionSettings.js';
import { failureBeforeAuth, guardPromiseStore, storeError, storeGuard, type SessionStoreOptions } from '../web/storeGuard.js';
import { WebAuth, type GetTokenOptions, type WebRequest } from '../web/webAuth.js';
import { BearerGuard, type RequireBearerOptions } from '../web/bearerGuard.js';
import { signedCookieKey } from './sessionCookie.js';
import { memorySessionStore, redisSessionStore, type KoaSessionStore } from '../stores/sessionStores.js';
import type { BearerClaims } from '../bearer/index.js';

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
const SESSION_ID = Symbol('authflow.sessionId');
const STORE = Symbol('authflow.sessionStore');
const FULL_LIFETIME = Symbol('authflow.sessionLifetime');

/** The sign-in routes (`GET /login`, `GET|POST /callback`, `POST /logout` with its `GET` confirmation page, back-channel logout when configured) and request decoration. */
export function auth(options: AuthOptions): Middleware {
  const web = new WebAuth(options);
  const routes = routeTable(web);
  return async function authflow(ctx: Context, next: Next): Promise<void> {
    decorate(ctx, web);
    const route = routes.match(ctx.method, ctx.path);
    if (route) {
      const input = { request: webRequest(ctx), stream: ctx.req, parsedBody: (ctx.request as { body?: unknown }).body, session: sessionPort(ctx), destroySession: (id: string) => destroyStored(ctx, id) };
      return send(ctx, await answerRoute(web, route, input));
    }
    try {
      await next();
    } catch (err) {
      // A response already on its way (streamed, ctx.respond = false) cannot become a sign-in.
      const result = ctx.headerSent ? undefined : web.errorResult(webRequest(ctx), sessionPort(ctx), err);
      if (!result) throw err;
      send(ctx, result);
    }
  };
}

/** Lets signed-in users through; others are sent to sign in (pages) or get a 401 naming the sign-in URL (API calls). */
export function requireAuth(): Middleware {
  return async (ctx, next) => {
    const web = (ctx.state as Record<symbol, WebAuth | undefined>)[WEB];
    if (!web) throw setupMistake('requireAuth() ran on a request auth() has not seen: mount app.use(auth(...)) before the routes that use requireAuth()');
    const result = web.requireUser(webRequest(ctx), sessionPort(ctx));
    if (result) send(ctx, result);
    else await next();
  };
}

/**
 * For web APIs: validates the caller's `Authorization: Bearer` token (see `createBearerValidator`)
 * and answers 401/403 the RFC 6750 way; below it `ctx.state.auth` holds the claims,
 * `ctx.getToken(scopes)` does On-Behalf-Of with the caller's token and `ctx.getAppToken(scopes)`
 * client credentials, and their failures (a claims challenge from the OP) become 401 challenges.
 */
export function requireBearer(options: RequireBearerOptions): Middleware {
  const guard = new BearerGuard(options);
  return async (ctx, next) => {
    let token: string;
    try {
      const validated = await guard.authenticate(ctx.get('authorization') || undefined);
      token = validated.token;
      ctx.state.auth = validated.claims;
    } catch (err) {
      const result = guard.errorResult(webRequest(ctx), err);
      if (!result) throw err;
      return send(ctx, result);
    }
    ctx.getToken = (scopes) => guard.onBehalfOf(token, scopes);
    ctx.getAppToken = (scopes) => guard.appToken(scopes);
    try {
      await next();
    } catch (err) {
      const result = ctx.headerSent ? undefined : guard.errorResult(webRequest(ctx), err);
      if (!result) throw err;
      send(ctx, result);
    }
  };
}

/**
 * koa-session with authflow's policy. Sessions live on the server, always: `store` (any
 * koa-session external store; `redisSessionStore()` for several instances), else an in-memory
 * store; the cookie holds only the session id. The cookie (`httpOnly`, `sameSite=lax`, `secure`
 * unless the app is http://localhost / 127.0.0.1) is signed with `secret` alone, never with
 * `app.keys`; without a secret in production this refuses to build.
 */
export function authSession(app: Koa, options: AuthSessionOptions & SessionStoreOptions & { store?: KoaSessionStore }): Middleware {
  const settings = sessionSettings(options);
  const given = options.store ?? memorySessionStore();
  if (typeof given.get !== 'function' || typeof given.set !== 'function' || typeof given.destroy !== 'function') {
    throw configError('store', 'must be a koa-session store (get, set, destroy)');
  }
  const store = guardPromiseStore(given, storeGuard(options, given));
  (app.context as unknown as Record<symbol, KoaSessionStore>)[STORE] = store;
  (app.context as unknown as Record<symbol, number>)[FULL_LIFETIME] = settings.maxAgeMs;
  const remember = (ctx: Context, id: string): string => ((ctx.state as Record<symbol, string>)[SESSION_ID] = id);
  // Until auth() runs for a request, ctx.getToken names the mistake (auth() mounted after the routes).
  app.context.getToken = () => Promise.reject(setupMistake('ctx.getToken was called on a request auth() has not seen: mount app.use(auth(...)) before your routes'));
  const middleware = session({
    key: settings.name,
    maxAge: settings.maxAgeMs,
    httpOnly: true,
    sameSite: 'lax',
    secure: settings.secure,
    signed: false, // signed by authflow's own secret: see sessionCookie.ts
    rolling: false,
    renew: false,
    store,
    externalKey: signedCookieKey(settings, remember),
    // Remember the id given at regenerate(): the back-channel logout index needs the new one.
    genid: (ctx: Context) => remember(ctx, randomUUID()),
  }, app) as unknown as Middleware;
  return async (ctx, next) => {
    try {
      await middleware(ctx, next);
    } catch (err) {
      // The store failed while the session loaded (before auth() ran): the same answer as Express's authErrors().
      const result = ctx.headerSent || !(err instanceof AuthError && err.code === 'store_unavailable') ? undefined : failureBeforeAuth(webRequest(ctx), err);
      if (!result) throw err;
      send(ctx, result);
    }
  };
}

function decorate(ctx: Context, web: WebAuth): void {
  (ctx.state as Record<symbol, WebAuth>)[WEB] = web;
  ctx.getToken = (scopes, options) => web.getToken(sessionPort(ctx), scopes, options);
  // Safe to read anywhere, also upstream after logout ended the session (ctx.session is then null).
  const user = () => (ctx.session ? web.user(sessionPort(ctx)) : undefined);
  Object.defineProperty(ctx.state, 'account', { configurable: true, enumerable: true, get: () => user()?.account });
  Object.defineProperty(ctx.state, 'user', { configurable: true, enumerable: true, get: () => user()?.claims });
}

function webRequest(ctx: Context): WebRequest {
  return { method: ctx.method, url: ctx.originalUrl, headers: ctx.headers, query: ctx.query as Record<string, unknown>, body: undefined, accepts: (types) => ctx.accepts(types) };
}

function sessionPort(ctx: Context): SessionPort {
  type KoaSession = Record<string, unknown> & { regenerate(): Promise<void>; toJSON(): Record<string, unknown>; maxAge: unknown };
  const current = (): KoaSession => {
    if (!ctx.session) throw new AuthError('invalid_config', { description: 'authflow needs a session: app.use(authSession(app, ...)) or koa-session before auth()' });
    // A cookie-only koa-session would carry the PKCE verifier and nonce to the browser.
    const options = (ctx as Context & { sessionOptions?: { store?: unknown; ContextStore?: unknown } }).sessionOptions;
    if (!options?.store && !options?.ContextStore) {
      throw new AuthError('invalid_config', { description: 'authflow needs server-side sessions: koa-session with a store (authSession(app, ...) has one by default), not cookie-only sessions' });
    }
    return ctx.session as unknown as KoaSession;
  };
  return {
    read: () => ({ ...((current()[SESSION_KEY] as AuthSessionData | undefined) ?? {}) }),
    write: (data) => {
      // No data, no key: a session left as it was loaded is not saved again by koa-session.
      if (Object.values(data).every((value) => value === undefined)) delete current()[SESSION_KEY];
      else current()[SESSION_KEY] = data;
    },
    regenerate: async () => {
      const data = current();
      for (const key of Object.keys(data.toJSON())) delete data[key];
      try {
        await data.regenerate();
      } catch (err) {
        throw err instanceof AuthError ? err : storeError('regenerate', 'store_failed', err);
      }
    },
    destroy: async () => {
      ctx.session = null;
    },
    id: () => (ctx.state as Record<symbol, string | undefined>)[SESSION_ID],
    setLifetime: (ms) => {
      const full = (ctx as unknown as Record<symbol, number | undefined>)[FULL_LIFETIME];
      const maxAge = ms ?? full;
      if (maxAge !== undefined) current().maxAge = maxAge;
    },
    save: async () => {
      try {
        await (current() as unknown as { manuallyCommit(): Promise<void> }).manuallyCommit();
      } catch (err) {
        // The caller answers 503 and rolls the data back; koa-session must not try again at the end
        // of the response (a lifetime change forces a save: koa-session's public `_requireSave`).
        (current() as { _requireSave?: boolean })._requireSave = false;
        throw err instanceof AuthError ? err : storeError('save', 'store_failed', err);
      }
    },
  };
}

/** Ends another session (back-channel logout): possible with the external store `authSession()` was given. */
async function destroyStored(ctx: Context, sessionId: string): Promise<void> {
  const store = (ctx as unknown as Record<symbol, KoaSessionStore | undefined>)[STORE];
  if (store) await store.destroy(sessionId);
}

function send(ctx: Context, result: WebResult): void {
  ctx.set('cache-control', 'no-store');
  if (result.kind === 'redirect') {
    ctx.status = 302;
    ctx.redirect(result.location);
    return;
  }
  ctx.status = result.status;
  ctx.set(result.headers);
  ctx.type = result.contentType;
  ctx.body = result.body;
}
