import { createHash } from 'node:crypto';
import { decodeJwt } from 'jose';
import type { AccountInfo, TokenResult } from '../results.js';
import {
  accessTokenKey, accountKey, appMetadataKey, idTokenKey, isAccessToken, isAccount, isIdToken, isRefreshToken, refreshTokenKey,
  type AccessTokenEntity, type AccountEntity, type CacheChanges, type CacheEntities, type IdTokenEntity, type RefreshTokenEntity,
} from './entities.js';
import { intersects, isSuperset, resourceScopeSet, splitTarget } from './scopes.js';

/** Which tokens a lookup is for: one account (or none, for app tokens) at one client and tenant. */
export interface CacheScope {
  homeAccountId: string;
  environment: string;
  clientId: string;
  realm: string;
  userAssertionHash?: string | undefined;
}

export interface FoundAccessToken {
  key: string;
  entity: AccessTokenEntity;
  /** Past `refresh_on`: still valid, but refresh now (serve it if the refresh fails). */
  refreshDue: boolean;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/**
 * MSAL's access-token rule: same account, client, realm and environment, scopes a superset of
 * those asked (case-insensitive, OIDC scopes ignored), and expiring after now + `offsetSeconds`.
 */
export function findAccessToken(entities: CacheEntities, scope: CacheScope, scopes: readonly string[], offsetSeconds: number): FoundAccessToken | undefined {
  const wanted = resourceScopeSet(scopes);
  const now = nowSeconds();
  let best: FoundAccessToken | undefined;
  for (const [key, entity] of Object.entries(entities)) {
    if (!isAccessToken(entity) || !sameOwner(entity, scope) || entity.realm.toLowerCase() !== scope.realm.toLowerCase()) continue;
    if (!isSuperset(grantedScopes(entity), wanted)) continue;
    const expiresOn = Number(entity.expires_on);
    if (!(expiresOn > now + offsetSeconds)) continue;
    if (best && Number(best.entity.expires_on) >= expiresOn) continue;
    best = { key, entity, refreshDue: entity.refresh_on !== undefined && Number(entity.refresh_on) <= now };
  }
  return best;
}

/** The newest refresh token of the account for this client (any realm, any scopes). */
export function findRefreshToken(entities: CacheEntities, scope: CacheScope): { key: string; entity: RefreshTokenEntity } | undefined {
  let best: { key: string; entity: RefreshTokenEntity } | undefined;
  for (const [key, entity] of Object.entries(entities)) {
    if (!isRefreshToken(entity) || !sameOwner(entity, scope)) continue;
    if (best && Number(best.entity.last_modification_time ?? 0) >= Number(entity.last_modification_time ?? 0)) continue;
    best = { key, entity };
  }
  return best;
}

export function findAccount(entities: CacheEntities, homeAccountId: string, environment?: string): AccountEntity | undefined {
  const id = homeAccountId.toLowerCase();
  for (const entity of Object.values(entities)) {
    if (isAccount(entity) && entity.home_account_id.toLowerCase() === id && (!environment || entity.environment === environment)) return entity;
  }
  return undefined;
}

export function listAccounts(entities: CacheEntities): AccountEntity[] {
  return Object.values(entities).filter(isAccount);
}

/** Scope sets and ID token claims, worked out once per entity object (entities read locally are reused). */
const scopeSets = new WeakMap<AccessTokenEntity, Set<string>>();
const decodedIdTokens = new WeakMap<IdTokenEntity, Record<string, unknown> | undefined>();

function grantedScopes(entity: AccessTokenEntity): Set<string> {
  let set = scopeSets.get(entity);
  if (!set) scopeSets.set(entity, (set = resourceScopeSet(splitTarget(entity.target))));
  return set;
}

/** The claims of the account's cached ID token, decoded (it was verified when it was cached). Do not mutate them. */
export function idTokenClaimsOf(entities: CacheEntities, account: AccountEntity, clientId: string): Record<string, unknown> | undefined {
  const entity = entities[idTokenKey({ ...account, client_id: clientId })];
  if (!entity || !isIdToken(entity)) return undefined;
  if (!decodedIdTokens.has(entity)) {
    let claims: Record<string, unknown> | undefined;
    try {
      claims = Object.freeze(decodeJwt(entity.secret));
    } catch {
      claims = undefined;
    }
    decodedIdTokens.set(entity, claims);
  }
  return decodedIdTokens.get(entity);
}

/** Every key belonging to an account in this partition. */
export function keysOfAccount(entities: CacheEntities, homeAccountId: string): string[] {
  const id = homeAccountId.toLowerCase();
  return Object.entries(entities)
    .filter(([, entity]) => (entity as { home_account_id?: string }).home_account_id?.toLowerCase() === id)
    .map(([key]) => key);
}

export function toAccountInfo(account: AccountEntity): AccountInfo {
  return {
    homeAccountId: account.home_account_id,
    environment: account.environment,
    tenantId: account.realm,
    localAccountId: account.local_account_id,
    username: account.username,
    ...(account.name ? { name: account.name } : {}),
  };
}

/** A token result built from a cached or freshly stored access token. */
export function toTokenResult(at: AccessTokenEntity, account: AccountEntity | undefined, idTokenClaims: Record<string, unknown> | undefined, fromCache: boolean): TokenResult {
  return {
    accessToken: at.secret,
    tokenType: at.token_type ?? 'Bearer',
    expiresOn: new Date(Number(at.expires_on) * 1000),
    scopes: splitTarget(at.target),
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
}

/**
 * The cache changes one token response makes: the access token (replacing any whose scopes
 * overlap, so a lookup never finds two), the refresh token (rotated in place: one per account
 * and client), the ID token, the account and the app metadata.
 */
export function changesForTokenResponse(input: StoreTokensInput): { changes: CacheChanges; accessToken: AccessTokenEntity; ttlSeconds: number | undefined } {
  const { response, scope, existing, account } = input;
  const now = nowSeconds();
  const expiresIn = Number(response.expires_in ?? 3600);
  const extExpiresIn = Number(response.ext_expires_in ?? expiresIn);
  const refreshIn = response.refresh_in === undefined ? undefined : Number(response.refresh_in);
  const owner = { home_account_id: scope.homeAccountId, environment: scope.environment, client_id: scope.clientId };
  const assertion = scope.userAssertionHash ? { user_assertion_hash: scope.userAssertionHash } : {};
  const target = response.scope ?? input.requestedScopes.join(' ');
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
  const changes: CacheChanges = { set: {}, remove: [] };
  const newKey = accessTokenKey(accessToken);
  const granted = resourceScopeSet(splitTarget(target));
  for (const [key, entity] of Object.entries(existing)) {
    if (key === newKey || !isAccessToken(entity) || !sameOwner(entity, scope)) continue;
    if (entity.realm.toLowerCase() === scope.realm.toLowerCase() && intersects(resourceScopeSet(splitTarget(entity.target)), granted)) {
      changes.remove.push(key);
    }
  }
  changes.set[newKey] = accessToken;

  if (response.refresh_token) {
    const familyId = typeof response.foci === 'string' ? { family_id: response.foci } : {};
    const refreshToken: RefreshTokenEntity = { credential_type: 'RefreshToken', secret: response.refresh_token, ...owner, last_modification_time: String(now), ...familyId, ...assertion };
    const rtKey = refreshTokenKey(refreshToken);
    for (const [key, entity] of Object.entries(existing)) {
      if (key !== rtKey && isRefreshToken(entity) && sameOwner(entity, scope)) changes.remove.push(key);
    }
    changes.set[rtKey] = refreshToken;
  }
  if (account) {
    changes.set[accountKey(account)] = account;
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
  // Entities that come back unchanged (the account, the app metadata) are not written again.
  for (const [key, entity] of Object.entries(changes.set)) {
    if (existing[key] && JSON.stringify(existing[key]) === JSON.stringify(entity)) delete changes.set[key];
  }
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

function sameOwner(entity: AccessTokenEntity | RefreshTokenEntity, scope: CacheScope): boolean {
  return entity.home_account_id.toLowerCase() === scope.homeAccountId.toLowerCase()
    && entity.environment.toLowerCase() === scope.environment.toLowerCase()
    && entity.client_id.toLowerCase() === scope.clientId.toLowerCase()
    && (entity.user_assertion_hash ?? '') === (scope.userAssertionHash ?? '');
}

const normaliseTokenType = (type: string | undefined): string => (!type || type.toLowerCase() === 'bearer' ? 'Bearer' : type);
const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
