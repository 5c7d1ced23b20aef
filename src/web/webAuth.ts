import { randomUUID } from 'node:crypto';
import { isTenantGuid } from '../authority.js';
import { AuthError } from '../errors.js';
import { assertSameOrigin, logoutConfirmation } from './logoutGuard.js';
import { createLogoutTokenVerifier, logoutKeys } from './logoutToken.js';
import { resolveWebOptions, type ResolvedWebOptions, type AuthOptions } from './options.js';
import { isProduction } from '../logger.js';
import { errorResult, redirect, wantsJson, type ErrorResultExtra, type RequestShape, type WebResult } from './render.js';
import { pathOf, reportFailure, reportOnce } from './report.js';
import { safeReturnTo } from './returnTo.js';
import { MemorySessionIndex } from '../stores/sessionIndex.js';
import { profileClaims, withSignIn, type SessionPort, type SignedInUser } from './session.js';
import { instrumentRoutes } from './telemetry.js';

/** A request as the web layer sees it: the adapter fills it from Express or Koa. */
export interface WebRequest extends RequestShape {
  query: Record<string, unknown>;
  /** The parsed urlencoded body of POST requests (form_post callbacks, back-channel logout). */
  body: Record<string, unknown> | undefined;
}

/** Options of `req.getToken` / `ctx.getToken`. */
export interface GetTokenOptions {
  /** A claims challenge (JSON string) from an API's `WWW-Authenticate` answer. */
  claims?: string;
  /** Skip the cached access token and redeem the refresh token. */
  forceRefresh?: boolean;
}

/** How long a sign-in stays in the back-channel logout index: the refresh token's usual life. */
const INDEX_TTL_SECONDS = 14 * 24 * 3600;

/** A token request needing interaction sends the browser to sign in for the same page and scopes at most once in this window. */
export const SIGN_IN_RETRY_WINDOW_MS = 2 * 60 * 1000;

/**
 * The framework-neutral request logic of sign-in, shared by the Express and Koa adapters: each
 * handler takes the request and the session and returns what to answer. The adapters only
 * translate requests, sessions and results.
 */
export class WebAuth {
  readonly options: ResolvedWebOptions;
  readonly #verifyLogoutToken: ReturnType<typeof createLogoutTokenVerifier>;

  constructor(options: AuthOptions) {
    this.options = resolveWebOptions(options);
    const index = this.options.sessionIndex;
    // Logout token ids are remembered where the index lives (Redis: seen by every instance).
    // A custom index without claimOnce: the ids are remembered in this process.
    const replays = index.claimOnce ? index : new MemorySessionIndex();
    const claimOnce = replays.claimOnce!.bind(replays);
    this.#verifyLogoutToken = createLogoutTokenVerifier(this.options.client, claimOnce);
    instrumentRoutes(this);
  }

  /**
   * `GET /login?returnTo=/path`: starts a flow (kept in the session) and sends the browser to the OP.
   * `domain_hint=<tenant domain or id>` is passed on; `tenant=<tenant id>` (a multi-tenant client,
   * a tenant in `allowedTenants`, else `invalid_argument` / `tenant_not_allowed`) signs in at that
   * tenant's own authority, as a guest invited there does; a signed-in user asked to sign in again
   * (more scopes, a claims challenge) does so in the session's tenant.
   */
  async login(request: WebRequest, session: SessionPort): Promise<WebResult> {
    const { client, scopes, redirectUri, maxSignIns } = this.options;
    const data = session.read();
    const consent = data.consent;
    const tenantId = tenantOf(request.query.tenant) ?? sessionTenant(client, data.user);
    const flow = await client.initiateAuthCodeFlow({
      scopes: [...scopes, ...(consent?.scopes ?? [])],
      redirectUri,
      ...(consent?.claims ? { claims: consent.claims } : {}),
      ...(data.user?.account.username ? { loginHint: data.user.account.username } : {}),
      ...(domainHintOf(request.query.domain_hint) ? { domainHint: domainHintOf(request.query.domain_hint)! } : {}),
      ...(tenantId ? { tenantId } : {}),
    });
    const returnTo = safeReturnTo(request.query.returnTo, this.options.baseUrl);
    this.#warnHostMismatch(request);
    session.write(withSignIn({ ...data, consent: undefined }, { flow, returnTo }, maxSignIns));
    // Nobody signed in yet: the session only carries this flow, and expires with it.
    if (!data.user) session.setLifetime?.(client.config.flowLifetimeSeconds * 1000);
    // Saved now, not at the end of the response: a store that is down fails here (503), before
    // the user types a password at the OP and comes back to a session that was never stored.
    try {
      await session.save();
    } catch (err) {
      session.write(data); // as it was: nothing left for the session middleware to save at the end
      throw err;
    }
    return redirect(flow.authUri);
  }

  /**
   * `GET|POST /callback`: redeems the code of the sign-in with this state (used up even when it
   * fails), then regenerates the session (fixation defence) keeping only ids and profile claims.
   */
  async callback(request: WebRequest, session: SessionPort): Promise<WebResult> {
    const { client } = this.options;
    const params = request.method === 'POST' ? request.body ?? {} : request.query;
    const data = session.read();
    const state = params.state;
    const pending = typeof state === 'string' ? data.signIns?.[state] : undefined;
    if (!pending || typeof state !== 'string') {
      const inFlight = Object.keys(data.signIns ?? {}).length > 0;
      const mismatch = this.#hostMismatch(request);
      // The likeliest cause in development: the app opened at one host, the OP returning to another.
      const hint = mismatch && !isProduction() ? `; ${mismatch.message} (the session cookie was probably set for the other host)` : '';
      throw new AuthError(inFlight ? 'state_mismatch' : 'flow_missing', {
        description: (inFlight ? 'this callback does not belong to a sign-in of this browser session' : 'no sign-in is in progress in this browser session') + hint,
      });
    }
    const { [state]: _used, ...otherSignIns } = data.signIns ?? {};
    session.write({ ...data, signIns: otherSignIns });

    const partition = `s.${randomUUID()}`;
    const result = await client.acquireTokenByAuthCodeFlow(pending.flow, params, { partition });
    const previous = data.user?.partition;
    await session.regenerate();
    const user: SignedInUser = { partition, account: result.account!, claims: profileClaims(result.idTokenClaims) };
    // The retry mark survives the new session: it is what stops a sign-in loop.
    session.write({ user, ...(data.signInRetry ? { signInRetry: data.signInRetry } : {}) });
    session.setLifetime?.(undefined);
    if (previous && previous !== partition) await this.#forget(previous);
    await this.#indexForBackchannel(user, session.id());
    // Sessions written before returnTo became absolute hold a path: judged again.
    return redirect(pending.returnTo.startsWith('/') ? safeReturnTo(pending.returnTo, this.options.baseUrl) : pending.returnTo);
  }

  /** `GET /logout`: a confirmation page whose button POSTs (a GET must never sign out: see logoutGuard.ts). */
  logoutPage(): WebResult {
    return logoutConfirmation(this.options.publicPaths.logout, this.options.postLogoutRedirectUri);
  }

  /**
   * `POST /logout` from the app's own pages (403 `cross_site_request` otherwise): drops the
   * session's tokens, its back-channel index entry and the session, then (option) signs out at the OP.
   */
  async logout(request: WebRequest, session: SessionPort): Promise<WebResult> {
    assertSameOrigin(request, this.options.baseUrl);
    const { client, idpLogout, postLogoutRedirectUri } = this.options;
    const user = session.read().user;
    const idToken = user && idpLogout && idpLogout.idTokenHint ? await this.#idTokenOf(user) : undefined;
    if (user) {
      await this.#unindex(user, session.id());
      await this.#forget(user.partition);
    }
    await session.destroy();
    if (!idpLogout) return redirect(postLogoutRedirectUri);
    const { endSessionEndpoint } = await client.discover();
    if (!endSessionEndpoint) return redirect(postLogoutRedirectUri);
    const url = new URL(endSessionEndpoint);
    url.searchParams.set('client_id', client.clientId);
    url.searchParams.set('post_logout_redirect_uri', postLogoutRedirectUri);
    const hint = user?.claims.login_hint;
    if (typeof hint === 'string') url.searchParams.set('logout_hint', hint);
    if (idToken) url.searchParams.set('id_token_hint', idToken);
    return redirect(url.href);
  }

  /**
   * `POST <routes.backchannelLogout>`: verifies the OP's logout token and ends the sessions it
   * names, with their token caches: those of its `sid`, or all of the user's (`sub`) when it names
   * no OP session. `destroySession` removes a session from the session store.
   */
  async backchannelLogout(request: WebRequest, destroySession: (sessionId: string) => Promise<void>): Promise<WebResult> {
    const subject = await this.#verifyLogoutToken(request.body?.logout_token);
    // A token naming an OP session ends that session only; without a sid, every session of the user (§2.4).
    const [key] = logoutKeys(subject.sid ? { iss: subject.iss, sid: subject.sid } : { iss: subject.iss, sub: subject.sub });
    const entries = new Set<string>(key ? await this.options.sessionIndex.take(key) : []);
    for (const entry of entries) {
      const [sessionId, partition] = entry.split('\n');
      if (sessionId) await destroySession(sessionId);
      if (partition) await this.#forget(partition);
    }
    return { kind: 'respond', status: 200, contentType: 'text/plain; charset=utf-8', body: '', headers: { 'cache-control': 'no-store' } };
  }

  /** The signed-in user of this session, if any. */
  user(session: SessionPort): SignedInUser | undefined {
    return session.read().user;
  }

  /** An access token for `scopes`: from the session's token cache, else by refreshing. */
  async getToken(session: SessionPort, scopes: readonly string[], options: GetTokenOptions = {}): Promise<string> {
    const user = session.read().user;
    if (!user) throw new AuthError('interaction_required', { description: 'nobody is signed in to this session', scopes: [...scopes] });
    const result = await this.options.client.acquireTokenSilent({
      scopes,
      account: user.account,
      partition: user.partition,
      ...(options.claims ? { claims: options.claims } : {}),
      ...(options.forceRefresh ? { forceRefresh: true } : {}),
    });
    const data = session.read();
    // The sign-in for these scopes worked: a later need for interaction gets its sign-in again
    // (the scopes' key is built only when a retry is remembered: most calls have none).
    if (data.signInRetry && data.signInRetry.scopes === scopesKey(scopes)) session.write({ ...data, signInRetry: undefined });
    return result.accessToken;
  }

  /** For `requireAuth()`: nothing when signed in, else a sign-in redirect (pages) or a 401 (APIs), for the request `request()` builds then. */
  requireUser(session: SessionPort, request: () => WebRequest): WebResult | undefined {
    if (session.read().user) return undefined;
    return this.#signInAnswer(request(), new AuthError('login_required', { description: 'sign in to see this page' }));
  }

  /**
   * The answer to a failure: an `AuthError` needing interaction becomes a sign-in asking for the
   * missing scopes (a redirect back to this page for page requests, a 401 naming the sign-in URL
   * for API requests); any other `AuthError` an error page or JSON with its status, logged with
   * the correlation id the page shows. A page that needed a sign-in for the same scopes less than
   * `SIGN_IN_RETRY_WINDOW_MS` ago gets an error page with the OP's reason instead of another
   * redirect. Returns undefined for errors that are not authflow's (the framework handles those).
   */
  errorResult(request: WebRequest, session: SessionPort | undefined, error: unknown): WebResult | undefined {
    if (!(error instanceof AuthError)) return undefined;
    if (!error.interactionRequired || !session) return this.failure(request, error);
    const data = session.read();
    const consent = error.scopes?.length || error.claims ? { scopes: [...(error.scopes ?? [])], ...(error.claims ? { claims: error.claims } : {}) } : data.consent;
    if (!isPageRequest(request)) {
      session.write({ ...data, consent });
      return this.#signInAnswer(request, error);
    }
    const key = retryKey(request, error);
    const last = data.signInRetry;
    if (last?.key === key && Date.now() - last.at < SIGN_IN_RETRY_WINDOW_MS) {
      return this.failure(request, signInDidNotHelp(error), { loginUri: this.#loginUri(request) });
    }
    session.write({ ...data, consent, signInRetry: { key, scopes: scopesKey(error.scopes ?? []), at: Date.now() } });
    this.#logger.debug({ code: error.code, path: pathOf(request.url) }, 'authflow: sending the browser to sign in');
    return this.#signInAnswer(request, error);
  }

  /** An error page or JSON for `error`, and its log line (the same correlation id on both). */
  failure(request: RequestShape, error: AuthError, extra: ErrorResultExtra = {}): WebResult {
    const path = pathOf(request.url);
    const signInRoute = [this.options.paths.login, this.options.paths.callback].some((route) => path.endsWith(route));
    const mismatch = signInRoute ? this.#hostMismatch(request) : undefined;
    const correlationId = reportFailure(this.#logger, request, error, mismatch ? { hostMismatch: mismatch.message } : {});
    return errorResult(request, error, { ...extra, correlationId });
  }

  get #logger() {
    return this.options.client.config.logger;
  }

  #loginUri(request: RequestShape): string {
    // The page to come back to, judged like any returnTo; its path alone keeps the URI short.
    const back = new URL(safeReturnTo(request.url, this.options.baseUrl));
    return `${this.options.publicPaths.login}?returnTo=${encodeURIComponent(back.pathname + back.search)}`;
  }

  #signInAnswer(request: WebRequest, error: AuthError): WebResult {
    const loginUri = this.#loginUri(request);
    if (isPageRequest(request)) return redirect(loginUri);
    // Not logged: an API call asked to sign in is the normal flow, not a failure.
    return errorResult(request, new AuthError(error.code, { description: error.description, status: 401, ...(error.correlationId ? { correlationId: error.correlationId } : {}) }), {
      loginUri,
      headers: { 'www-authenticate': `authflow error="${error.code}", login_uri="${loginUri}"` },
    });
  }

  /**
   * The request's host when it is not `baseUrl`'s: cookies set at one host are not sent to the
   * other, so a sign-in started at 127.0.0.1 cannot finish at localhost (where the OP returns).
   */
  #hostMismatch(request: RequestShape): { message: string } | undefined {
    const header = request.headers['x-forwarded-host'] ?? request.headers.host;
    const host = (Array.isArray(header) ? header[0] : header)?.split(',')[0]?.trim().toLowerCase();
    const expected = this.options.baseUrl.host;
    // Cookies are per host name, not port: only a different name loses the session.
    if (!host || hostname(host) === this.options.baseUrl.hostname) return undefined;
    return { message: `this request came to host "${host}" but baseUrl is ${this.options.baseUrl.origin} (host "${expected}"): open the app at ${this.options.baseUrl.origin}` };
  }

  /**
   * Logs a sign-in started at another host than baseUrl's, once per host. Not refused: behind a
   * proxy or under a test client (supertest) the Host header differs legitimately.
   */
  #warnHostMismatch(request: RequestShape): void {
    const mismatch = this.#hostMismatch(request);
    if (mismatch) reportOnce(this.#logger, 'warn', `host\n${mismatch.message}`, { path: pathOf(request.url) }, `authflow: sign-in started at another host; ${mismatch.message}`);
  }

  async #forget(partition: string): Promise<void> {
    await this.options.client.clearCache(partition).catch((err: unknown) => {
      this.options.client.config.logger.warn({ code: (err as AuthError).code }, 'authflow: could not clear a session\'s token cache; it expires by itself');
    });
  }

  async #indexForBackchannel(user: SignedInUser, sessionId: string | undefined): Promise<void> {
    if (!this.options.paths.backchannelLogout || !sessionId) return;
    const keys = logoutKeys({ iss: String(user.claims.iss ?? ''), sid: user.claims.sid, sub: user.claims.sub });
    if (keys.length === 0) return;
    await this.options.sessionIndex.add(keys, `${sessionId}\n${user.partition}`, INDEX_TTL_SECONDS).catch((err: unknown) => {
      this.options.client.config.logger.warn({ code: (err as AuthError).code }, 'authflow: could not index a session for back-channel logout');
    });
  }

  /** At logout: the session's entry leaves the back-channel index (it would otherwise stay for the index TTL). */
  async #unindex(user: SignedInUser, sessionId: string | undefined): Promise<void> {
    const index = this.options.sessionIndex;
    if (!this.options.paths.backchannelLogout || !sessionId || !index.remove) return;
    const keys = logoutKeys({ iss: String(user.claims.iss ?? ''), sid: user.claims.sid, sub: user.claims.sub });
    await index.remove(keys, `${sessionId}\n${user.partition}`).catch((err: unknown) => {
      this.options.client.config.logger.warn({ code: (err as AuthError).code }, 'authflow: could not remove a session from the back-channel logout index; it expires by itself');
    });
  }

  async #idTokenOf(user: SignedInUser): Promise<string | undefined> {
    try {
      const cache = JSON.parse(await this.options.client.exportCache(user.partition)) as { IdToken?: Record<string, { secret?: string }> };
      return Object.values(cache.IdToken ?? {})[0]?.secret;
    } catch {
      return undefined;
    }
  }
}

/** Page requests (a browser navigating) are redirected to sign in; API calls get a 401. */
function isPageRequest(request: RequestShape): boolean {
  return request.method === 'GET' && !wantsJson(request);
}

/** The page and scopes (and claims challenge) a sign-in was started for. */
function retryKey(request: RequestShape, error: AuthError): string {
  return [pathOf(request.url), scopesKey(error.scopes ?? []), error.claims ?? ''].join('\n');
}

const scopesKey = (scopes: readonly string[]): string => scopes.map((s) => s.toLowerCase()).sort().join(' ');

/** The error page after a sign-in did not get what the page needs: the OP's reason, and which scopes. */
function signInDidNotHelp(error: AuthError): AuthError {
  const scopes = error.scopes?.length ? ` for ${error.scopes.join(' ')}` : '';
  return new AuthError(error.code, {
    status: 403,
    description: `signing in again did not get a token${scopes}; the sign-in service said: ${error.description}`,
    ...(error.correlationId ? { correlationId: error.correlationId } : {}),
    ...(error.opError ? { opError: error.opError } : {}),
    ...(error.suberror ? { suberror: error.suberror } : {}),
    ...(error.scopes ? { scopes: error.scopes } : {}),
  });
}

/** The name part of a Host header (`[::1]:3000` -> `[::1]`). */
const hostname = (host: string): string => host.replace(/:\d+$/, '');

/** A `domain_hint` worth passing on: a tenant domain or GUID (letters, digits, dots, dashes); anything else is dropped. */
function domainHintOf(value: unknown): string | undefined {
  return typeof value === 'string' && /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/.test(value) ? value : undefined;
}

/**
 * A signed-in user asked to sign in again (more scopes, a claims challenge) on a multi-tenant
 * authority: in the tenant the session signed in to, not wherever `/organizations` would send
 * them (a guest would come back as her home identity).
 */
function sessionTenant(client: ResolvedWebOptions['client'], user: SignedInUser | undefined): string | undefined {
  const tenantId = user?.account.tenantId;
  return client.config.authority.multiTenant && typeof tenantId === 'string' && isTenantGuid(tenantId) ? tenantId : undefined;
}

/** `tenant=<tenant id>` of `/login`: a GUID, else `400 invalid_request` (a page asked for a tenant it cannot name). */
function tenantOf(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !isTenantGuid(value)) throw new AuthError('invalid_request', { description: 'tenant must be a tenant id (GUID)' });
  return value;
}
