import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { ConfidentialClient } from '../client.js';
import { AuthError } from '../errors.js';

const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const ALGORITHMS = ['RS256', 'PS256', 'ES256'];

/** Who a verified logout token says is signed out: the OP session, the user, or both. */
export interface LogoutSubject {
  iss: string;
  sid: string | undefined;
  sub: string | undefined;
}

/**
 * Verifies a back-channel logout token (OpenID Connect Back-Channel Logout 1.0 §2.6): signature
 * with the OP's keys (asymmetric algorithms only), `iss`, `aud` = our client id, `iat`, a `jti`,
 * the back-channel `events` member, no `nonce`, and a `sid` or `sub`.
 *
 * @see https://openid.net/specs/openid-connect-backchannel-1_0.html#Validation
 */
export function createLogoutTokenVerifier(client: ConfidentialClient): (token: unknown) => Promise<LogoutSubject> {
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
    return { iss: String(payload.iss), sid, sub };
  };
}

const refused = (description: string): AuthError => new AuthError('invalid_request', { description });

/** Index keys under which a sign-in is filed, matching what a logout token names. */
export function logoutKeys(subject: { iss: string; sid?: unknown; sub?: unknown }): string[] {
  const keys: string[] = [];
  if (typeof subject.sid === 'string' && subject.sid) keys.push(`sid:${subject.iss}:${subject.sid}`);
  if (typeof subject.sub === 'string' && subject.sub) keys.push(`sub:${subject.iss}:${subject.sub}`);
  return keys;
}
