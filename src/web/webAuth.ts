import { randomUUID } from 'node:crypto';
import { AuthError } from '../errors.js';
import { createLogoutTokenVerifier, logoutKeys } from './logoutToken.js';
import { resolveWebOptions, type ResolvedWebOptions, type WebAuthOptions } from './options.js';
import { errorResult, redirect, wantsJson, type RequestShape, type WebResult } from './render.js';
import { safeReturnTo } from './returnTo.js';
import { profileClaims, withSignIn, type SessionPort, type SignedInUser } from './session.js';

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

/**
 * The framework-neutral request logic of sign-in, shared by the Express and Koa adapters: each
 * handler takes the request and the session and returns what to answer. The adapters only
 * translate requests, sessions and results.
 */
export class WebAuth {
  readonly options: ResolvedWebOptions;
  readonly #verifyLogoutToken: ReturnType<typeof createLogoutTokenVerifier>;

  constructor(options: WebAuthOptions) {
    this.options = resolveWebOptions(options);
    this.#verifyLogoutToken = createLogoutTokenVerifier(this.options.client);
  }

  /** `GET /login?returnTo=/path`: starts a flow (kept in the session) and sends the browser to the OP. */
  async login(request: WebRequest, session: SessionPort): Promise<WebResult> {
    const { client, scopes, redirectUri, maxSignIns } = this.options;
    const data = session.read();
    const consent = data.consent;
    const flow = await client.initiateAuthCodeFlow({
      scopes: [...scopes, ...(consent?.scopes ?? [])],
      redirectUri,
      ...(consent?.claims ? { claims: consent.claims } : {}),
      ...(data.user?.account.username ? { loginHint: data.user.account.username } : {}),
    });
    const returnTo = safeReturnTo(request.query.returnTo);
    session.write(withSignIn({ ...data, consent: undefined }, { flow, returnTo }, maxSignIns));
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
      throw new AuthError(inFlight ? 'state_mismatch' : 'flow_missing', {
        description: inFlight ? 'this callback does not belong to a sign-in of this browser session' : 'no sign-in is in progress in this browser session',
      });
    }
    const { [state]: _used, ...otherSignIns } = data.signIns ?? {};
    session.write({ ...data, signIns: otherSignIns });

    const partition = `s.${randomUUID()}`;
    const result = await client.acquireTokenByAuthCodeFlow(pending.flow, params, { partition });
    const previous = data.user?.partition;
    await session.regenerate();
    const user: SignedInUser = { partition, account: result.account!, claims: profileClaims(result.idTokenClaims) };
    session.write({ user });
    if (previous && previous !== partition) await this.#forget(previous);
    await this.#indexForBackchannel(user, session.id());
    return redirect(pending.returnTo);
  }

  /** `GET|POST /logout`: drops the session's tokens and the session, then (option) signs out at the OP. */
  async logout(_request: WebRequest, session: SessionPort): Promise<WebResult> {
    const { client, idpLogout, postLogoutRedirectUri } = this.options;
    const user = session.read().user;
    const idToken = user && idpLogout && idpLogout.idTokenHint ? await this.#idTokenOf(user) : undefined;
    if (user) await this.#forget(user.partition);
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
    return result.accessToken;
  }

  /** For `requireAuth()`: nothing when signed in, else a sign-in redirect (pages) or a 401 (APIs). */
  requireUser(request: WebRequest, session: SessionPort): WebResult | undefined {
    if (session.read().user) return undefined;
    return this.#signInAnswer(request, new AuthError('login_required', { description: 'sign in to see this page' }));
  }

  /**
   * The answer to a failure: an `AuthError` needing interaction becomes a sign-in asking for the
   * missing scopes (a redirect back to this page for page requests, a 401 naming the sign-in URL
   * for API requests); any other `AuthError` an error page or JSON with its status. Returns
   * undefined for errors that are not authflow's (the framework handles those).
   */
  errorResult(request: WebRequest, session: SessionPort | undefined, error: unknown): WebResult | undefined {
    if (!(error instanceof AuthError)) return undefined;
    if (!error.interactionRequired || !session) return errorResult(request, error);
    if (error.scopes?.length || error.claims) {
      session.write({ ...session.read(), consent: { scopes: [...(error.scopes ?? [])], ...(error.claims ? { claims: error.claims } : {}) } });
    }
    return this.#signInAnswer(request, error);
  }

  #signInAnswer(request: WebRequest, error: AuthError): WebResult {
    const loginUri = `${this.options.publicPaths.login}?returnTo=${encodeURIComponent(safeReturnTo(request.url))}`;
    if (request.method === 'GET' && !wantsJson(request)) return redirect(loginUri);
    return errorResult(request, new AuthError(error.code, { description: error.description, status: 401, ...(error.correlationId ? { correlationId: error.correlationId } : {}) }), {
      loginUri,
      headers: { 'www-authenticate': `authflow error="${error.code}", login_uri="${loginUri}"` },
    });
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

  async #idTokenOf(user: SignedInUser): Promise<string | undefined> {
    try {
      const cache = JSON.parse(await this.options.client.exportCache(user.partition)) as { IdToken?: Record<string, { secret?: string }> };
      return Object.values(cache.IdToken ?? {})[0]?.secret;
    } catch {
      return undefined;
    }
  }
}
