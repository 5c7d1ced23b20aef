import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { ConfidentialClient } from '../client.js';
import { AuthError } from '../errors.js';

const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const ALGORITHMS = ['RS256', 'PS256', 'ES256'];
/** A logout token is sent the moment the user signs out at the OP: older ones are refused. */
export const LOGOUT_TOKEN_MAX_AGE_SECONDS = 120;
/** Clock difference tolerated between the OP and this app. */
const SKEW_SECONDS = 60;

/** Remembers a token id; true the first time it is seen (within `ttlSeconds`), false on a replay. */
export type ClaimOnce = (id: string, ttlSeconds: number) => Promise<boolean>;

/** Who a verified logout token says is signed out: the OP session, the user, or both. */
export interface LogoutSubject {
  iss: string;
  sid: string | undefined;
  sub: string | undefined;
}

/**
 * Verifies a back-channel logout token (OpenID Connect Back-Channel Logout 1.0 §2.6): signature
 * with the OP's keys (asymmetric algorithms only), `iss`, `aud` = our client id, `iat`, a `jti`,
 * the back-channel `events` member, no `nonce`, and a `sid` or `sub`. Beyond the spec's minimum
 * (its §2.6 lets the RP refuse old tokens and replays): `iat` at most 2 minutes old and not in the
 * future (1 minute of clock skew either way), `exp` when present, and each `jti` accepted once
 * (`claimOnce` remembers it as long as the token could still pass the `iat` check).
 *
 * @see https://openid.net/specs/openid-connect-backchannel-1_0.html#Validation
 */
export function createLogoutTokenVerifier(client: ConfidentialClient, claimOnce: ClaimOnce): (token: unknown) => Promise<LogoutSubject> {
  let keys: ReturnType<typeof createRemoteJWKSet> | undefined;
  return async (token) => {
    if (typeof token !== 'string' || token.length === 0 || token.length > 16_384 || token.split('.').length !== 3) {
      throw refused('the logout_token is missing or malformed');
    }
    const { issuer, jwksUri } = await client.discover();
    if (!jwksUri) throw new AuthError('op_bad_response', { description: 'the OP publishes no jwks_uri' });
    keys ??= createRemoteJWKSet(new URL(jwksUri));
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, { issuer, audience: client.clientId, algorithms: ALGORITHMS, requiredClaims: ['iat', 'jti'], clockTolerance: 60 }));
    } catch (err) {
      throw refused(`the logout_token was refused: ${(err as { code?: string }).code ?? 'invalid'}`);
    }
    const events = payload.events as Record<string, unknown> | undefined;
    if (!events || typeof events !== 'object' || typeof events[BACKCHANNEL_EVENT] !== 'object' || events[BACKCHANNEL_EVENT] === null) {
      throw refused('the logout_token lacks the back-channel logout event');
    }
    if ('nonce' in payload) throw refused('a logout_token must not carry a nonce');
    const sid = typeof payload.sid === 'string' && payload.sid ? payload.sid : undefined;
    const sub = typeof payload.sub === 'string' && payload.sub ? payload.sub : undefined;
    if (!sid && !sub) throw refused('the logout_token names neither sid nor sub');
    if (typeof payload.jti !== 'string' || payload.jti.length === 0) throw refused('the logout_token lacks a jti');
    const ttlSeconds = freshFor(payload.iat!);
    if (!(await claimOnce(`${payload.iss}|${payload.jti}`, ttlSeconds))) throw refused('the logout_token was already used (jti replayed)');
    return { iss: String(payload.iss), sid, sub };
  };
}

const refused = (description: string): AuthError => new AuthError('invalid_request', { description });

/**
 * Refuses an `iat` in the future or older than the maximum age (with `exp` or without: an
 * ageless token could otherwise be replayed for ever); answers how many more seconds the token
 * would pass this check, which is how long its `jti` must be remembered.
 */
function freshFor(iat: number): number {
  const now = Math.floor(Date.now() / 1000);
  if (iat > now + SKEW_SECONDS) throw refused('the logout_token was issued in the future');
  const left = iat + LOGOUT_TOKEN_MAX_AGE_SECONDS + SKEW_SECONDS - now;
  if (left < 0) throw refused('the logout_token is too old');
  return left + 1;
}

/** Index keys under which a sign-in is filed, matching what a logout token names. */
export function logoutKeys(subject: { iss: string; sid?: unknown; sub?: unknown }): string[] {
  const keys: string[] = [];
  if (typeof subject.sid === 'string' && subject.sid) keys.push(`sid:${subject.iss}:${subject.sid}`);
  if (typeof subject.sub === 'string' && subject.sub) keys.push(`sub:${subject.iss}:${subject.sub}`);
  return keys;
}
