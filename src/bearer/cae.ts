/**
 * Continuous Access Evaluation (CAE) on the web-API side: the claims challenge an API answers
 * when a user's tokens were revoked mid-flight, in Entra's shape, and the reader a client uses to
 * pass that challenge back to the OP (`req.getToken(scopes, { claims })`).
 *
 * @see https://learn.microsoft.com/entra/identity-platform/claims-challenge , https://www.rfc-editor.org/rfc/rfc6750#section-3
 */

/** The capability a client announces (`clientCapabilities: ['CP1']`) to get CAE tokens. */
export const CAE_CAPABILITY = 'CP1';

/**
 * Entra's CAE claims challenge for tokens issued before `validFrom` (epoch seconds):
 * `{"access_token":{"nbf":{"essential":true,"value":"<validFrom>"}}}` — the next token must not
 * be older than the revocation.
 */
export function caeClaimsChallenge(validFrom: number): string {
  if (!Number.isInteger(validFrom) || validFrom < 0) throw new TypeError('validFrom must be epoch seconds');
  return JSON.stringify({ access_token: { nbf: { essential: true, value: String(validFrom) } } });
}

/** Options of {@link insufficientClaimsChallenge}. */
export interface ClaimsChallengeOptions {
  /** The `realm` attribute. Default `""`, as Entra's resource providers send it. */
  realm?: string;
  /** The API's client id (`client_id` attribute), as Microsoft Graph sends it. */
  clientId?: string;
  /** Where to get a new token (`authorization_uri` attribute). */
  authorizationUri?: string;
}

/**
 * The `WWW-Authenticate` value of a 401 carrying a claims challenge, as Entra's resource
 * providers answer it: `Bearer realm="", error="insufficient_claims", claims="<base64 of the JSON>"`.
 */
export function insufficientClaimsChallenge(claims: string, options: ClaimsChallengeOptions = {}): string {
  const attributes = [`realm="${quote(options.realm ?? '')}"`];
  if (options.authorizationUri) attributes.push(`authorization_uri="${quote(options.authorizationUri)}"`);
  if (options.clientId) attributes.push(`client_id="${quote(options.clientId)}"`);
  attributes.push('error="insufficient_claims"', `claims="${Buffer.from(claims, 'utf8').toString('base64')}"`);
  return `Bearer ${attributes.join(', ')}`;
}

/**
 * The claims challenge (JSON) in a 401's `WWW-Authenticate` header, decoded; undefined when the
 * header is not a Bearer challenge with `error="insufficient_claims"` and a `claims` that decodes
 * to a JSON object. Pass it to `req.getToken(scopes, { claims })` / `acquireTokenSilent({ claims })`.
 *
 * @example
 * ```ts
 * const answer = await fetch(ordersUrl, { headers: { authorization: `Bearer ${token}` } });
 * const claims = answer.status === 401 ? parseClaimsChallenge(answer.headers.get('www-authenticate')) : undefined;
 * if (claims) token = await req.getToken(scopes, { claims }); // may send the browser to sign in again
 * ```
 */
export function parseClaimsChallenge(header: string | null | undefined): string | undefined {
  if (typeof header !== 'string' || header.length > 8192) return undefined;
  const bearer = /(?:^|,)\s*Bearer\s+(.*)$/is.exec(header);
  if (!bearer) return undefined;
  const attributes = new Map<string, string>();
  for (const [, name, value] of bearer[1]!.matchAll(/([A-Za-z_][\w-]*)\s*=\s*"([^"]*)"/g)) {
    if (!attributes.has(name!.toLowerCase())) attributes.set(name!.toLowerCase(), value!);
  }
  if (attributes.get('error') !== 'insufficient_claims') return undefined;
  const encoded = attributes.get('claims');
  if (!encoded || !/^[A-Za-z0-9+/_-]+=*$/.test(encoded)) return undefined;
  const json = Buffer.from(encoded, 'base64').toString('utf8');
  try {
    const parsed: unknown = JSON.parse(json);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? json : undefined;
  } catch {
    return undefined;
  }
}

/** True when a validated token's `xms_cc` names the CP1 capability (a CAE token: its client handles claims challenges). */
export function isCaeToken(claims: Record<string, unknown>): boolean {
  const cc = claims['xms_cc'];
  return Array.isArray(cc) ? cc.includes(CAE_CAPABILITY) : cc === CAE_CAPABILITY;
}

const quote = (value: string): string => value.replace(/["\\\r\n]/g, ' ').slice(0, 500);
