import type * as oidc from 'openid-client';
import { AuthError } from '../errors.js';
import { accountFromIdToken, changesForTokenResponse, toTokenResult, type TokenResponseFields } from '../cache/tokenCache.js';
import type { TokenResult } from '../results.js';
import { readPartition, writePartition, type FlowContext } from './context.js';
import { checkIdTokenClaims } from './tenant.js';

/**
 * Verifies a token response for a user (its ID token's tenant; openid-client has checked the
 * rest) and caches it in `partition` like an auth-code sign-in: account, ID token, access token,
 * refresh token, app metadata. The partition defaults to the account's home account id.
 */
export async function storeUserTokens(
  ctx: FlowContext,
  response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
  requestedScopes: readonly string[],
  partition: string | undefined,
): Promise<TokenResult> {
  const idTokenClaims = response.claims();
  if (!idTokenClaims) throw new AuthError('id_token_invalid', { description: 'the OP returned no ID token' });
  checkIdTokenClaims(ctx, idTokenClaims);
  const { authority, clientId } = ctx.config;
  const account = accountFromIdToken({
    clientInfo: typeof response.client_info === 'string' ? response.client_info : undefined,
    idTokenClaims,
    environment: authority.environment,
    authorityType: authority.type,
    fallbackRealm: authority.multiTenant ? '' : authority.tenant ?? '',
  });
  const target = partition ?? account.home_account_id;
  const { changes, accessToken, ttlSeconds } = changesForTokenResponse({
    response: response as unknown as TokenResponseFields,
    idTokenClaims,
    account,
    scope: { homeAccountId: account.home_account_id, environment: authority.environment, clientId, realm: account.realm },
    requestedScopes,
    existing: await readPartition(ctx, target),
  });
  await writePartition(ctx, target, changes, ttlSeconds);
  return toTokenResult(accessToken, account, { ...idTokenClaims }, false);
}
