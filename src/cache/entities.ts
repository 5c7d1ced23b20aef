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
  /** `AccessToken`; msal-node writes `AccessToken_With_AuthScheme` for proof-of-possession tokens. */
  credential_type: 'AccessToken' | 'AccessToken_With_AuthScheme';
  /** The token itself (a secret: never logged). */
  secret: string;
  /** The account it belongs to: `<uid>.<utid>` (Entra `client_info`) or derived from `iss` and `sub`; empty (msal-node) or `null` (MSAL Python) for app tokens. */
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
  /** authflow's (first release) marker for On-Behalf-Of tokens: base64url(SHA-256(assertion)). */
  user_assertion_hash?: string;
  /** msal-node's marker for On-Behalf-Of tokens, the same hash; authflow writes both. */
  userAssertionHash?: string;
  /** Fields other MSALs write that authflow does not use, kept as read. */
  [other: string]: unknown;
}

/** A cached refresh token (MSAL section `RefreshToken`). */
export interface RefreshTokenEntity {
  /** Always `RefreshToken`. */
  credential_type: 'RefreshToken';
  /** The token itself (a secret: never logged). */
  secret: string;
  /** The account it belongs to: `<uid>.<utid>` (Entra `client_info`) or derived from `iss` and `sub`; empty (msal-node) or `null` (MSAL Python) for app tokens. */
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
  /** msal-node's name for the same hash. */
  userAssertionHash?: string;
  /** Fields other MSALs write that authflow does not use, kept as read. */
  [other: string]: unknown;
}

/** A cached ID token (MSAL section `IdToken`). */
export interface IdTokenEntity {
  /** Always `IdToken`. */
  credential_type: 'IdToken';
  /** The ID token (a JWT). */
  secret: string;
  /** The account it belongs to: `<uid>.<utid>` (Entra `client_info`) or derived from `iss` and `sub`; empty (msal-node) or `null` (MSAL Python) for app tokens. */
  home_account_id: string;
  /** The OP's host, e.g. `login.microsoftonline.com`. */
  environment: string;
  /** The client (application) id the token was issued to. */
  client_id: string;
  /** The tenant id (Entra) or the issuer's realm. */
  realm: string;
  /** Fields other MSALs write that authflow does not use, kept as read. */
  [other: string]: unknown;
}

/** A signed-in account (MSAL section `Account`). */
export interface AccountEntity {
  /** The account's id across tenants: `<uid>.<utid>` (Entra) or derived from `iss` and `sub`. */
  home_account_id: string;
  /** The OP's host, e.g. `login.microsoftonline.com`. */
  environment: string;
  /** The tenant the account signed in to. */
  realm: string;
  /** The account's id in that tenant (Entra `oid`, else `sub`); MSAL Python may write `null`. */
  local_account_id: string | null;
  /** `preferred_username` (or `upn`/`email`) of the ID token. */
  username: string;
  /** `MSSTS` for Entra accounts, `Generic` for other OPs. */
  authority_type: 'MSSTS' | 'Generic' | string;
  /** The display name (`name` claim). */
  name?: string;
  /** Written by other MSAL libraries (how the account signed in); kept as read. */
  account_source?: string;
  /** msal-node's tenant profiles of the account; kept as read. */
  tenantProfiles?: unknown;
  /** Fields other MSALs write that authflow does not use, kept as read. */
  [other: string]: unknown;
}

/** Facts about a client at an OP (MSAL section `AppMetadata`). */
export interface AppMetadataEntity {
  /** The client (application) id the token was issued to. */
  client_id: string;
  /** The OP's host, e.g. `login.microsoftonline.com`. */
  environment: string;
  /** The FOCI family the client belongs to, if any. */
  family_id?: string;
  /** Fields other MSALs write that authflow does not use, kept as read. */
  [other: string]: unknown;
}

export type CredentialEntity = AccessTokenEntity | RefreshTokenEntity | IdTokenEntity;

/**
 * A section of MSAL's JSON that authflow does not know (another MSAL's extension), kept whole as
 * one entity under the key `UNKNOWN_SECTION_PREFIX + name` so it survives import and export.
 */
export interface UnknownSectionEntity {
  /** The section's name in MSAL's JSON. */
  authflow_unknown_section: string;
  /** The section's content, as read. */
  entries: unknown;
}

/** Any entity of the cache. */
export type CacheEntity = CredentialEntity | AccountEntity | AppMetadataEntity | UnknownSectionEntity;

/** One partition's entities keyed by their MSAL key. */
export type CacheEntities = Record<string, CacheEntity>;

/** The sections of MSAL's unified cache JSON. */
export type CacheSection = 'AccessToken' | 'RefreshToken' | 'IdToken' | 'Account' | 'AppMetadata';
/** The sections of MSAL's unified cache JSON, in the order MSAL writes them. */
export const CACHE_SECTIONS: readonly CacheSection[] = ['AccessToken', 'RefreshToken', 'IdToken', 'Account', 'AppMetadata'];
/** Key prefix of an {@link UnknownSectionEntity}. */
export const UNKNOWN_SECTION_PREFIX = 'authflow-section:';

const lc = (value: unknown): string => (typeof value === 'string' ? value : '').toLowerCase();
const join = (...parts: Array<string | null | undefined>): string => parts.map((part) => part ?? '').join('-').toLowerCase();
const schemeOf = (tokenType: unknown): string => (typeof tokenType === 'string' && tokenType.toLowerCase() !== 'bearer' ? tokenType.toLowerCase() : '');

/*
 * Keys. Two formats are in the wild:
 *   MSAL Python (and authflow's first release), 6 parts: <home>-<env>-<type>-<client>-<realm>-<target>
 *   msal-node 7, 7 parts: <home>-<env>-<type>-<client or family id>-<realm>-<target>-<scheme>
 * authflow reads both (lookups match on fields, never on the key) and writes msal-node 7's: a
 * cache shared with msal-node then has one entry per token, which msal-node rewrites in place on
 * refresh. msal-node picks a refresh token without looking at its age, so a stale duplicate under
 * another key could be chosen; MSAL Python orders refresh tokens by `last_modification_time`,
 * so duplicates do not mislead it. See README "Sharing a cache with msal-node and MSAL Python".
 */

/** `<home_account_id>-<environment>-accesstoken-<client_id>-<realm>-<target>-<scheme>` (scheme empty for Bearer). */
export function accessTokenKey(at: Pick<AccessTokenEntity, 'home_account_id' | 'environment' | 'client_id' | 'realm' | 'target'> & { token_type?: string | undefined }): string {
  return join(at.home_account_id, at.environment, 'accesstoken', at.client_id, at.realm, at.target, schemeOf(at.token_type));
}

/** `<home_account_id>-<environment>-refreshtoken-<family_id or client_id>---`: refresh tokens are cross-tenant and not scoped. */
export function refreshTokenKey(rt: Pick<RefreshTokenEntity, 'home_account_id' | 'environment' | 'client_id' | 'family_id'>): string {
  return join(rt.home_account_id, rt.environment, 'refreshtoken', rt.family_id || rt.client_id, '', '', '');
}

/** `<home_account_id>-<environment>-idtoken-<client_id>-<realm>--` */
export function idTokenKey(idt: Pick<IdTokenEntity, 'home_account_id' | 'environment' | 'client_id' | 'realm'>): string {
  return join(idt.home_account_id, idt.environment, 'idtoken', idt.client_id, idt.realm, '', '');
}

/** `<home_account_id>-<environment>-<realm>` */
export function accountKey(account: Pick<AccountEntity, 'home_account_id' | 'environment' | 'realm'>): string {
  return join(account.home_account_id, account.environment, account.realm);
}

/** `appmetadata-<environment>-<client_id>` */
export function appMetadataKey(meta: Pick<AppMetadataEntity, 'environment' | 'client_id'>): string {
  return join('appmetadata', meta.environment, meta.client_id);
}

/** The key authflow files this entity under (msal-node 7's format). */
export function keyOf(entity: CacheEntity, section: CacheSection | undefined = sectionOf(entity)): string {
  switch (section) {
    case 'AccessToken': return accessTokenKey(entity as AccessTokenEntity);
    case 'RefreshToken': return refreshTokenKey(entity as RefreshTokenEntity);
    case 'IdToken': return idTokenKey(entity as IdTokenEntity);
    case 'Account': return accountKey(entity as AccountEntity);
    case 'AppMetadata': return appMetadataKey(entity as AppMetadataEntity);
    default: return `${UNKNOWN_SECTION_PREFIX}${(entity as UnknownSectionEntity).authflow_unknown_section}`;
  }
}

/**
 * What makes two entries the same token whatever key format and Entra alias they were filed under
 * (for refresh tokens: the same lineage, whatever target MSAL Python wrote into its key). Writing
 * an entity removes every other entry with its identity, so no used refresh token survives.
 */
export function identityOf(entity: CacheEntity, environmentOf: (host: string) => string): string | undefined {
  const e = entity as Record<string, unknown>;
  const env = environmentOf(lc(e.environment));
  switch (sectionOf(entity)) {
    case 'AccessToken': {
      const target = lc(e.target).split(/\s+/).filter(Boolean).sort().join(' ');
      const scheme = e.credential_type === 'AccessToken_With_AuthScheme' ? schemeOf(e.token_type) || 'pop' : schemeOf(e.token_type);
      return ['at', lc(e.home_account_id), env, lc(e.client_id), lc(e.realm), target, scheme, assertionHashOf(entity) ?? ''].join('|');
    }
    case 'RefreshToken': return ['rt', lc(e.home_account_id), env, lc(e.family_id) || lc(e.client_id), assertionHashOf(entity) ?? ''].join('|');
    case 'IdToken': return ['idt', lc(e.home_account_id), env, lc(e.client_id), lc(e.realm)].join('|');
    case 'Account': return ['acc', lc(e.home_account_id), env, lc(e.realm)].join('|');
    case 'AppMetadata': return ['app', env, lc(e.client_id)].join('|');
    default: return undefined;
  }
}

/** The On-Behalf-Of assertion hash of a credential, under either name (authflow's or msal-node's). */
export function assertionHashOf(entity: CacheEntity): string | undefined {
  const e = entity as { user_assertion_hash?: unknown; userAssertionHash?: unknown };
  const hash = e.userAssertionHash ?? e.user_assertion_hash;
  return typeof hash === 'string' && hash !== '' ? hash : undefined;
}

/** Which section of MSAL's JSON an entity belongs to (undefined for a kept unknown section). */
export function sectionOf(entity: CacheEntity): CacheSection | undefined {
  const e = entity as Record<string, unknown>;
  if (typeof e.authflow_unknown_section === 'string') return undefined;
  const type = e.credential_type;
  if (type === 'AccessToken' || type === 'AccessToken_With_AuthScheme') return 'AccessToken';
  if (type === 'RefreshToken' || type === 'IdToken') return type;
  if ('authority_type' in e) return 'Account';
  return 'AppMetadata';
}

/** Whether an entity is an access token (Bearer or proof-of-possession). */
export const isAccessToken = (e: CacheEntity): e is AccessTokenEntity => sectionOf(e) === 'AccessToken';
/** Whether an entity is a refresh token. */
export const isRefreshToken = (e: CacheEntity): e is RefreshTokenEntity => sectionOf(e) === 'RefreshToken';
/** Whether an entity is an ID token. */
export const isIdToken = (e: CacheEntity): e is IdTokenEntity => sectionOf(e) === 'IdToken';
/** Whether an entity is an account. */
export const isAccount = (e: CacheEntity): e is AccountEntity => sectionOf(e) === 'Account';
/** Whether an entity is app metadata. */
export const isAppMetadata = (e: CacheEntity): e is AppMetadataEntity => sectionOf(e) === 'AppMetadata';

/** What one write changes in a partition: entities to put (by MSAL key) and keys to delete. */
export interface CacheChanges {
  /** Entities to write, by MSAL key. */
  set: Record<string, CacheEntity>;
  /** MSAL keys to delete. */
  remove: string[];
}
