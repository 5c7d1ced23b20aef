import { AuthError } from '../errors.js';
import type { ClientConfig } from '../config.js';

/**
 * The `claims` parameter a token or authorization request carries, as MSAL builds it
 * (msal-common `buildMergedClaims`): the request's own claims (a challenge, JSON), with the
 * client's capabilities set as `access_token.xms_cc.values` — they replace an `xms_cc` the request
 * named, and every other member of the request's claims is kept. Undefined when there is neither.
 * A request's claims that are not a JSON object are refused (`invalid_argument`, naming `claims`).
 *
 * @see https://learn.microsoft.com/entra/identity-platform/claims-challenge , https://openid.net/specs/openid-connect-core-1_0.html#ClaimsParameter
 */
export function mergeClaims(claims: string | undefined, capabilities: readonly string[]): string | undefined {
  const own = claims === undefined || claims === '' ? undefined : parseClaims(claims);
  if (capabilities.length === 0) return own === undefined ? undefined : claims;
  const merged: Record<string, unknown> = { ...own };
  const accessToken = merged.access_token;
  merged.access_token = { ...(isObject(accessToken) ? accessToken : {}), xms_cc: { values: [...capabilities] } };
  return JSON.stringify(merged);
}

/** {@link mergeClaims} with the client's configured capabilities. */
export function requestClaims(config: Pick<ClientConfig, 'clientCapabilities'>, claims: string | undefined): string | undefined {
  return mergeClaims(claims, config.clientCapabilities);
}

/** Adds `claims` to form parameters when there are any (see {@link requestClaims}). */
export function withClaims(config: Pick<ClientConfig, 'clientCapabilities'>, parameters: Record<string, string>, claims?: string): Record<string, string> {
  const merged = requestClaims(config, claims);
  if (merged !== undefined) parameters.claims = merged;
  return parameters;
}

function parseClaims(claims: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(claims);
  } catch {
    parsed = undefined;
  }
  if (!isObject(parsed)) throw new AuthError('invalid_argument', { description: 'claims must be a JSON object (a claims request or an API\'s decoded claims challenge)' });
  return parsed;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
