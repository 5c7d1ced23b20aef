/**
 * MSAL's lookup rules over one partition's entities. Lookups match on fields, never on keys, so
 * entries filed by MSAL Python (6-part keys), msal-node 7 (7-part keys) and authflow are all found,
 * and Entra's host aliases count as one environment.
 *
 * @see ../../../shared/MSAL-MODEL.md "Silent acquisition rules"
 */
import { decodeJwt } from 'jose';
import {
  assertionHashOf, isAccessToken, isAccount, isAppMetadata, isIdToken, isRefreshToken,
  type AccessTokenEntity, type AccountEntity, type CacheEntities, type IdTokenEntity, type RefreshTokenEntity,
} from './entities.js';
import { sameEnvironment } from './environments.js';
import { resourceScopeSet, splitTarget } from './scopes.js';

/** Which tokens a lookup is for: one account (or none, for app tokens) at one client and tenant. */
export interface CacheScope {
  homeAccountId: string;
  environment: string;
  clientId: string;
  realm: string;
  /** On-Behalf-Of: tokens of this assertion (matched instead of the account, as msal-node does). */
  userAssertionHash?: string | undefined;
}

/** A usable cached access token. */
export interface FoundAccessToken {
  key: string;
  entity: AccessTokenEntity;
  /** Past `refresh_on`: still valid, but refresh now (serve it if the refresh fails). */
  refreshDue: boolean;
}

/** What {@link findAccessToken} saw: the token to serve, if any, and entries to drop. */
export interface AccessTokenLookup {
  hit: FoundAccessToken | undefined;
  /** Several tokens matched: MSAL drops them all and asks for a new one. */
  drop: string[];
}

/** Epoch seconds now. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
const lc = (value: unknown): string => (typeof value === 'string' ? value : '').toLowerCase();

/**
 * MSAL's access-token rule: same account (or assertion), client, realm and environment (aliases
 * included), a Bearer token (a `pop` one is never served to a Bearer request), scopes a superset
 * of those asked (case-insensitive, OIDC scopes ignored, `<api>/.default` met by any token of that
 * API). One live match (expiring after now + `offsetSeconds`) is served; several live matches
 * are all dropped and a new token is asked for (msal-node's rule: the cache cannot say which is
 * right). Unlike msal-node, expired matches do not count: a peer's expired copy of a token must
 * not cost a request.
 */
export function findAccessToken(entities: CacheEntities, scope: CacheScope, scopes: readonly string[], offsetSeconds: number): AccessTokenLookup {
  return pickAccessToken(matchingAccessTokens(entities, scope, scopes), offsetSeconds);
}

/** The access tokens the rule above matches, expired or not: what does not depend on the time. */
export function matchingAccessTokens(entities: CacheEntities, scope: CacheScope, scopes: readonly string[]): Array<[string, AccessTokenEntity]> {
  const wanted = resourceScopeSet(scopes);
  const matches: Array<[string, AccessTokenEntity]> = [];
  for (const [key, entity] of Object.entries(entities)) {
    if (!isAccessToken(entity) || !isBearer(entity) || !sameOwner(entity, scope) || lc(entity.realm) !== lc(scope.realm)) continue;
    if (coversScopes(grantedScopes(entity), wanted)) matches.push([key, entity]);
  }
  return matches;
}

/** Of the matches, the one live token to serve now (see {@link findAccessToken}), or what to drop. */
export function pickAccessToken(matches: ReadonlyArray<[string, AccessTokenEntity]>, offsetSeconds: number): AccessTokenLookup {
  const now = nowSeconds();
  // A loop, not a filter: this runs on every cache hit.
  let live: [string, AccessTokenEntity] | undefined;
  let liveCount = 0;
  for (const match of matches) {
    if (Number(match[1].expires_on) <= now + offsetSeconds) continue;
    liveCount += 1;
    live = match;
  }
  // Expired matches go with the next write; two live ones mean the cache cannot say which is right.
  if (liveCount !== 1) return { hit: undefined, drop: matches.map(([key]) => key) };
  const [key, entity] = live!;
  return { hit: { key, entity, refreshDue: entity.refresh_on !== undefined && Number(entity.refresh_on) <= now }, drop: [] };
}

/**
 * Refresh tokens to try, in order, as MSAL Python picks them: when the app metadata names this
 * client's FOCI family, the family's tokens first; when there is no app metadata yet (first use),
 * family "1" tokens first, since the app may belong to it; then the client's own. Newest first
 * within each group (`last_modification_time`; refresh tokens are not filtered by scope or realm).
 */
export function refreshTokenCandidates(entities: CacheEntities, scope: CacheScope): Array<{ key: string; entity: RefreshTokenEntity; family: boolean }> {
  const appMetadata = Object.values(entities).find((e) => isAppMetadata(e) && lc(e.client_id) === lc(scope.clientId) && sameEnvironment(e.environment, scope.environment));
  const familyId = appMetadata ? lc((appMetadata as { family_id?: unknown }).family_id) : '1';
  const own: Array<{ key: string; entity: RefreshTokenEntity; family: boolean }> = [];
  const family: Array<{ key: string; entity: RefreshTokenEntity; family: boolean }> = [];
  for (const [key, entity] of Object.entries(entities)) {
    if (!isRefreshToken(entity) || lc(entity.home_account_id) !== lc(scope.homeAccountId) || !sameEnvironment(entity.environment, scope.environment)) continue;
    if ((assertionHashOf(entity) ?? '') !== (scope.userAssertionHash ?? '')) continue;
    if (lc(entity.client_id) === lc(scope.clientId)) own.push({ key, entity, family: false });
    else if (familyId && lc(entity.family_id) === familyId) family.push({ key, entity, family: true });
  }
  const newestFirst = (a: { entity: RefreshTokenEntity }, b: { entity: RefreshTokenEntity }): number =>
    Number(b.entity.last_modification_time ?? 0) - Number(a.entity.last_modification_time ?? 0);
  return [...family.sort(newestFirst), ...own.sort(newestFirst)];
}

/**
 * The account entity of `homeAccountId` at this environment (any alias). An account signed in to
 * several tenants has one entity (tenant profile) per tenant: with `tenantId`, only that tenant's
 * (a token for another tenant is never served for it); without, the home tenant's (`<uid>.<utid>`).
 */
export function findAccount(entities: CacheEntities, homeAccountId: string, environment?: string, tenantId?: string): AccountEntity | undefined {
  const id = homeAccountId.toLowerCase();
  const homeTenant = id.split('.')[1] ?? '';
  let found: AccountEntity | undefined;
  for (const entity of Object.values(entities)) {
    if (!isAccount(entity) || lc(entity.home_account_id) !== id || (environment && !sameEnvironment(entity.environment, environment))) continue;
    for (const profile of accountProfiles(entity)) {
      if (tenantId) {
        if (lc(profile.realm) === tenantId.toLowerCase()) return profile;
        continue;
      }
      if (lc(profile.realm) === homeTenant) return profile;
      found ??= profile;
    }
  }
  return found;
}

/**
 * The tenant profiles one Account entity stands for. msal-node 7 writes one entity per home
 * account (realm: the home tenant) with `tenantProfiles`, JSON strings of
 * `{ tenantId, localAccountId, name, isHomeTenant }`, one per tenant signed in to — the home
 * tenant only if it was: a guest signed in at her host tenant alone has only that profile. An
 * entity without the field (authflow, MSAL Python: one entity per tenant) is its own realm's profile.
 */
export function accountProfiles(entity: AccountEntity): AccountEntity[] {
  const raw = (entity as { tenantProfiles?: unknown }).tenantProfiles;
  if (!Array.isArray(raw) || raw.length === 0) return [entity];
  const profiles: AccountEntity[] = [];
  for (const item of raw) {
    let p: { tenantId?: unknown; localAccountId?: unknown; name?: unknown } | undefined;
    try {
      p = (typeof item === 'string' ? JSON.parse(item) : item) as typeof p;
    } catch {
      continue;
    }
    if (!p || typeof p.tenantId !== 'string' || p.tenantId === '') continue;
    if (lc(p.tenantId) === lc(entity.realm)) { profiles.push(entity); continue; }
    profiles.push({
      ...entity, realm: p.tenantId,
      local_account_id: typeof p.localAccountId === 'string' ? p.localAccountId : entity.local_account_id,
      ...(typeof p.name === 'string' ? { name: p.name } : {}),
    });
  }
  return profiles.length ? profiles : [entity];
}

/** Every account entity of the partition. */
export function listAccounts(entities: CacheEntities): AccountEntity[] {
  return Object.values(entities).filter(isAccount);
}

/** Scopes, scope sets and ID token claims, worked out once per entity object (entities read locally are reused). */
const targets = new WeakMap<AccessTokenEntity, readonly string[]>();
const scopeSets = new WeakMap<AccessTokenEntity, Set<string>>();
const decodedIdTokens = new WeakMap<IdTokenEntity, Record<string, unknown> | undefined>();

function grantedScopes(entity: AccessTokenEntity): Set<string> {
  let set = scopeSets.get(entity);
  if (!set) scopeSets.set(entity, (set = resourceScopeSet(targetScopes(entity))));
  return set;
}

/** An access token's scopes as its `target` names them (shared: copy before handing them out). */
export function targetScopes(entity: AccessTokenEntity): readonly string[] {
  let scopes = targets.get(entity);
  if (!scopes) targets.set(entity, (scopes = splitTarget(entity.target)));
  return scopes;
}

/** The APIs (`<api>/`, the scope up to its last slash) a token's scopes name, worked out once per scope set. */
const apisOf = new WeakMap<ReadonlySet<string>, Set<string>>();
function apis(have: ReadonlySet<string>): Set<string> {
  let set = apisOf.get(have);
  if (!set) {
    set = new Set<string>();
    for (const scope of have) {
      const slash = scope.lastIndexOf('/');
      if (slash > 0) set.add(scope.slice(0, slash + 1));
    }
    apisOf.set(have, set);
  }
  return set;
}

/** `have` covers `want`: every scope is in it, and `<api>/.default` is met by `<api>/.default` or any `<api>/<scope>`. */
export function coversScopes(have: ReadonlySet<string>, want: ReadonlySet<string>): boolean {
  for (const scope of want) {
    if (have.has(scope)) continue;
    if (!scope.endsWith('/.default') || !apis(have).has(scope.slice(0, -'.default'.length))) return false;
  }
  return true;
}

/** A Bearer access token (not proof-of-possession, whichever way the writer marked it). */
export const isBearer = (entity: AccessTokenEntity): boolean =>
  entity.credential_type === 'AccessToken' && (entity.token_type === undefined || lc(entity.token_type) === 'bearer');

/** The claims of the account's cached ID token, decoded (it was verified when it was cached). Do not mutate them. */
export function idTokenClaimsOf(entities: CacheEntities, account: AccountEntity, clientId: string): Record<string, unknown> | undefined {
  const entity = Object.values(entities).find((e): e is IdTokenEntity => isIdToken(e) && lc(e.home_account_id) === lc(account.home_account_id)
    && lc(e.client_id) === lc(clientId) && lc(e.realm) === lc(account.realm) && sameEnvironment(e.environment, account.environment));
  if (!entity) return undefined;
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
    .filter(([, entity]) => lc((entity as { home_account_id?: unknown }).home_account_id) === id)
    .map(([key]) => key);
}

/** Same client and environment, and the same assertion (OBO) or else the same account. */
export function sameOwner(entity: AccessTokenEntity | RefreshTokenEntity, scope: CacheScope): boolean {
  if (lc(entity.client_id) !== lc(scope.clientId) || !sameEnvironment(entity.environment, scope.environment)) return false;
  const hash = assertionHashOf(entity) ?? '';
  if (hash !== (scope.userAssertionHash ?? '')) return false;
  return hash !== '' || lc(entity.home_account_id) === lc(scope.homeAccountId);
}
