import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { AuthError } from '../errors.js';
import { nowSeconds, refreshTokenCandidates, type CacheScope, type TokenResponseFields } from '../cache/tokenCache.js';
import type { CacheEntities } from '../cache/entities.js';
import { normalizeScopes } from '../cache/scopes.js';
import type { TokenResult } from '../results.js';
import { oboPartition, type FlowContext } from './context.js';
import { cachedToken } from './cachedToken.js';
import { withClaims } from './claims.js';

/** What {@link ConfidentialClient.acquireTokenOnBehalfOf} needs. */
export interface OnBehalfOfRequest {
  /** The access token your API received (validate it first, e.g. with `validateBearer`). */
  userAssertion: string;
  /** Scopes of the downstream API, e.g. `['api://inventory/Inventory.Read']`. */
  scopes: readonly string[];
}

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/**
 * On-Behalf-Of (Entra's jwt-bearer exchange): trades the caller's access token for one to a
 * downstream API, as the same user. Cached in a partition keyed by SHA-256 of the assertion, so
 * the same assertion and scopes make no second request; an OBO refresh token, when the OP gives
 * one, renews the access token after it expires.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/v2-oauth2-on-behalf-of-flow , https://www.rfc-editor.org/rfc/rfc7523#section-2.1
 */
export async function acquireTokenOnBehalfOf(ctx: FlowContext, request: OnBehalfOfRequest): Promise<TokenResult> {
  const assertion = request?.userAssertion;
  if (typeof assertion !== 'string' || assertion === '') throw new AuthError('invalid_argument', { description: 'userAssertion must be the incoming access token' });
  const scopes = normalizeScopes(request.scopes);
  if (scopes.length === 0) throw new AuthError('invalid_argument', { description: 'scopes must name at least one scope' });
  const assertionHash = createHash('sha256').update(assertion).digest('base64url');
  const scope = oboCacheScope(ctx, assertion, assertionHash);
  return cachedToken(ctx, {
    partition: oboPartition(assertionHash),
    scope,
    scopes,
    // A multi-tenant authority: at the assertion's tenant (a guest's token goes to the guest tenant, not its home).
    request: async (entities) => (await redeemRefreshToken(ctx, entities, scope, scopes)
      ?? await ctx.op.call((configuration) => oidc.genericGrantRequest(configuration, JWT_BEARER_GRANT, oboParameters(ctx, assertion, scopes)), { tenantId: scope.realm })) as unknown as TokenResponseFields,
    // Worth keeping while the assertion can come back, and while its token lives.
    ttlSeconds: (accessToken) => Math.max(scope.assertionExpiresAt, Number(accessToken.expires_on)) - nowSeconds(),
  });
}

/** The OBO refresh token, if one is cached; `undefined` when there is none or the OP refused it (the assertion is tried instead). */
async function redeemRefreshToken(ctx: FlowContext, entities: CacheEntities, scope: CacheScope, scopes: string[]) {
  const [refreshToken] = refreshTokenCandidates(entities, scope);
  if (!refreshToken) return undefined;
  try {
    return await ctx.op.call((configuration) => oidc.refreshTokenGrant(configuration, refreshToken.entity.secret, withClaims(ctx.config, { scope: [...scopes, 'offline_access'].join(' ') })), { tenantId: scope.realm });
  } catch (err) {
    if (err instanceof AuthError && err.interactionRequired) return undefined;
    throw err;
  }
}

function oboParameters(ctx: FlowContext, assertion: string, scopes: string[]): Record<string, string> {
  const parameters: Record<string, string> = {
    assertion,
    requested_token_use: 'on_behalf_of',
    scope: [...scopes, 'offline_access'].join(' '),
  };
  if (ctx.config.authority.type === 'entra') parameters.client_info = '1';
  return withClaims(ctx.config, parameters);
}

/**
 * Cache coordinates of OBO tokens. The account id is taken from the assertion's claims only as a
 * label (`oid.tid`, else `sub`): the partition is the assertion's hash, so nothing is trusted here.
 */
function oboCacheScope(ctx: FlowContext, assertion: string, assertionHash: string): CacheScope & { assertionExpiresAt: number } {
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwt(assertion);
  } catch {
    throw new AuthError('invalid_argument', { description: 'userAssertion is not a JWT access token' });
  }
  const { oid, tid, sub, exp } = claims;
  const homeAccountId = typeof oid === 'string' && typeof tid === 'string' ? `${oid}.${tid}` : typeof sub === 'string' ? sub : '';
  const realm = typeof tid === 'string' ? tid : ctx.config.authority.tenant ?? '';
  return {
    homeAccountId,
    environment: ctx.config.authority.environment,
    clientId: ctx.config.clientId,
    realm,
    userAssertionHash: assertionHash,
    assertionExpiresAt: typeof exp === 'number' ? exp : 0,
  };
}
