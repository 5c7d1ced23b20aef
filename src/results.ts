/** A signed-in user as the cache knows them (msal-node's `AccountInfo`, camelCase). */
export interface AccountInfo {
  /** `uid.utid` from Entra's `client_info`; else derived from the ID token's `sub` and issuer. */
  homeAccountId: string;
  /** The authority host the account signed in at. */
  environment: string;
  /** The tenant (`tid`), or `''` for OPs without tenants. */
  tenantId: string;
  /** `oid` (Entra), else `sub`. */
  localAccountId: string;
  /** `preferred_username`, else `upn`, else `email`; may be `''`. */
  username: string;
  /** The display name (`name` claim), when the ID token has one. */
  name?: string;
  /**
   * From `getAccounts()`: every tenant this home account has signed in to (msal-node's
   * `tenantProfiles`), keyed by tenant id. The account itself is the home tenant's profile when
   * cached. Pass `tenantId` to `acquireTokenSilent` for another profile's tokens.
   */
  tenantProfiles?: Map<string, TenantProfile>;
}

/** One tenant an account signed in to (msal-node's `TenantProfile`). */
export interface TenantProfile {
  /** The tenant (`tid`). */
  tenantId: string;
  /** The account's object id in that tenant (a guest's differs from her home `oid`). */
  localAccountId: string;
  /** The display name in that tenant, when known. */
  name?: string;
  /** True for the tenant of the home account id (`uid.utid`). */
  isHomeTenant: boolean;
}

/** What every token acquisition resolves to. */
export interface TokenResult {
  /** The access token, for `Authorization: Bearer` (a secret: never log it). */
  accessToken: string;
  /** `Bearer`. */
  tokenType: string;
  /** When the access token expires. */
  expiresOn: Date;
  /** Scopes the access token carries. */
  scopes: string[];
  /** The user, or `null` for app tokens (client credentials). */
  account: AccountInfo | null;
  /** The ID token's claims when one is cached for the account. */
  idTokenClaims: Record<string, unknown> | undefined;
  /** True when no request to the OP was made. */
  fromCache: boolean;
}
