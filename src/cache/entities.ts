/**
 * MSAL's unified token cache schema: entity shapes and their keys.
 *
 * The same JSON is read and written by MSAL Python, msal-node, MSAL.NET and authflow, so a cache
 * can move between them. Keys are the parts joined by `-`, lower-cased; all times are epoch
 * seconds as strings.
 *
 * @see ../../../shared/MSAL-MODEL.md "Token cache JSON"
 */

/** A cached access token (MSAL section `AccessToken`). */
export interface AccessTokenEntity {
  /** Always `AccessToken`. */
  credential_type: 'AccessToken';
  /** The token itself (a secret: never logged). */
  secret: string;
  /** The account it belongs to: `<uid>.<utid>` (Entra `client_info`) or derived from `iss` and `sub`. */
  home_account_id: string;
  /** The OP's host, e.g. `login.microsoftonline.com`. */
  environment: string;
  /** The client (application) id the token was issued to. */
  client_id: string;
  /** The tenant id (Entra) or the issuer's realm. */
  realm: string;
  /** Scopes, space-separated, as the OP granted them. */
  target: string;
  /** `Bearer` (or `pop`); absent means `Bearer`. */
  token_type?: string;
  /** When it was cached (epoch seconds). */
  cached_at: string;
  /** When it expires (epoch seconds). */
  expires_on: string;
  /** Entra's extended lifetime, `ext_expires_in` (epoch seconds). */
  extended_expires_on: string;
  /** When to refresh it proactively (epoch seconds; Entra's `refresh_in`). */
  refresh_on?: string;
  /** The key id of a proof-of-possession token. */
  key_id?: string;
  /** msal-node's marker for On-Behalf-Of tokens: base64url(SHA-256(assertion)). */
  user_assertion_hash?: string;
}

/** A cached refresh token (MSAL section `RefreshToken`). */
export interface RefreshTokenEntity {
  /** Always `RefreshToken`. */
  credential_type: 'RefreshToken';
  /** The token itself (a secret: never logged). */
  secret: string;
  /** The account it belongs to: `<uid>.<utid>` (Entra `client_info`) or derived from `iss` and `sub`. */
  home_account_id: string;
  /** The OP's host, e.g. `login.microsoftonline.com`. */
  environment: string;
  /** The client (application) id the token was issued to. */
  client_id: string;
  /** When it was last written (epoch seconds). */
  last_modification_time?: string;
  /** Entra's family of client ids sharing refresh tokens (FOCI), e.g. `1`. */
  family_id?: string;
  /** Present in caches written by MSAL Python; authflow writes none (one RT per account and client). */
  target?: string;
  /** On-Behalf-Of: base64url(SHA-256(assertion)) of the assertion it was obtained with. */
  user_assertion_hash?: string;
}

/** A cached ID token (MSAL section `IdToken`). */
export interface IdTokenEntity {
  /** Always `IdToken`. */
  credential_type: 'IdToken';
  /** The ID token (a JWT). */
  secret: string;
  /** The account it belongs to: `<uid>.<utid>` (Entra `client_info`) or derived from `iss` and `sub`. */
  home_account_id: string;
  /** The OP's host, e.g. `login.microsoftonline.com`. */
  environment: string;
  /** The client (application) id the token was issued to. */
  client_id: string;
  /** The tenant id (Entra) or the issuer's realm. */
  realm: string;
}

/** A signed-in account (MSAL section `Account`). */
export interface AccountEntity {
  /** The account's id across tenants: `<uid>.<utid>` (Entra) or derived from `iss` and `sub`. */
  home_account_id: string;
  /** The OP's host, e.g. `login.microsoftonline.com`. */
  environment: string;
  /** The tenant the account signed in to. */
  realm: string;
  /** The account's id in that tenant (Entra `oid`, else `sub`). */
  local_account_id: string;
  /** `preferred_username` (or `upn`/`email`) of the ID token. */
  username: string;
  /** `MSSTS` for Entra accounts, `Generic` for other OPs. */
  authority_type: 'MSSTS' | 'Generic' | string;
  /** The display name (`name` claim). */
  name?: string;
  /** Written by other MSAL libraries (how the account signed in); kept as read. */
  account_source?: string;
}

/** Facts about a client at an OP (MSAL section `AppMetadata`). */
export interface AppMetadataEntity {
  /** The client (application) id the token was issued to. */
  client_id: string;
  /** The OP's host, e.g. `login.microsoftonline.com`. */
  environment: string;
  /** The FOCI family the client belongs to, if any. */
  family_id?: string;
}

export type CredentialEntity = AccessTokenEntity | RefreshTokenEntity | IdTokenEntity;
/** Any entity of the cache. */
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
  /** Entities to write, by MSAL key. */
  set: Record<string, CacheEntity>;
  /** MSAL keys to delete. */
  remove: string[];
}
