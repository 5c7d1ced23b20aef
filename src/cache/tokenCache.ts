import { createHash } from 'node:crypto';
import type { AccountInfo, TokenResult } from '../results.js';
import {
  accessTokenKey, accountKey, appMetadataKey, identityOf, idTokenKey, isAccessToken, isRefreshToken, refreshTokenKey,
  type AccessTokenEntity, type AccountEntity, type CacheChanges, type CacheEntities, type CacheEntity, type IdTokenEntity, type RefreshTokenEntity,
} from './entities.js';
import { cacheEnvironment } from './environments.js';
import { isBearer, nowSeconds, sameOwner, targetScopes, type CacheScope } from './lookup.js';
import { intersects, resourceScopeSet, splitTarget } from './scopes.js';

export {
  findAccessToken, findAccount, idTokenClaimsOf, keysOfAccount, listAccounts, matchingAccessTokens, nowSeconds, pickAccessToken, refreshTokenCandidates,
  type AccessTokenLookup, type CacheScope, type FoundAccessToken,
} from './lookup.js';

export function toAccountInfo(account: AccountEntity): AccountInfo {
  const info: AccountInfo = {
    homeAccountId: account.home_account_id,
    environment: account.environment,
    tenantId: account.realm,
    localAccountId: account.local_account_id ?? '',
    username: account.username,
  };
  if (account.name) info.name = account.name;
  return info;
}

/** A token result built from a cached or freshly stored access token. */
export function toTokenResult(at: AccessTokenEntity, account: AccountEntity | undefined, idTokenClaims: Record<string, unknown> | undefined, fromCache: boolean): TokenResult {
  return {
    accessToken: at.secret,
    tokenType: typeof at.token_type === 'string' ? at.token_type : 'Bearer',
    expiresOn: new Date(Number(at.expires_on) * 1000),
    scopes: [...targetScopes(at)],
    account: account ? toAccountInfo(account) : null,
    idTokenClaims,
    fromCache,
  };
}

/** The parts of a token endpoint response the cache keeps (Entra's extras included). */
export interface TokenResponseFields {
  access_token: string;
  token_type?: string;
  expires_in?: number;
  ext_expires_in?: unknown;
  refresh_in?: unknown;
  refresh_token?: string;
  id_token?: string;
  scope?: string;
  foci?: unknown;
}

export interface StoreTokensInput {
  response: TokenResponseFields;
  /** Verified ID token claims, when the response had an ID token. */
  idTokenClaims: Record<string, unknown> | undefined;
  /** The account the tokens are for (new or updated); undefined for app tokens. */
  account: AccountEntity | undefined;
  scope: CacheScope;
  /** Scopes asked for: the target when the OP does not say which it granted. */
  requestedScopes: readonly string[];
  /** The partition as read before the request, to drop what the new tokens replace. */
  existing: CacheEntities;
  /** Keys to drop besides (several access tokens matched the request). */
  drop?: readonly string[];
}

/**
 * The cache changes one token response makes: the access token (replacing any whose scopes
 * overlap, so a lookup never finds two), the refresh token (rotated in place: one per account
 * and client, or per FOCI family), the ID token, the account and the app metadata. Every entry
 * equivalent to a written one under another key format or Entra alias is removed (see
 * `identityOf`), so no used refresh token survives beside its successor.
 */
export function changesForTokenResponse(input: StoreTokensInput): { changes: CacheChanges; accessToken: AccessTokenEntity; ttlSeconds: number | undefined } {
  const { response, scope, existing, account } = input;
  const now = nowSeconds();
  const expiresIn = Number(response.expires_in ?? 3600);
  const extExpiresIn = Number(response.ext_expires_in ?? expiresIn);
  const refreshIn = response.refresh_in === undefined ? undefined : Number(response.refresh_in);
  const owner = { home_account_id: scope.homeAccountId, environment: scope.environment, client_id: scope.clientId };
  // Both names of the OBO hash: msal-node reads `userAssertionHash`, authflow's first release the other.
  const assertion = scope.userAssertionHash ? { user_assertion_hash: scope.userAssertionHash, userAssertionHash: scope.userAssertionHash } : {};
  const target = targetOf(response.scope, input.requestedScopes);
  const accessToken: AccessTokenEntity = {
    credential_type: 'AccessToken',
    secret: response.access_token,
    ...owner,
    realm: scope.realm,
    target,
    token_type: normaliseTokenType(response.token_type),
    cached_at: String(now),
    expires_on: String(now + expiresIn),
    extended_expires_on: String(now + extExpiresIn),
    ...(refreshIn !== undefined && Number.isFinite(refreshIn) ? { refresh_on: String(now + refreshIn) } : {}),
    ...assertion,
  };
  const changes: CacheChanges = { set: {}, remove: [...(input.drop ?? [])] };
  const newKey = accessTokenKey(accessToken);
  const granted = resourceScopeSet(splitTarget(target));
  for (const [key, entity] of Object.entries(existing)) {
    if (key === newKey || !isAccessToken(entity) || !isBearer(entity) || !sameOwner(entity, scope)) continue;
    if (String(entity.realm ?? '').toLowerCase() === scope.realm.toLowerCase() && intersects(resourceScopeSet(splitTarget(entity.target)), granted)) {
      changes.remove.push(key);
    }
  }
  changes.set[newKey] = accessToken;

  if (response.refresh_token) {
    const familyId = typeof response.foci === 'string' ? { family_id: response.foci } : {};
    const refreshToken: RefreshTokenEntity = { credential_type: 'RefreshToken', secret: response.refresh_token, ...owner, last_modification_time: String(now), ...familyId, ...assertion };
    const rtKey = refreshTokenKey(refreshToken);
    for (const [key, entity] of Object.entries(existing)) {
      if (key !== rtKey && isRefreshToken(entity) && (sameOwner(entity, scope) || sameFamily(entity, refreshToken, scope))) changes.remove.push(key);
    }
    changes.set[rtKey] = refreshToken;
  }
  if (account) {
    // Fields another MSAL keeps on the account (msal-node's client_info, tenantProfiles) stay.
    const key = accountKey(account);
    changes.set[key] = { ...(existing[key] as AccountEntity | undefined), ...account };
    if (response.id_token) {
      const idToken: IdTokenEntity = { credential_type: 'IdToken', secret: response.id_token, ...owner, realm: account.realm };
      changes.set[idTokenKey(idToken)] = idToken;
    }
  }
  changes.set[appMetadataKey({ environment: scope.environment, client_id: scope.clientId })] = {
    client_id: scope.clientId,
    environment: scope.environment,
    ...(typeof response.foci === 'string' ? { family_id: response.foci } : {}),
  };
  removeEquivalents(changes, existing);
  // Entities that come back unchanged (the account, the app metadata) are not written again.
  for (const [key, entity] of Object.entries(changes.set)) {
    if (existing[key] && JSON.stringify(existing[key]) === JSON.stringify(entity)) delete changes.set[key];
  }
  changes.remove = [...new Set(changes.remove)].filter((key) => !(key in changes.set));
  const rtExpiresIn = Number((response as { refresh_token_expires_in?: unknown }).refresh_token_expires_in);
  const ttlSeconds = Number.isFinite(rtExpiresIn) && rtExpiresIn > 0 ? rtExpiresIn : undefined;
  return { changes, accessToken, ttlSeconds };
}

export interface AccountSource {
  /** Entra's `client_info` (base64url JSON `{uid, utid}`), when the OP sent one. */
  clientInfo: string | undefined;
  idTokenClaims: Record<string, unknown>;
  environment: string;
  authorityType: 'entra' | 'oidc';
  /** The realm when the ID token has no `tid` (a single-tenant authority's tenant). */
  fallbackRealm: string;
}

/**
 * The MSAL Account entity for a signed-in user. `home_account_id` is `uid.utid` from Entra's
 * `client_info`; without one it is derived from `sub` and the issuer, so two OPs' users never collide.
 */
export function accountFromIdToken(source: AccountSource): AccountEntity {
  const claims = source.idTokenClaims;
  const info = parseClientInfo(source.clientInfo);
  const tid = str(claims.tid) ?? info?.utid;
  const sub = str(claims.sub) ?? '';
  const homeAccountId = info ? `${info.uid}.${info.utid}` : `${sub}.${createHash('sha256').update(str(claims.iss) ?? '').digest('base64url').slice(0, 22)}`;
  const name = str(claims.name);
  return {
    home_account_id: homeAccountId,
    environment: source.environment,
    realm: tid ?? source.fallbackRealm,
    local_account_id: str(claims.oid) ?? sub,
    username: str(claims.preferred_username) ?? str(claims.upn) ?? str(claims.email) ?? '',
    authority_type: source.authorityType === 'entra' ? 'MSSTS' : 'Generic',
    ...(name ? { name } : {}),
  };
}

export function parseClientInfo(value: string | undefined): { uid: string; utid: string } | undefined {
  if (!value) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as { uid?: unknown; utid?: unknown };
    if (typeof parsed.uid === 'string' && typeof parsed.utid === 'string' && parsed.uid && parsed.utid) return { uid: parsed.uid, utid: parsed.utid };
  } catch {
    // A malformed client_info is ignored: the ID token still identifies the user.
  }
  return undefined;
}

/**
 * The scopes an access token is filed under: what the OP granted (else what was asked), plus any
 * `<api>/.default` asked for, which Entra answers with the named scopes: MSAL Python files the
 * asked scopes and msal-node matches `.default` literally, so both then find it.
 */
function targetOf(granted: string | undefined, requested: readonly string[]): string {
  if (granted === undefined) return requested.join(' ');
  const scopes = splitTarget(granted);
  const have = new Set(scopes.map((s) => s.toLowerCase()));
  for (const scope of requested) if (scope.toLowerCase().endsWith('/.default') && !have.has(scope.toLowerCase())) scopes.push(scope);
  return scopes.join(' ');
}

/** A refresh token of the same account and FOCI family as the one being written (the family shares one). */
function sameFamily(entity: RefreshTokenEntity, written: RefreshTokenEntity, scope: CacheScope): boolean {
  return written.family_id !== undefined && String(entity.family_id ?? '').toLowerCase() === written.family_id.toLowerCase()
    && String(entity.home_account_id ?? '').toLowerCase() === scope.homeAccountId.toLowerCase()
    && cacheEnvironment(entity.environment) === cacheEnvironment(scope.environment);
}

/** Adds to `changes.remove` every existing entry equivalent to one being written but filed under another key. */
function removeEquivalents(changes: CacheChanges, existing: CacheEntities): void {
  const written = new Map<string, string>();
  for (const [key, entity] of Object.entries(changes.set)) {
    const identity = identityOf(entity, cacheEnvironment);
    if (identity) written.set(identity, key);
  }
  for (const [key, entity] of Object.entries(existing)) {
    const identity = identityOf(entity as CacheEntity, cacheEnvironment);
    const writtenKey = identity === undefined ? undefined : written.get(identity);
    if (writtenKey !== undefined && writtenKey !== key) changes.remove.push(key);
  }
}

const normaliseTokenType = (type: string | undefined): string => (!type || type.toLowerCase() === 'bearer' ? 'Bearer' : type);
const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
