import * as oidc from 'openid-client';
import { AuthError } from '../errors.js';
import { changesForTokenResponse, findAccessToken, toTokenResult, type CacheScope, type TokenResponseFields } from '../cache/tokenCache.js';
import { normalizeScopes } from '../cache/scopes.js';
import type { TokenResult } from '../results.js';
import { appPartition, readPartition, withPartitionLock, writePartition, type FlowContext } from './context.js';

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
  const { authority, clientId, tokenRenewalOffsetSeconds } = ctx.config;
  if (authority.multiTenant) {
    throw new AuthError('invalid_argument', { description: `client credentials need a tenant-specific authority, not "${authority.tenant}"` });
  }
  const realm = authority.tenant ?? '';
  const partition = appPartition(clientId, realm || authority.environment);
  const scope: CacheScope = { homeAccountId: '', environment: authority.environment, clientId, realm };

  const cached = findAccessToken(await readPartition(ctx, partition), scope, scopes, tokenRenewalOffsetSeconds);
  if (cached) return toTokenResult(cached.entity, undefined, undefined, true);

  const flightKey = [partition, [...scopes].map((s) => s.toLowerCase()).sort().join(' ')].join('\n');
  return ctx.flight.run(flightKey, () => withPartitionLock(ctx, partition, async () => {
    const entities = await readPartition(ctx, partition);
    const fresh = findAccessToken(entities, scope, scopes, tokenRenewalOffsetSeconds);
    if (fresh) return toTokenResult(fresh.entity, undefined, undefined, true);
    const response = await ctx.op.call((configuration) => oidc.clientCredentialsGrant(configuration, { scope: scopes.join(' ') }));
    const { changes, accessToken } = changesForTokenResponse({
      response: response as unknown as TokenResponseFields,
      idTokenClaims: undefined,
      account: undefined,
      scope,
      requestedScopes: scopes,
      existing: entities,
    });
    await writePartition(ctx, partition, changes, Math.max(60, Number(accessToken.expires_on) - Number(accessToken.cached_at)));
    return toTokenResult(accessToken, undefined, undefined, false);
  }));
}
