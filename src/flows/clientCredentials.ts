import * as oidc from 'openid-client';
import { AuthError } from '../errors.js';
import type { TokenResponseFields } from '../cache/tokenCache.js';
import { normalizeScopes } from '../cache/scopes.js';
import type { TokenResult } from '../results.js';
import { appPartition, type FlowContext } from './context.js';
import { cachedToken } from './cachedToken.js';
import { withClaims } from './claims.js';

/** What {@link ConfidentialClient.acquireTokenForClient} needs. */
export interface ClientCredentialsRequest {
  /** For Entra, the API's `.default` scope, e.g. `['api://inventory/.default']`. */
  scopes: readonly string[];
}

/**
 * Client credentials: a token for the app itself, cached per client and tenant and served from
 * the cache while valid.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.4
 */
export async function acquireTokenForClient(ctx: FlowContext, request: ClientCredentialsRequest): Promise<TokenResult> {
  const scopes = normalizeScopes(request?.scopes);
  if (scopes.length === 0) throw new AuthError('invalid_argument', { description: 'scopes must name at least one scope' });
  const { authority, clientId } = ctx.config;
  if (authority.multiTenant) {
    throw new AuthError('invalid_argument', { description: `client credentials need a tenant-specific authority, not "${authority.tenant}"` });
  }
  const realm = authority.tenant ?? '';
  return cachedToken(ctx, {
    partition: appPartition(clientId, realm || authority.environment),
    scope: { homeAccountId: '', environment: authority.environment, clientId, realm },
    scopes,
    request: async () => (await ctx.op.call((configuration) => oidc.clientCredentialsGrant(configuration, withClaims(ctx.config, { scope: scopes.join(' ') })))) as unknown as TokenResponseFields,
    ttlSeconds: (accessToken) => Number(accessToken.expires_on) - Number(accessToken.cached_at),
  });
}
