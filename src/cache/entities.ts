/**
 * MSAL's unified token cache schema: entity shapes and their keys.
 *
 * The same JSON is read and written by MSAL Python, msal-node, MSAL.NET and authflow, so a cache
 * can move between them. Keys are the parts joined by `-`, lower-cased; all times are epoch
 * seconds as strings.
 *
 * @see ../../../shared/MSAL-MODEL.md "Token cache JSON"
 */

export interface AccessTokenEntity {
  credential_type: 'AccessToken';
  secret: string;
  home_account_id: string;
  environment: string;
  client_id: string;
  realm: string;
  /** Scopes, space-separated, as the OP granted them. */
  target: string;
  token_type?: string;
  cached_at: string;
  expires_on: string;
  extended_expires_on: string;
  refresh_on?: string;
  key_id?: string;
  /** msal-node's marker for On-Behalf-Of tokens: base64url(SHA-256(assertion)). */
  user_assertion_hash?: string;
}

export interface RefreshTokenEntity {
  credential_type: 'RefreshToken';
  secret: string;
  home_account_id: string;
  environment: string;
  client_id: string;
  last_modification_time?: string;
  family_id?: string;
  /** Present in caches written by MSAL Python; authflow writes none (one RT per account and client). */
  target?: string;
  user_assertion_hash?: string;
}

export interface IdTokenEntity {
  credential_type: 'IdToken';
  secret: string;
  home_account_id: string;
  environment: string;
  client_id: string;
  realm: string;
}

export interface AccountEntity {
  home_account_id: string;
  environment: string;
  realm: string;
  local_account_id: string;
  username: string;
  authority_type: 'MSSTS' | 'Generic' | string;
  name?: string;
  account_source?: string;
}

export interface AppMetadataEntity {
  client_id: string;
  environment: string;
  family_id?: string;
}

export type CredentialEntity = AccessTokenEntity | RefreshTokenEntity | IdTokenEntity;
export type CacheEntity = CredentialEntity | AccountEntity | AppMetadataEntity;

/** One partition's entities keyed by their MSAL key. */
export type CacheEntities = Record<string, CacheEntity>;

export type CacheSection = 'AccessToken' | 'RefreshToken' | 'IdToken' | 'Account' | 'AppMetadata';
export const CACHE_SECTIONS: readonly CacheSection[] = ['AccessToken', 'RefreshToken', 'IdToken', 'Account', 'AppMetadata'];

const join = (...parts: Array<string | undefined>): string => parts.map((part) => part ?? '').join('-').toLowerCase();

/** `<home_account_id>-<environment>-accesstoken-<client_id>-<realm>-<target>` */
export function accessTokenKey(at: Pick<AccessTokenEntity, 'home_account_id' | 'environment' | 'client_id' | 'realm' | 'target'>): string {
  return join(at.home_account_id, at.environment, 'accesstoken', at.client_id, at.realm, at.target);
}

/** `<home_account_id>-<environment>-refreshtoken-<client_id>--<target>`: realm is empty, refresh tokens are cross-tenant. */
export function refreshTokenKey(rt: Pick<RefreshTokenEntity, 'home_account_id' | 'environment' | 'client_id' | 'target'>): string {
  return join(rt.home_account_id, rt.environment, 'refreshtoken', rt.client_id, '', rt.target);
}

/** `<home_account_id>-<environment>-idtoken-<client_id>-<realm>-` */
export function idTokenKey(idt: Pick<IdTokenEntity, 'home_account_id' | 'environment' | 'client_id' | 'realm'>): string {
  return join(idt.home_account_id, idt.environment, 'idtoken', idt.client_id, idt.realm, '');
}

/** `<home_account_id>-<environment>-<realm>` */
export function accountKey(account: Pick<AccountEntity, 'home_account_id' | 'environment' | 'realm'>): string {
  return join(account.home_account_id, account.environment, account.realm);
}

/** `appmetadata-<environment>-<client_id>` */
export function appMetadataKey(meta: Pick<AppMetadataEntity, 'environment' | 'client_id'>): string {
  return join('appmetadata', meta.environment, meta.client_id);
}

/** The key MSAL would file this entity under. */
export function keyOf(entity: CacheEntity, section: CacheSection = sectionOf(entity)): string {
  switch (section) {
    case 'AccessToken': return accessTokenKey(entity as AccessTokenEntity);
    case 'RefreshToken': return refreshTokenKey(entity as RefreshTokenEntity);
    case 'IdToken': return idTokenKey(entity as IdTokenEntity);
    case 'Account': return accountKey(entity as AccountEntity);
    case 'AppMetadata': return appMetadataKey(entity as AppMetadataEntity);
  }
}

/** Which section of MSAL's JSON an entity belongs to. */
export function sectionOf(entity: CacheEntity): CacheSection {
  if ('credential_type' in entity) return entity.credential_type;
  if ('authority_type' in entity) return 'Account';
  return 'AppMetadata';
}

export const isAccessToken = (e: CacheEntity): e is AccessTokenEntity => 'credential_type' in e && e.credential_type === 'AccessToken';
export const isRefreshToken = (e: CacheEntity): e is RefreshTokenEntity => 'credential_type' in e && e.credential_type === 'RefreshToken';
export const isIdToken = (e: CacheEntity): e is IdTokenEntity => 'credential_type' in e && e.credential_type === 'IdToken';
export const isAccount = (e: CacheEntity): e is AccountEntity => sectionOf(e) === 'Account';

/** What one write changes in a partition: entities to put (by MSAL key) and keys to delete. */
export interface CacheChanges {
  set: Record<string, CacheEntity>;
  remove: string[];
}
