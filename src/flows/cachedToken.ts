import { changesForTokenResponse, findAccessToken, toTokenResult, type CacheScope, type TokenResponseFields } from '../cache/tokenCache.js';
import type { AccessTokenEntity, CacheEntities } from '../cache/entities.js';
import type { TokenResult } from '../results.js';
import { readPartition, withPartitionLock, writePartition, type FlowContext } from './context.js';

export interface CachedTokenRequest {
  partition: string;
  scope: CacheScope;
  scopes: string[];
  /** Asks the OP (under the partition's lock, after a last look at the cache). */
  request(entities: CacheEntities): Promise<TokenResponseFields>;
  /** How long the partition is worth keeping once this token is in it, in seconds. */
  ttlSeconds(accessToken: AccessTokenEntity): number;
}

/**
 * Tokens without a signed-in account (On-Behalf-Of, client credentials): the cached access token
 * when one fits, else one request shared by concurrent callers and taken under the partition's
 * lock (other instances may have just fetched it), cached for the next caller.
 */
export async function cachedToken(ctx: FlowContext, request: CachedTokenRequest): Promise<TokenResult> {
  const { partition, scope, scopes } = request;
  const offset = ctx.config.tokenRenewalOffsetSeconds;
  const cached = findAccessToken(await readPartition(ctx, partition, { local: true }), scope, scopes, offset).hit;
  if (cached) return toTokenResult(cached.entity, undefined, undefined, true);

  const flightKey = [partition, [...scopes].map((s) => s.toLowerCase()).sort().join(' ')].join('\n');
  return ctx.flight.run(flightKey, () => withPartitionLock(ctx, partition, async () => {
    const entities = await readPartition(ctx, partition);
    const lookup = findAccessToken(entities, scope, scopes, offset);
    if (lookup.hit) return toTokenResult(lookup.hit.entity, undefined, undefined, true);
    const response = await request.request(entities);
    const { changes, accessToken } = changesForTokenResponse({
      response, idTokenClaims: undefined, account: undefined, scope, requestedScopes: scopes, existing: entities, drop: lookup.drop,
    });
    await writePartition(ctx, partition, changes, Math.max(60, Math.ceil(request.ttlSeconds(accessToken))));
    return toTokenResult(accessToken, undefined, undefined, false);
  }));
}
