import type { AuthCodeFlow } from '../flows/authCode.js';
import type { AccountInfo } from '../results.js';

/** A sign-in waiting for its callback: the flow (with its PKCE verifier) and where to go after. */
export interface PendingSignIn {
  flow: AuthCodeFlow;
  /** Where to go after sign-in: an absolute URL on the app's origin (see `safeReturnTo`). */
  returnTo: string;
}

/** Who is signed in to this session: ids and profile claims, never a token. */
export interface SignedInUser {
  /** The token cache partition holding this session's tokens. */
  partition: string;
  account: AccountInfo;
  /** The ID token's claims (profile data; the ID token itself stays in the token cache). */
  claims: Record<string, unknown>;
}

/** What authflow keeps in the server-side session, under the key `authflow`. */
export interface AuthSessionData {
  /** Sign-ins in flight, by state: several tabs may sign in at once (a few at most). */
  signIns?: Record<string, PendingSignIn>;
  user?: SignedInUser;
  /** What the next sign-in must ask for, after a token request needed consent or a claims challenge. */
  consent?: { scopes: string[]; claims?: string };
  /**
   * The last sign-in authflow started because a token request needed interaction: which page and
   * scopes, and when. A second failure for the same within the retry window is shown, not retried
   * (no redirect loop when the OP will never grant a scope). A token then obtained for those
   * scopes clears it: the sign-in worked.
   */
  signInRetry?: { key: string; scopes: string; at: number };
}

/**
 * The session operations the web layer needs; each adapter implements them over its framework's
 * session (express-session, koa-session).
 */
export interface SessionPort {
  /** authflow's part of the session (an empty object when there is none). */
  read(): AuthSessionData;
  write(data: AuthSessionData): void;
  /** A new session id with no data (session fixation defence at sign-in). */
  regenerate(): Promise<void>;
  destroy(): Promise<void>;
  /** Writes the session to its store now (before the browser leaves for the OP). */
  save(): Promise<void>;
  /** The session's id in its store, after `regenerate`, for back-channel logout. */
  id(): string | undefined;
  /**
   * How long the session lives from now, in ms; `undefined` restores the full session lifetime.
   * A session holding only sign-ins in flight lives as long as a flow, so cookieless requests to
   * `/login` cannot fill the session store with sessions that last for hours.
   */
  setLifetime?(ms: number | undefined): void;
}

export const SESSION_KEY = 'authflow';

const NO_DATA: AuthSessionData = Object.freeze({});

/** authflow's part of a framework session object (an empty, frozen object when there is none). */
export function authDataOf(session: Record<string, unknown>): AuthSessionData {
  return (session[SESSION_KEY] as AuthSessionData | undefined) ?? NO_DATA;
}

/** A framework session with a cookie whose `maxAge` the store also uses as the TTL (express-session, @fastify/session). */
type CookieSession = Record<string, unknown> & { cookie: { maxAge?: number | null } };

/**
 * The `SessionPort` over a cookie session: the adapter says how to reach the request's session,
 * how to run its regenerate/destroy/save, its id and its full lifetime. One per request, methods
 * on the class: a request makes no closures.
 */
export abstract class CookieSessionPort<S extends CookieSession> implements SessionPort {
  /** The request's session; `invalid_config` when there is none. */
  protected abstract current(): S;
  /** Runs the session's own operation, its failure as `store_unavailable`. */
  protected abstract settle(operation: 'regenerate' | 'destroy' | 'save'): Promise<void>;
  /** The lifetime `authSession()` was given, ms (restored by `setLifetime(undefined)`). */
  protected abstract fullLifetime(): number | undefined;
  abstract id(): string | undefined;

  read(): AuthSessionData {
    return authDataOf(this.current());
  }

  write(data: AuthSessionData): void {
    (this.current() as CookieSession)[SESSION_KEY] = data;
  }

  regenerate(): Promise<void> {
    return this.settle('regenerate');
  }

  destroy(): Promise<void> {
    return this.settle('destroy');
  }

  save(): Promise<void> {
    return this.settle('save');
  }

  setLifetime(ms: number | undefined): void {
    const maxAge = ms ?? this.fullLifetime();
    if (maxAge !== undefined) this.current().cookie.maxAge = maxAge;
  }
}

/** Claims not worth keeping in the session (one-time values and hashes). */
const TRANSIENT_CLAIMS = new Set(['nonce', 'at_hash', 'c_hash', 's_hash', 'aio', 'uti', 'rh']);

export function profileClaims(claims: Record<string, unknown> | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(claims ?? {}).filter(([name]) => !TRANSIENT_CLAIMS.has(name)));
}

/** Adds a pending sign-in, dropping the oldest beyond `max`. */
export function withSignIn(data: AuthSessionData, pending: PendingSignIn, max: number): AuthSessionData {
  const signIns = { ...data.signIns, [pending.flow.state]: pending };
  const states = Object.keys(signIns).sort((a, b) => signIns[a]!.flow.createdAt - signIns[b]!.flow.createdAt);
  for (const state of states.slice(0, Math.max(0, states.length - max))) delete signIns[state];
  return { ...data, signIns };
}
