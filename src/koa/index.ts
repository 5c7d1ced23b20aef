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
import type { Cluster, Redis } from 'ioredis';
import { AuthError } from '../errors.js';
import type { AccountInfo } from '../results.js';
import type { WebAuthOptions } from '../web/options.js';
import type { WebResult } from '../web/render.js';
import { SESSION_KEY, type AuthSessionData, type SessionPort } from '../web/session.js';
import { sessionSettings, type AuthSessionOptions } from '../web/sessionSettings.js';
import { WebAuth, type GetTokenOptions, type WebRequest } from '../web/webAuth.js';
import { BearerGuard, type BearerGuardOptions } from '../web/bearerGuard.js';
import type { BearerClaims } from '../bearer.js';

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

export type { WebAuthOptions as AuthOptions, GetTokenOptions, AuthSessionOptions, BearerGuardOptions as BearerOptions };

const WEB = Symbol('authflow.web');
const NEW_SESSION_ID = Symbol('authflow.sessionId');
const STORE = Symbol('authflow.sessionStore');
const MAX_FORM_BYTES = 16_384;

type Handler = (request: WebRequest, port: SessionPort, ctx: Context) => Promise<WebResult>;

/** The sign-in routes (`GET /login`, `GET|POST /callback`, `GET|POST /logout`, back-channel logout when configured) and request decoration. */
export function auth(options: WebAuthOptions): Middleware {
  const web = new WebAuth(options);
  const { paths } = web.options;
  const routes = new Map<string, Handler>([
    [`GET ${paths.login}`, (r, s) => web.login(r, s)],
    [`GET ${paths.callback}`, (r, s) => web.callback(r, s)],
    [`POST ${paths.callback}`, (r, s) => web.callback(r, s)],
    [`GET ${paths.logout}`, (r, s) => web.logout(r, s)],
    [`POST ${paths.logout}`, (r, s) => web.logout(r, s)],
  ]);
  if (paths.backchannelLogout) {
    routes.set(`POST ${paths.backchannelLogout}`, (r, _s, ctx) => web.backchannelLogout(r, (id) => destroyStored(ctx, id)));
  }

  return async function authflow(ctx: Context, next: Next): Promise<void> {
    decorate(ctx, web);
    const route = routes.get(`${ctx.method} ${ctx.path}`);
    if (route) {
      try {
        send(ctx, await route(await webRequest(ctx, ctx.method === 'POST'), sessionPort(ctx), ctx));
      } catch (err) {
        const result = web.errorResult(await webRequest(ctx, false), undefined, err);
        if (!result) throw err;
        send(ctx, result);
      }
      return;
    }
    try {
      await next();
    } catch (err) {
      // A response already on its way (streamed, ctx.respond = false) cannot become a sign-in.
      const result = ctx.headerSent ? undefined : web.errorResult(await webRequest(ctx, false), sessionPort(ctx), err);
      if (!result) throw err;
      send(ctx, result);
    }
  };
}

/** Lets signed-in users through; others are sent to sign in (pages) or get a 401 naming the sign-in URL (API calls). */
export function requireAuth(): Middleware {
  return async (ctx, next) => {
    const web = (ctx.state as Record<symbol, WebAuth | undefined>)[WEB];
    if (!web) throw new AuthError('invalid_config', { description: 'requireAuth() needs app.use(auth(...)) before it' });
    const result = web.requireUser(await webRequest(ctx, false), sessionPort(ctx));
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
export function requireBearer(options: BearerGuardOptions): Middleware {
  const guard = new BearerGuard(options);
  return async (ctx, next) => {
    let token: string;
    try {
      const validated = await guard.authenticate(ctx.get('authorization') || undefined);
      token = validated.token;
      ctx.state.auth = validated.claims;
    } catch (err) {
      const result = guard.errorResult(await webRequest(ctx, false), err);
      if (!result) throw err;
      return send(ctx, result);
    }
    ctx.getToken = (scopes) => guard.onBehalfOf(token, scopes);
    ctx.getAppToken = (scopes) => guard.appToken(scopes);
    try {
      await next();
    } catch (err) {
      const result = ctx.headerSent ? undefined : guard.errorResult(await webRequest(ctx, false), err);
      if (!result) throw err;
      send(ctx, result);
    }
  };
}

/**
 * koa-session with authflow's cookie policy (`httpOnly`, `sameSite=lax`, `secure` unless the app is
 * http://localhost / 127.0.0.1, signed with `secret`; refuses to build without one in production).
 */
export function authSession(app: Koa, options: AuthSessionOptions & { store?: KoaSessionStore }): Middleware {
  const settings = sessionSettings(options);
  // koa-session signs with app.keys, which also sign the app's other cookies: a given secret signs
  // from now on and the app's keys still verify; without one, keys the app already has are kept.
  const appKeys = Array.isArray(app.keys) ? app.keys.map(String) : [];
  const hasKeys = app.keys !== undefined && (!Array.isArray(app.keys) || app.keys.length > 0);
  if (options.secret !== undefined) app.keys = [...settings.secrets, ...appKeys.filter((k) => !settings.secrets.includes(k))];
  else if (!hasKeys) app.keys = settings.secrets;
  if (options.store) (app.context as unknown as Record<symbol, KoaSessionStore>)[STORE] = options.store;
  return session({
    key: settings.name,
    maxAge: settings.maxAgeMs,
    httpOnly: true,
    sameSite: 'lax',
    secure: settings.secure,
    signed: true,
    rolling: false,
    renew: false,
    ...(options.store ? {
      store: options.store,
      // Remember the id given at regenerate(): the back-channel logout index needs the new one.
      genid: (ctx: Context) => ((ctx.state as Record<symbol, string>)[NEW_SESSION_ID] = randomUUID()),
    } : {}),
  }, app) as unknown as Middleware;
}

/** koa-session's external store contract. */
export interface KoaSessionStore {
  /** The session stored under `key`, or undefined. */
  get(key: string): Promise<Record<string, unknown> | undefined>;
  /** Stores the session for `maxAge` milliseconds (`'session'`: for the browser session). */
  set(key: string, value: Record<string, unknown>, maxAge: number | 'session' | undefined): Promise<void>;
  /** Deletes the session. */
  destroy(key: string): Promise<void>;
}

/** A koa-session store on an ioredis client (one string per session, expiring with it). */
export function redisSessionStore(options: { client: Redis | Cluster; prefix?: string }): KoaSessionStore {
  const { client } = options;
  const prefix = options.prefix ?? 'authflow:sess:';
  const guard = async <T>(operation: string, run: () => Promise<T>): Promise<T> => {
    if (client.status !== 'ready') throw new AuthError('store_unavailable', { description: `the session store cannot ${operation}: Redis is ${client.status}` });
    try {
      return await run();
    } catch (err) {
      throw new AuthError('store_unavailable', { description: `the session store failed to ${operation}`, cause: err });
    }
  };
  return {
    get: (key) => guard('read', async () => {
      const value = await client.get(prefix + key);
      if (!value) return undefined;
      try {
        const data: unknown = JSON.parse(value);
        return data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
      } catch {
        return undefined; // unreadable: koa-session starts a new session
      }
    }),
    set: (key, value, maxAge) => guard('write', async () => {
      const ttl = typeof maxAge === 'number' ? maxAge : 24 * 3600 * 1000;
      await client.set(prefix + key, JSON.stringify(value), 'PX', ttl);
    }),
    destroy: (key) => guard('delete', async () => {
      await client.del(prefix + key);
    }),
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

async function webRequest(ctx: Context, withBody: boolean): Promise<WebRequest> {
  return {
    method: ctx.method,
    url: ctx.originalUrl,
    headers: ctx.headers,
    query: ctx.query as Record<string, unknown>,
    body: withBody ? await readForm(ctx) : undefined,
  };
}

/**
 * The urlencoded body of a POST (form_post callbacks, back-channel logout), at most 16 KB; a body a
 * body parser already read is taken as it is. Past the limit the rest of the body is drained, not
 * the connection reset, so the client gets its 413.
 */
async function readForm(ctx: Context): Promise<Record<string, unknown>> {
  const parsed = (ctx.request as { body?: unknown }).body;
  if (parsed && typeof parsed === 'object' && !Buffer.isBuffer(parsed)) return parsed as Record<string, unknown>;
  const type = ctx.get('content-type').toLowerCase();
  if (!type.startsWith('application/x-www-form-urlencoded')) return {};
  const body = await readBody(ctx.req, MAX_FORM_BYTES);
  const form: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(body.toString('utf8'))) {
    const previous = form[name];
    form[name] = previous === undefined ? value : ([] as string[]).concat(previous, value);
  }
  return form;
}

function readBody(req: Context['req'], limit: number): Promise<Buffer> {
  const tooLarge = () => new AuthError('invalid_request', { status: 413, description: 'the request body is too large' });
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  if (Number(req.headers['content-length']) > limit) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const fail = (err: AuthError) => {
      cleanup();
      req.resume();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) fail(tooLarge());
      else chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = () => fail(new AuthError('invalid_request', { description: 'the request body could not be read' }));
    const onClose = () => fail(new AuthError('invalid_request', { description: 'the request body was cut short' }));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

function sessionPort(ctx: Context): SessionPort {
  const current = (): Record<string, unknown> & { regenerate(): Promise<void>; toJSON(): Record<string, unknown> } => {
    if (!ctx.session) throw new AuthError('invalid_config', { description: 'authflow needs a session: app.use(authSession(app, ...)) or koa-session before auth()' });
    return ctx.session as unknown as Record<string, unknown> & { regenerate(): Promise<void>; toJSON(): Record<string, unknown> };
  };
  return {
    read: () => ({ ...((current()[SESSION_KEY] as AuthSessionData | undefined) ?? {}) }),
    write: (data) => {
      current()[SESSION_KEY] = data;
    },
    regenerate: async () => {
      const data = current();
      for (const key of Object.keys(data.toJSON())) delete data[key];
      try {
        await data.regenerate();
      } catch (err) {
        throw err instanceof AuthError ? err : new AuthError('store_unavailable', { description: 'the session store failed to regenerate', cause: err });
      }
    },
    destroy: async () => {
      ctx.session = null;
    },
    id: () => (ctx.state as Record<symbol, string | undefined>)[NEW_SESSION_ID],
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
