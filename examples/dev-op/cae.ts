/**
 * Continuous Access Evaluation (CAE) as Entra does it, for the dev OP:
 * - a token request whose `claims` carry `{"access_token":{"xms_cc":{"values":["CP1"]}}}` (a client
 *   announcing it handles claims challenges) gets a long-lived access token carrying `xms_cc`
 *   (Entra issues such tokens for 20-28 hours instead of about one);
 * - `revoke(oid)` is a critical event (password reset, "revoke sessions", account disabled): the
 *   user's TokensValidFrom moves to now, a refresh token issued before it is refused with
 *   AADSTS50173, and a resource API asking {@link CaeState.tokensValidFrom} refuses older access
 *   tokens with a claims challenge (Entra's resource providers learn of the event the same way).
 * Plus the checks every grant runs first: injected AADSTS faults, and the refresh token's own
 * expiry (AADSTS700082).
 *
 * @see https://learn.microsoft.com/entra/identity/conditional-access/concept-continuous-access-evaluation
 */
import { interactionPolicy, type KoaContextWithOIDC, type Provider } from 'oidc-provider';
import { answerAadsts, faultApplies, type AadstsFault } from './aadsts.js';

/** Lifetime of a CAE access token, seconds (Entra: 20-28 hours; the dev OP picks 24). */
export const CAE_ACCESS_TOKEN_TTL = 24 * 3600;

/** The capability that makes a token request a CAE one. */
const CP1 = 'CP1';

/** Who was revoked when: each user's TokensValidFrom (epoch seconds). */
export class CaeState {
  readonly #validFrom = new Map<string, number>();
  readonly #claims: Array<{ grantType: string; claims: string | undefined }> = [];

  /** Records the `claims` parameter of a token request (at most the last 50). */
  recordClaims(grantType: unknown, claims: unknown): void {
    this.#claims.push({ grantType: String(grantType), claims: typeof claims === 'string' ? claims : undefined });
    if (this.#claims.length > 50) this.#claims.shift();
  }

  /** The `claims` parameters of recent token requests, per grant type (most recent last). */
  claimsSeen(): Array<{ grantType: string; claims: string | undefined }> {
    return this.#claims.map((c) => ({ ...c }));
  }

  /**
   * Revokes every token of the user issued until now. Resolves once the clock has passed into
   * the next second, so a token issued afterwards (`iat` has whole seconds) is never mistaken for
   * a revoked one.
   */
  async revoke(oid: string): Promise<number> {
    const validFrom = Math.floor(Date.now() / 1000) + 1;
    this.#validFrom.set(oid, validFrom);
    const wait = validFrom * 1000 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    return validFrom;
  }

  /** The user's TokensValidFrom (epoch seconds), if they were revoked: tokens issued before it are not valid. */
  tokensValidFrom(oid: string): number | undefined {
    return this.#validFrom.get(oid);
  }

  /** True when a token of `oid` issued at `iat` (epoch seconds) was revoked. */
  isRevoked(oid: string | undefined, iat: number | undefined): boolean {
    const from = oid === undefined ? undefined : this.#validFrom.get(oid);
    return from !== undefined && (iat === undefined || iat < from);
  }
}

/**
 * oidc-provider's interaction policy, plus Entra's rule that a revoked user's sign-in session is
 * gone too: a session that logged in before the user's TokensValidFrom asks for the login again
 * (the claims challenge's sign-in cannot be completed silently).
 */
export function caeInteractionPolicy(state: CaeState | undefined): unknown {
  const policy = interactionPolicy.base();
  if (!state) return policy;
  const { Check } = interactionPolicy;
  const login = policy.get('login') as { checks: unknown[] };
  login.checks.push(new Check('cae_revoked', 'the session was revoked (Continuous Access Evaluation)', (ctx: KoaContextWithOIDC) => {
    const session = ctx.oidc.session as { accountId?: string; loginTs?: number } | undefined;
    return session?.accountId && state.isRevoked(session.accountId, session.loginTs) ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
  }));
  return policy;
}

/** True when this token request's `claims` announce the CP1 capability (`access_token.xms_cc.values`). */
export function requestsCae(ctx: KoaContextWithOIDC | undefined): boolean {
  const claims = ctx?.oidc?.body?.['claims'] ?? ctx?.oidc?.params?.['claims'];
  if (typeof claims !== 'string' || claims === '') return false;
  try {
    const values = (JSON.parse(claims) as { access_token?: { xms_cc?: { values?: unknown } } })?.access_token?.xms_cc?.values;
    return Array.isArray(values) && values.includes(CP1);
  } catch {
    return false;
  }
}

/** Access-token lifetime for this request: {@link CAE_ACCESS_TOKEN_TTL} (or `caeTtl`) for CAE requests, else `ttl`. */
export function accessTokenLifetime(ctx: KoaContextWithOIDC | undefined, ttl: number, caeTtl = CAE_ACCESS_TOKEN_TTL): number {
  return requestsCae(ctx) ? caeTtl : ttl;
}

/** Adds Entra's `xms_cc` claim to a JWT access token issued for a CAE request. */
export function markCaeToken(ctx: KoaContextWithOIDC | undefined, payload: Record<string, unknown>): void {
  if (requestsCae(ctx)) payload['xms_cc'] = [CP1];
}

/** What the grant checks need. */
export interface TokenCheckSettings {
  state: CaeState;
  tenantId: string;
  /** The injected AADSTS fault, if any. */
  fault: () => AadstsFault | undefined;
  /** Username of a user id (for 50020's text). */
  usernameOf: (oid: string | undefined) => string | undefined;
}

/**
 * The checks Entra runs before a grant does anything (so a refused refresh token is not rotated):
 * an injected AADSTS fault for this grant type; for `refresh_token`, the token's own expiry
 * (AADSTS700082) and the user's revocation (AADSTS50173). Returns true when it answered.
 */
export function tokenChecks(provider: Provider, settings: TokenCheckSettings): (ctx: KoaContextWithOIDC) => Promise<boolean> {
  return async (ctx) => {
    const { params, client } = ctx.oidc;
    const grantType = params['grant_type'];
    settings.state.recordClaims(grantType, ctx.oidc.body?.['claims']);
    const clientId = client?.clientId ?? '';
    const refresh = grantType === 'refresh_token' && typeof params['refresh_token'] === 'string'
      ? await provider.RefreshToken.find(params['refresh_token'] as string, { ignoreExpiration: true })
      : undefined;
    const fault = settings.fault();
    if (faultApplies(fault, grantType)) {
      answerAadsts(provider, ctx, fault.code, {
        clientId, tenantId: settings.tenantId, username: settings.usernameOf(refresh?.accountId), issuedAt: refresh?.iat,
        validFrom: refresh ? settings.state.tokensValidFrom(refresh.accountId) : undefined,
      }, fault.claims);
      return true;
    }
    if (!refresh || refresh.clientId !== clientId || refresh.consumed) return false;
    if (refresh.isExpired) {
      answerAadsts(provider, ctx, 700082, { clientId, tenantId: settings.tenantId, issuedAt: refresh.iat });
      return true;
    }
    if (settings.state.isRevoked(refresh.accountId, refresh.iat)) {
      answerAadsts(provider, ctx, 50173, { clientId, tenantId: settings.tenantId, issuedAt: refresh.iat, validFrom: settings.state.tokensValidFrom(refresh.accountId) });
      return true;
    }
    return false;
  };
}
