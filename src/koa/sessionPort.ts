/**
 * authflow/koa's `SessionPort`: the request's koa-session as the web layer sees it, one per request,
 * and `ctx.state.account` / `.user` kept in step with it.
 */
import type { Context } from 'koa';
import { AuthError, SESSION_KEY, asStoreError, authDataOf, type AuthSessionData, type SessionPort } from '../web/kit.js';

/** Where index.ts keeps what the port reads: the id given to the session, the full lifetime. */
export const SESSION_ID = Symbol('authflow.sessionId');
export const FULL_LIFETIME = Symbol('authflow.sessionLifetime');
const PORT = Symbol('authflow.sessionPort');

/** The request's port (made at its first use). */
export const sessionPort = (ctx: Context): SessionPort => ((ctx as unknown as Record<symbol, SessionPort>)[PORT] ??= new KoaSessionPort(ctx));

/**
 * `ctx.state.account` / `.user`: plain values (a template engine copying `ctx.state` copies them),
 * set when auth() first sees the request and again whenever authflow changes the session (sign-in, logout).
 */
export function showUser(ctx: Context, data: AuthSessionData | undefined): void {
  ctx.state.account = data?.user?.account;
  ctx.state.user = data?.user?.claims;
}

type KoaSession = Record<string, unknown> & { regenerate(): Promise<void>; toJSON(): Record<string, unknown>; maxAge: unknown };

/** The port over `ctx.session`, read at each call (regenerate() and logout replace it); methods on the class: a request makes no closures. */
class KoaSessionPort implements SessionPort {
  readonly #ctx: Context;

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  read(): AuthSessionData {
    return authDataOf(this.#current());
  }

  write(data: AuthSessionData): void {
    // No data, no key: a session left as it was loaded is not saved again by koa-session.
    if (Object.values(data).every((value) => value === undefined)) delete this.#current()[SESSION_KEY];
    else this.#current()[SESSION_KEY] = data;
    showUser(this.#ctx, data);
  }

  async regenerate(): Promise<void> {
    const data = this.#current();
    for (const key of Object.keys(data.toJSON())) delete data[key];
    await data.regenerate().catch((err: unknown) => Promise.reject(asStoreError('regenerate', err)));
  }

  async destroy(): Promise<void> {
    this.#ctx.session = null;
    showUser(this.#ctx, undefined);
  }

  id(): string | undefined {
    return (this.#ctx.state as Record<symbol, string | undefined>)[SESSION_ID];
  }

  setLifetime(ms: number | undefined): void {
    const maxAge = ms ?? (this.#ctx as unknown as Record<symbol, number | undefined>)[FULL_LIFETIME];
    if (maxAge !== undefined) this.#current().maxAge = maxAge;
  }

  async save(): Promise<void> {
    const session = this.#current() as KoaSession & { manuallyCommit(): Promise<void>; _requireSave?: boolean };
    await session.manuallyCommit().catch((err: unknown) => {
      // The caller answers 503 and rolls the data back; koa-session must not try again at the end
      // of the response (a lifetime change forces a save: koa-session's public `_requireSave`).
      session._requireSave = false;
      return Promise.reject(asStoreError('save', err));
    });
  }

  #current(): KoaSession {
    const ctx = this.#ctx;
    if (!ctx.session) throw new AuthError('invalid_config', { description: 'authflow needs a session: app.use(authSession(app, ...)) or koa-session before auth()' });
    // A cookie-only koa-session would carry the PKCE verifier and nonce to the browser.
    const options = (ctx as Context & { sessionOptions?: { store?: unknown; ContextStore?: unknown } }).sessionOptions;
    if (!options?.store && !options?.ContextStore) throw new AuthError('invalid_config', { description: 'authflow needs server-side sessions: koa-session with a store (authSession(app, ...) has one by default), not cookie-only sessions' });
    return ctx.session as unknown as KoaSession;
  }
}
