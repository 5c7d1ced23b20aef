/**
 * authflow for Express 4 and 5. All logic lives in `src/web` (see `src/web/kit.ts`); this file only
 * translates: request → `WebRequest`, its `SessionPort`, `WebResult` → response, request decoration.
 */
import express from 'express';
import type { NextFunction, Request, RequestHandler, Response, ErrorRequestHandler } from 'express';
import session from 'express-session';
import type { Store } from 'express-session';
import {
  AuthError, BearerGuard, CookieSessionPort, RequestStates, SESSION_KEY, WebAuth, answerFailure, answerRoute, destroyIn, guardCallbackStore, routeTable, sessionSettings, setupMistake, storeError, storeGuard,
  type AccountInfo, type AuthOptions, type AuthSessionData, type AuthSessionOptions, type BearerClaims, type GetTokenOptions,
  type RequireBearerOptions, type SessionPort, type SessionStoreOptions, type WebRequest, type WebResult,
} from '../web/kit.js';

declare global {
  // Express's Request typing is extended by module augmentation, as express-session and passport do.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    /** The signed-in user's ID token claims (profile data). */
    interface User { [claim: string]: unknown }
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

/** What authflow keeps of a request (see `RequestStates`: beside it, not on it). */
const states = new RequestStates<Request, { web?: WebAuth; guard?: BearerGuard; port?: SessionPort; fullLifetime?: number }>(() => ({}));

/** Answers the routes of `routeTable` (sign-in, callback, logout, back-channel logout) and decorates every request. */
export function auth(options: AuthOptions): RequestHandler {
  const web = new WebAuth(options);
  const routes = routeTable(web);
  // From now on every request has req.getToken: a route mounted before auth() gets the mistake named.
  decoratePrototype(express.request);
  return function authflow(req, res, next) {
    states.of(req).web = web;
    decoratePrototype(Object.getPrototypeOf(req) as object);
    const route = routes.match(req.method, req.path);
    if (!route) return next();
    const input = { request: webRequest(req), stream: req, parsedBody: req.body, session: sessionPort(req), destroySession: (id: string) => destroyIn(req.sessionStore, id) };
    answerRoute(web, route, input).then((result) => send(res, result), next);
  };
}

/** Lets signed-in users through; others are sent to sign in (pages) or get a 401 naming the sign-in URL (APIs). */
export function requireAuth(): RequestHandler {
  return (req, res, next) => {
    const web = states.peek(req)?.web;
    if (!web) return next(setupMistake('requireAuth() ran on a request auth() has not seen: mount app.use(auth(...)) before the routes that use requireAuth()'));
    const result = web.requireUser(sessionPort(req), () => webRequest(req));
    if (result) send(res, result);
    else next();
  };
}

/** The error handler after your routes: authflow's failures answered by `answerFailure` (a sign-in when interaction is needed). */
export function authErrors(): ErrorRequestHandler {
  return (err: unknown, req: Request, res: Response, next: NextFunction) => {
    const { web, guard } = states.peek(req) ?? {};
    const result = res.headersSent ? undefined : answerFailure(webRequest(req), err, { guard, web, session: req.session ? sessionPort(req) : undefined });
    if (result) send(res, result);
    else next(err);
  };
}

/**
 * For web APIs: validates the caller's Bearer token and answers 401/403 the RFC 6750 way (`BearerGuard`); behind
 * it `req.auth` holds the claims, `req.getToken` does On-Behalf-Of and `req.getAppToken` client credentials.
 */
export function requireBearer(options: RequireBearerOptions): RequestHandler {
  const guard = new BearerGuard(options);
  return (req, res, next) => {
    guard.authenticate(req.headers.authorization).then(({ token, claims }) => {
      states.of(req).guard = guard;
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

/** Options of `authSession()` about its store. */
export interface ExpressSessionStoreOptions extends SessionStoreOptions {
  /** An express-session store, e.g. `new RedisStore({ client: redis })` (connect-redis 8). Default: in memory. */
  store?: Store;
}

/**
 * express-session with authflow's cookie policy (`sessionSettings`) and its store seen through
 * the store guard (`storeGuard`): a store failing or silent past `storeTimeoutMs` gives 503.
 */
export function authSession(options: AuthSessionOptions & ExpressSessionStoreOptions): RequestHandler {
  const settings = sessionSettings(options);
  const guard = storeGuard(options, options.store, 'express-session');
  const middleware = session({
    name: settings.name, secret: settings.secrets, resave: false, saveUninitialized: false, rolling: false,
    ...(options.store ? { store: guardCallbackStore(options.store, guard) } : {}),
    cookie: { httpOnly: true, sameSite: 'lax', secure: settings.secure, path: '/', maxAge: settings.maxAgeMs },
  });
  return (req, res, next) => {
    states.of(req).fullLifetime = settings.maxAgeMs;
    middleware(req, res, next);
  };
}

/** `getToken`, `account`, `user` defined once per request prototype; assigning one (passport's `req.user`) makes an own property. */
function decoratePrototype(prototype: object): void {
  if (decoratedPrototypes.has(prototype)) return;
  decoratedPrototypes.add(prototype);
  const ownWhenAssigned = (name: string, read: (req: Request) => unknown): PropertyDescriptor => ({
    configurable: true,
    get(this: Request) { return this.session ? read(this) : undefined; },
    set(this: Request, value: unknown) { Object.defineProperty(this, name, { value, writable: true, configurable: true, enumerable: true }); },
  });
  Object.defineProperties(prototype, {
    getToken: { configurable: true, writable: true, value(this: Request, scopes: readonly string[], options?: GetTokenOptions): Promise<string> {
      const web = states.peek(this)?.web;
      if (!web) return Promise.reject(setupMistake('req.getToken was called on a request auth() has not seen: mount app.use(auth(...)) before your routes'));
      return web.getToken(sessionPort(this), scopes, options);
    } },
    account: ownWhenAssigned('account', (r) => states.peek(r)?.web?.user(sessionPort(r))?.account),
    user: ownWhenAssigned('user', (r) => states.peek(r)?.web?.user(sessionPort(r))?.claims),
  });
}
const decoratedPrototypes = new WeakSet<object>();

function webRequest(req: Request): WebRequest {
  return { method: req.method, url: req.originalUrl, headers: req.headers, query: (req.query ?? {}) as Record<string, unknown>, body: undefined, accepts: (types) => req.accepts(types) };
}

/** The request's express-session as the web layer sees it (made at its first use in the request). */
const sessionPort = (req: Request): SessionPort => (states.of(req).port ??= new ExpressSessionPort(req));

/** The port over `req.session`, read at each call (regenerate() replaces it). */
class ExpressSessionPort extends CookieSessionPort<session.Session & Record<string, unknown>> {
  readonly #req: Request;

  constructor(req: Request) {
    super();
    this.#req = req;
  }

  id(): string | undefined {
    return this.#req.sessionID;
  }

  protected fullLifetime(): number | undefined {
    return states.peek(this.#req)?.fullLifetime;
  }

  protected settle(operation: 'regenerate' | 'destroy' | 'save'): Promise<void> {
    return new Promise((resolve, reject) => this.current()[operation]((err?: unknown) => (err ? reject(storeError(operation, 'store_failed', err)) : resolve())));
  }

  protected current(): session.Session & Record<string, unknown> {
    const current = this.#req.session;
    if (!current) throw new AuthError('invalid_config', { description: 'authflow needs a session: app.use(authSession(...)) or express-session before auth()' });
    return current as session.Session & Record<string, unknown>;
  }
}

function send(res: Response, result: WebResult): void {
  res.set('cache-control', 'no-store');
  if (result.kind === 'redirect') res.redirect(302, result.location);
  else res.status(result.status).set(result.headers).type(result.contentType).send(result.body);
}
