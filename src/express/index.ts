/**
 * authflow for Express 4 and 5: `auth()` mounts sign-in routes and gives every request
 * `req.getToken`, `req.account` and `req.user`; `requireAuth()` guards pages; `authErrors()` turns
 * "sign in again / consent" failures of `req.getToken` into a sign-in. All logic lives in
 * `src/web`; this file only translates Express requests, sessions and responses.
 *
 * @example
 * ```ts
 * app.use(authSession({ baseUrl, secret: process.env.SESSION_SECRET, store: new RedisStore({ client: redis }) }));
 * app.use(auth({ client, baseUrl, scopes: ['api://orders/Orders.Read'] }));
 * app.get('/orders', requireAuth(), async (req, res) => res.json(await callOrders(await req.getToken(['api://orders/Orders.Read']))));
 * app.use(authErrors());
 * ```
 */
import express from 'express';
import type { NextFunction, Request, RequestHandler, Response, ErrorRequestHandler } from 'express';
import session from 'express-session';
import type { Store } from 'express-session';
import { AuthError, configError } from '../errors.js';
import type { AccountInfo } from '../results.js';
import type { AuthOptions } from '../web/options.js';
import type { WebResult } from '../web/render.js';
import { setupMistake } from '../web/report.js';
import { answerRoute, routeTable } from '../web/routes.js';
import { SESSION_KEY, type AuthSessionData, type SessionPort } from '../web/session.js';
import { WebAuth, type GetTokenOptions, type WebRequest } from '../web/webAuth.js';
import { sessionSettings, type AuthSessionOptions } from '../web/sessionSettings.js';
import { failureBeforeAuth, guardCallbackStore, storeError, storeGuard, type SessionStoreOptions } from '../web/storeGuard.js';
import { BearerGuard, type RequireBearerOptions } from '../web/bearerGuard.js';
import type { BearerClaims } from '../bearer/index.js';

declare global {
  // Express's Request typing is extended by module augmentation, as express-session and passport do.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    /** The signed-in user's ID token claims (profile data). */
    interface User {
      [claim: string]: unknown;
    }
    interface Request {
      /** An access token for `scopes`, from the session's token cache or by refreshing it. */
      getToken(scopes: readonly string[], options?: GetTokenOptions): Promise<string>;
      /** The signed-in account, or undefined. */
      account?: AccountInfo | undefined;
      /** The signed-in user's ID token claims, or undefined. */
      user?: User | undefined;
      /** Behind `requireBearer()`: the caller's validated access token claims. */
      auth?: BearerClaims | undefined;
      /** Behind `requireBearer()`: an app token (client credentials) for a downstream API. */
      getAppToken(scopes: readonly string[]): Promise<string>;
    }
  }
}

export type { AuthOptions, GetTokenOptions, AuthSessionOptions, RequireBearerOptions, SessionStoreOptions };

const WEB = Symbol('authflow.web');
const GUARD = Symbol('authflow.bearer');
const PORT = Symbol('authflow.sessionPort');
const FULL_LIFETIME = Symbol('authflow.sessionLifetime');
type Decorated = Request & { [WEB]?: WebAuth; [GUARD]?: BearerGuard; [PORT]?: SessionPort; [FULL_LIFETIME]?: number };

/**
 * Answers `GET /login`, `GET|POST /callback`, `POST /logout` (`GET` shows a confirmation page)
 * and back-channel logout when configured, and gives every request `req.getToken`, `req.account` and `req.user`. One
 * middleware that looks the route up in a table: every request passes through it.
 */
export function auth(options: AuthOptions): RequestHandler {
  const web = new WebAuth(options);
  const routes = routeTable(web);
  // From now on every Express request has req.getToken: a route mounted before auth() gets an
  // error naming the mistake instead of "req.getToken is not a function".
  decoratePrototype(express.request);
  return function authflow(req, res, next) {
    decorate(req as Decorated, web);
    const route = routes.match(req.method, req.path);
    if (!route) return next();
    const input = { request: webRequest(req), stream: req, parsedBody: req.body, session: sessionPort(req), destroySession: (id: string) => destroyStored(req, id) };
    answerRoute(web, route, input).then((result) => send(res, result), next);
  };
}

/** Lets signed-in users through; others are sent to sign in (pages) or get a 401 naming the sign-in URL (API calls). */
export function requireAuth(): RequestHandler {
  return (req, res, next) => {
    const web = (req as Decorated)[WEB];
    if (!web) return next(setupMistake('requireAuth() ran on a request auth() has not seen: mount app.use(auth(...)) before the routes that use requireAuth()'));
    const port = sessionPort(req);
    if (web.user(port)) return next();
    send(res, web.requireUser(webRequest(req), port)!);
  };
}

/**
 * The error handler for `req.getToken` failures: interaction needed (consent, claims challenge,
 * expired or missing sign-in) becomes a sign-in that comes back to the same page, or a 401 for
 * API calls; other authflow errors an error page with their status. Mount it after your routes.
 */
export function authErrors(): ErrorRequestHandler {
  return (err: unknown, req: Request, res: Response, next: NextFunction) => {
    const { [WEB]: web, [GUARD]: guard } = req as Decorated;
    let result: WebResult | undefined;
    if (!res.headersSent) {
      if (guard) result = guard.errorResult(webRequest(req), err);
      else if (web && req.session) result = web.errorResult(webRequest(req), sessionPort(req), err);
      // No session, or failed before auth() ran (the session store is down): still a plain
      // authflow answer, logged with the id it shows.
      else if (err instanceof AuthError && web) result = web.failure(webRequest(req), err);
      else result = failureBeforeAuth(webRequest(req), err);
    }
    if (result) send(res, result);
    else next(err);
  };
}

/**
 * For web APIs: validates the caller's `Authorization: Bearer` token (issuer and keys from the
 * client's authority; see `createBearerValidator` for every check) and answers 401/403 the RFC 6750
 * way. Behind it, `req.auth` holds the claims, `req.getToken(scopes)` does On-Behalf-Of with the
 * caller's token and `req.getAppToken(scopes)` client credentials, through `client`.
 *
 * @example
 * ```ts
 * api.get('/orders', requireBearer({ client: ordersClient, audience: 'api://orders', scopes: ['Orders.Read'] }),
 *   async (req, res) => res.json(await callInventory(await req.getToken(['api://inventory/Inventory.Read']))));
 * api.use(authErrors());
 * ```
 */
export function requireBearer(options: RequireBearerOptions): RequestHandler {
  const guard = new BearerGuard(options);
  return (req, res, next) => {
    guard.authenticate(req.headers.authorization).then(({ token, claims }) => {
      const decorated = req as Decorated;
      decorated[GUARD] = guard;
      req.auth = claims;
      req.getToken = (scopes) => guard.onBehalfOf(token, scopes);
      req.getAppToken = (scopes) => guard.appToken(scopes);
      next();
    }, (err: unknown) => {
      const result = guard.errorResult(webRequest(req), err);
      if (result) send(res, result);
      else next(err);
    });
  };
}

/**
 * express-session with authflow's cookie policy: `httpOnly`, `sameSite=lax`, `secure` unless the
 * base URL is http://localhost or 127.0.0.1; refuses to build without a secret in production.
 * A session store that fails or does not answer within `storeTimeoutMs` (default 1,000) makes the
 * request fail with `store_unavailable` (503, rendered by `authErrors()`), never hang or 500.
 */
export function authSession(options: AuthSessionOptions & ExpressSessionStoreOptions): RequestHandler {
  const settings = sessionSettings(options);
  if (options.store !== undefined && ['get', 'set', 'destroy'].some((m) => typeof (options.store as unknown as Record<string, unknown>)[m] !== 'function')) {
    throw configError('store', 'must be an express-session store (get, set, destroy)');
  }
  const guard = storeGuard(options, options.store);
  const middleware = session({
    name: settings.name,
    secret: settings.secrets,
    ...(options.store ? { store: guardCallbackStore(options.store, guard) } : {}),
    resave: false,
    saveUninitialized: false,
    rolling: false,
    cookie: { httpOnly: true, sameSite: 'lax', secure: settings.secure, path: '/', maxAge: settings.maxAgeMs },
  });
  return (req, res, next) => {
    (req as Decorated)[FULL_LIFETIME] = settings.maxAgeMs;
    middleware(req, res, next);
  };
}

/** Options of `authSession()` about its store. */
export interface ExpressSessionStoreOptions extends SessionStoreOptions {
  /** An express-session store, e.g. `new RedisStore({ client: redis })` (connect-redis 8). Default: in memory. */
  store?: Store;
}

/**
 * Marks the request as authflow's. `getToken`, `account` and `user` are defined once on the
 * app's request prototype (reading the mark), not per request; assigning them (passport sets
 * `req.user`, requireBearer sets `req.getToken`) makes an own property as usual.
 */
function decorate(req: Decorated, web: WebAuth): void {
  req[WEB] = web;
  decoratePrototype(Object.getPrototypeOf(req) as object);
}

function decoratePrototype(prototype: object): void {
  if (decoratedPrototypes.has(prototype)) return;
  decoratedPrototypes.add(prototype);
  Object.defineProperties(prototype, {
    getToken: {
      configurable: true,
      writable: true,
      value(this: Decorated, scopes: readonly string[], options?: GetTokenOptions): Promise<string> {
        const auth = this[WEB];
        if (!auth) return Promise.reject(setupMistake('req.getToken was called on a request auth() has not seen: mount app.use(auth(...)) before your routes'));
        return auth.getToken(sessionPort(this), scopes, options);
      },
    },
    account: ownWhenAssigned('account', (r) => r[WEB]?.user(sessionPort(r))?.account),
    user: ownWhenAssigned('user', (r) => r[WEB]?.user(sessionPort(r))?.claims),
  });
}
const decoratedPrototypes = new WeakSet<object>();

function ownWhenAssigned(name: string, read: (req: Decorated) => unknown): PropertyDescriptor {
  return {
    configurable: true,
    get(this: Decorated) {
      return this.session ? read(this) : undefined;
    },
    set(this: Decorated, value: unknown) {
      Object.defineProperty(this, name, { value, writable: true, configurable: true, enumerable: true });
    },
  };
}

function webRequest(req: Request): WebRequest {
  return {
    method: req.method,
    url: req.originalUrl,
    headers: req.headers,
    query: (req.query ?? {}) as Record<string, unknown>,
    body: undefined,
    accepts: (types) => req.accepts(types),
  };
}

/** The request's session as the web layer sees it (one per request). */
function sessionPort(req: Request): SessionPort {
  const decorated = req as Decorated;
  return (decorated[PORT] ??= new ExpressSessionPort(req));
}

const EMPTY: AuthSessionData = Object.freeze({});

class ExpressSessionPort implements SessionPort {
  readonly #req: Request;

  constructor(req: Request) {
    this.#req = req;
  }

  read(): AuthSessionData {
    return (this.#session()[SESSION_KEY] as AuthSessionData | undefined) ?? EMPTY;
  }

  write(data: AuthSessionData): void {
    this.#session()[SESSION_KEY] = data;
  }

  regenerate(): Promise<void> {
    return this.#settle('regenerate');
  }

  destroy(): Promise<void> {
    return this.#settle('destroy');
  }

  id(): string | undefined {
    return this.#req.sessionID;
  }

  /** express-session: the cookie's maxAge, which connect-redis and the like also use as the TTL. */
  setLifetime(ms: number | undefined): void {
    const maxAge = ms ?? (this.#req as Decorated)[FULL_LIFETIME];
    if (maxAge !== undefined) this.#session().cookie.maxAge = maxAge;
  }

  #session(): session.Session & Record<string, unknown> {
    if (!this.#req.session) throw new AuthError('invalid_config', { description: 'authflow needs a session: app.use(authSession(...)) or express-session before auth()' });
    return this.#req.session as session.Session & Record<string, unknown>;
  }

  save(): Promise<void> {
    return this.#settle('save');
  }

  #settle(operation: 'regenerate' | 'destroy' | 'save'): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#session()[operation]((err?: unknown) => (err ? reject(storeError(operation, 'store_failed', err)) : resolve()));
    });
  }
}

function destroyStored(req: Request, sessionId: string): Promise<void> {
  const store = req.sessionStore;
  if (!store) return Promise.resolve();
  return new Promise((resolve, reject) => store.destroy(sessionId, (err?: unknown) => (err ? reject(storeError('destroy', 'store_failed', err)) : resolve())));
}

function send(res: Response, result: WebResult): void {
  res.set('cache-control', 'no-store');
  if (result.kind === 'redirect') {
    res.redirect(302, result.location);
    return;
  }
  res.status(result.status).set(result.headers).type(result.contentType).send(result.body);
}
