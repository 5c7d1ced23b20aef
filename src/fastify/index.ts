/**
 * authflow for Fastify 5. All logic lives in `src/web` (see `src/web/kit.ts`); this file only
 * translates: request → `WebRequest`, its `SessionPort`, `WebResult` → response, request decoration.
 */
import accepts from 'accepts';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import type { FastifySessionObject, SessionStore } from '@fastify/session';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import {
  AuthError, BearerGuard, CookieSessionPort, SESSION_KEY, WebAuth, answerFailure, answerRoute, asStoreError, destroyIn, guardCallbackStore, routeTable, sessionSettings, setupMistake, storeGuard,
  type AccountInfo, type AuthOptions, type AuthSessionData, type AuthSessionOptions, type BearerClaims, type GetTokenOptions,
  type RequireBearerOptions, type SessionPort, type SessionStoreOptions, type WebRequest, type WebResult,
} from '../web/kit.js';

declare module 'fastify' {
  interface FastifyRequest {
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
}

export type { AuthOptions, GetTokenOptions, AuthSessionOptions, RequireBearerOptions, SessionStoreOptions };

const WEB = Symbol('authflow.web');
const GUARD = Symbol('authflow.bearer');
const FULL_LIFETIME = Symbol('authflow.sessionLifetime');
type Decorated = FastifyRequest & { [WEB]?: WebAuth; [GUARD]?: BearerGuard; [FULL_LIFETIME]?: number };

/**
 * The plugin (`app.register(auth, options)`): registers the routes of `routeTable` (sign-in,
 * callback, logout, back-channel logout), decorates every request (`getToken`, `account`, `user`)
 * and answers authflow's failures in the error handler (see `authErrors`).
 */
export const auth: FastifyPluginAsync<AuthOptions> = fp(async (fastify: FastifyInstance, options: AuthOptions) => {
  const web = new WebAuth(options);
  const routes = routeTable(web);
  const userOf = (request: FastifyRequest) => (hasSession(request) ? web.user(sessionPort(request)) : undefined);
  // Assigning one (a passport-style `request.user`) makes an own property.
  const ownWhenAssigned = (name: string) => function (this: FastifyRequest, value: unknown) {
    Object.defineProperty(this, name, { value, writable: true, configurable: true, enumerable: true });
  };
  fastify.decorateRequest(WEB, { getter: () => web });
  fastify.decorateRequest('getToken', function (this: FastifyRequest, scopes: readonly string[], getOptions?: GetTokenOptions) {
    return web.getToken(sessionPort(this), scopes, getOptions);
  });
  fastify.decorateRequest('account', { getter(this: FastifyRequest) { return userOf(this)?.account; }, setter: ownWhenAssigned('account') });
  fastify.decorateRequest('user', { getter(this: FastifyRequest) { return userOf(this)?.claims; }, setter: ownWhenAssigned('user') });
  fastify.decorateRequest('auth', undefined);
  fastify.decorateRequest('getAppToken', () => Promise.reject(setupMistake('request.getAppToken is only available behind requireBearer(...)')));
  installErrorHandler(fastify);
  await fastify.register(async (child) => {
    // The routes read their own bodies (form_post, back-channel logout) with the kit's reader: none is parsed here.
    child.removeAllContentTypeParsers();
    child.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    for (const { method, path } of routes.list) {
      const route = routes.match(method, path)!;
      // No HEAD twin of the GET routes (Fastify's default): as on Express and Koa, HEAD /login starts no sign-in.
      child.route({ method, url: path, exposeHeadRoute: false, handler: async (request, reply) => {
        const input = { request: webRequest(request), stream: request.raw, session: sessionPort(request), destroySession: (id: string) => destroyIn(request.sessionStore, id) };
        return send(reply, await answerRoute(web, route, input));
      } });
    }
  });
}, { fastify: '5.x', name: 'authflow' });

/** The error handler alone, for web APIs without `auth` (`app.register(authErrors)`): `auth` installs it itself. */
export const authErrors: FastifyPluginAsync = fp(async (fastify: FastifyInstance) => installErrorHandler(fastify), { fastify: '5.x', name: 'authflow-errors' });

/** authflow's failures answered by `answerFailure` (a sign-in when interaction is needed); others go on to Fastify's handler. */
function installErrorHandler(fastify: FastifyInstance): void {
  fastify.setErrorHandler((error, request, reply) => {
    const { [WEB]: web, [GUARD]: guard } = request as Decorated;
    const result = reply.sent ? undefined : answerFailure(webRequest(request), error, { guard, web, session: hasSession(request) ? sessionPort(request) : undefined });
    if (!result) throw error;
    return send(reply, result);
  });
}

/** A `preHandler` letting signed-in users through; others are sent to sign in (pages) or get a 401 naming the sign-in URL (APIs). */
export function requireAuth(): preHandlerAsyncHookHandler {
  return async (request, reply) => {
    const web = (request as Decorated)[WEB];
    if (!web) throw setupMistake('requireAuth() ran on a request auth has not seen: app.register(auth, ...) before the routes that use requireAuth()');
    const result = web.requireUser(sessionPort(request), () => webRequest(request));
    if (result) return send(reply, result);
  };
}

/**
 * A `preHandler` for web APIs: validates the caller's Bearer token and answers 401/403 the RFC 6750 way (`BearerGuard`);
 * behind it `request.auth` holds the claims, `request.getToken` does On-Behalf-Of and `request.getAppToken` client credentials.
 */
export function requireBearer(options: RequireBearerOptions): preHandlerAsyncHookHandler {
  const guard = new BearerGuard(options);
  return async (request, reply) => {
    // Failures below (a claims challenge from the OP) are answered by the guard in the error handler.
    (request as Decorated)[GUARD] = guard;
    try {
      const { token, claims } = await guard.authenticate(request.headers.authorization);
      request.auth = claims;
      request.getToken = (scopes) => guard.onBehalfOf(token, scopes);
      request.getAppToken = (scopes) => guard.appToken(scopes);
    } catch (err) {
      const result = guard.errorResult(webRequest(request), err);
      if (!result) throw err;
      return send(reply, result);
    }
  };
}

/** Options of `authSession` about its store. */
export interface FastifySessionStoreOptions extends SessionStoreOptions {
  /** An express-session-compatible store, e.g. `new RedisStore({ client: redis })` (connect-redis 8). Default: in memory. */
  store?: SessionStore;
}

/**
 * The plugin `app.register(authSession, options)`: @fastify/session (and @fastify/cookie, unless
 * registered already) with authflow's cookie policy (`sessionSettings`) and its store seen through
 * the store guard (`storeGuard`): a store failing or silent past `storeTimeoutMs` gives 503.
 * Behind a TLS-terminating proxy give Fastify `trustProxy`, or the `Secure` cookie is not sent.
 */
export const authSession: FastifyPluginAsync<AuthSessionOptions & FastifySessionStoreOptions> = fp(async (fastify: FastifyInstance, options: AuthSessionOptions & FastifySessionStoreOptions) => {
  const settings = sessionSettings(options);
  const guard = storeGuard(options, options.store, '@fastify/session');
  if (!fastify.hasPlugin('@fastify/cookie')) await fastify.register(fastifyCookie);
  await fastify.register(fastifySession, {
    cookieName: settings.name, secret: settings.secrets, saveUninitialized: false, rolling: false,
    ...(options.store ? { store: guardCallbackStore(options.store, guard) } : {}),
    cookie: { httpOnly: true, sameSite: 'lax', secure: settings.secure, path: '/', maxAge: settings.maxAgeMs },
  });
  fastify.decorateRequest(FULL_LIFETIME, { getter: () => settings.maxAgeMs });
}, { fastify: '5.x', name: 'authflow-session' });

function webRequest(request: FastifyRequest): WebRequest {
  return { method: request.method, url: request.url, headers: request.headers, query: (request.query ?? {}) as Record<string, unknown>, body: undefined, accepts: (types) => accepts(request.raw).type(types) as string | false };
}

/** A loaded @fastify/session session (it leaves `{}` on paths outside the cookie's, `null` after destroy). */
function hasSession(request: FastifyRequest): boolean {
  return typeof (request.session as Partial<FastifySessionObject> | null | undefined)?.regenerate === 'function';
}

/** The request's @fastify/session session as the web layer sees it. */
class FastifySessionPort extends CookieSessionPort<FastifySessionObject & Record<string, unknown>> {
  readonly #request: Decorated;

  constructor(request: Decorated) {
    super();
    this.#request = request;
  }

  override write(data: AuthSessionData): void {
    // No data, no key: a session left as it was loaded is not saved again.
    this.current()[SESSION_KEY] = Object.values(data).every((v) => v === undefined) ? undefined : data;
  }

  id(): string | undefined {
    return hasSession(this.#request) ? this.#request.session.sessionId : undefined;
  }

  protected fullLifetime(): number | undefined {
    return this.#request[FULL_LIFETIME];
  }

  protected current(): FastifySessionObject & Record<string, unknown> {
    if (!hasSession(this.#request)) throw new AuthError('invalid_config', { description: 'authflow needs a session: app.register(authSession, ...) or @fastify/session before auth' });
    return this.#request.session as FastifySessionObject & Record<string, unknown>;
  }

  protected settle(operation: 'regenerate' | 'destroy' | 'save'): Promise<void> {
    return this.current()[operation]().catch((err: unknown) => Promise.reject(asStoreError(operation, err)));
  }
}

const sessionPort = (request: Decorated): SessionPort => new FastifySessionPort(request);

function send(reply: FastifyReply, result: WebResult): FastifyReply {
  reply.header('cache-control', 'no-store');
  if (result.kind === 'redirect') return reply.redirect(result.location, 302);
  return reply.code(result.status).headers(result.headers).type(result.contentType).send(result.body);
}
