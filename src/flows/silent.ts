import * as oidc from 'openid-client';
import { AuthError, type AuthErrorCode } from '../errors.js';
import {
  accountFromIdToken, changesForTokenResponse, findAccessToken, findAccount, idTokenClaimsOf, matchingAccessTokens, pickAccessToken,
  refreshTokenCandidates, toTokenResult, type CacheScope, type TokenResponseFields,
} from '../cache/tokenCache.js';
import { isRefreshToken, type AccessTokenEntity, type AccountEntity, type CacheChanges, type CacheEntities } from '../cache/entities.js';
import { normalizeScopes, withOidcScopes } from '../cache/scopes.js';
import type { AccountInfo, TokenResult } from '../results.js';
import { localPartition, readPartition, withPartitionLock, writePartition, type FlowContext } from './context.js';
import { checkIdTokenClaims } from './tenant.js';
import { mergeClaims, withClaims } from './claims.js';
import { isTenantGuid } from '../authority.js';

/** What {@link ConfidentialClient.acquireTokenSilent} needs. */
export interface SilentRequest {
  /** Scopes the access token must cover. */
  scopes: readonly string[];
  /** The signed-in account (from the sign-in's result or `getAccounts()`). */
  account: AccountInfo;
  /** The cache partition (a session's); default: the account's home account id. */
  partition?: string;
  /** Skip cached access tokens and redeem the refresh token. */
  forceRefresh?: boolean;
  /** A claims challenge (JSON string): skips the cache and is sent with the refresh. */
  claims?: string;
}

/** Answers from the OP that mean the user must sign in again (or consent). */
const NEEDS_INTERACTION: ReadonlySet<AuthErrorCode> = new Set<AuthErrorCode>(['invalid_grant', 'interaction_required', 'consent_required', 'login_required']);

/**
 * MSAL's silent acquisition: a cached access token if one fits (see `findAccessToken`), else the
 * refresh token, redeemed once per partition at a time even across processes (the store's lock)
 * and shared by concurrent identical calls. Nothing usable ends in `interaction_required`
 * carrying the scopes (and claims) a new sign-in must ask for.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-6 (refreshing an access token)
 */
export async function acquireTokenSilent(ctx: FlowContext, request: SilentRequest): Promise<TokenResult> {
  if (request === null || typeof request !== 'object') throw new AuthError('invalid_argument', { description: 'the request must be an object' });
  const scopes = normalizeScopes(request.scopes);
  if (scopes.length === 0) throw new AuthError('invalid_argument', { description: 'scopes must name at least one scope' });
  const homeAccountId = request.account?.homeAccountId;
  if (typeof homeAccountId !== 'string' || homeAccountId === '') {
    throw new AuthError('invalid_argument', { description: 'account must be an account from getAccounts() or a token result' });
  }
  const partition = request.partition ?? homeAccountId;
  const claims = request.claims || undefined;
  if (claims !== undefined) mergeClaims(claims, []); // refused now (invalid_argument), not after the cache lookup
  const forceRefresh = request.forceRefresh === true || claims !== undefined;

  // The tenant profile asked for (an account from getAccounts() or a sign-in names it), never another tenant's.
  const tenantId = typeof request.account.tenantId === 'string' && request.account.tenantId !== '' ? request.account.tenantId : undefined;
  const entities = localPartition(ctx, partition) ?? await readPartition(ctx, partition, { local: true });
  const offset = ctx.config.tokenRenewalOffsetSeconds;
  const hitKey = `${homeAccountId}\n${tenantId ?? ''}\n${scopes.join(' ')}`;
  const remembered = forceRefresh ? undefined : rememberedHits.get(entities)?.get(hitKey);
  if (remembered) {
    const hit = pickAccessToken(remembered.matches, offset).hit;
    if (hit && !hit.refreshDue) return toTokenResult(hit.entity, remembered.account, remembered.idTokenClaims, true);
  }
  // Identical calls in flight share the rest: one lookup and, on a miss, one refresh (a storm's
  // callers in one process cost one). The tenant is part of the key (`hitKey`): two tenant
  // profiles of one account are two requests.
  const flightKey = `${partition}\n${hitKey}\n${claims ?? ''}\n${forceRefresh}`;
  return ctx.flight.run(flightKey, () => lookUpOrRefresh(ctx, { partition, homeAccountId, tenantId, scopes, claims, forceRefresh, hitKey, entities }));
}

interface SilentLookup {
  partition: string;
  homeAccountId: string;
  tenantId: string | undefined;
  scopes: string[];
  claims: string | undefined;
  forceRefresh: boolean;
  /** The request's key among the snapshot's remembered hits. */
  hitKey: string;
  /** The partition as the caller read it (the local copy when there is one). */
  entities: CacheEntities;
}

/** The account's cached access token for the scopes, else a refresh under the partition's lock. */
async function lookUpOrRefresh(ctx: FlowContext, request: SilentLookup): Promise<TokenResult> {
  const { partition, homeAccountId, tenantId, scopes, claims, forceRefresh } = request;
  const offset = ctx.config.tokenRenewalOffsetSeconds;
  let entities = request.entities;
  let account = findAccount(entities, homeAccountId, ctx.config.authority.environment, tenantId);
  if (!account) {
    // A local copy may predate the sign-in: only the store can say the account is gone.
    entities = await readPartition(ctx, partition);
    account = findAccount(entities, homeAccountId, ctx.config.authority.environment, tenantId);
  }
  if (!account && tenantId) account = newTenantProfile(ctx, entities, homeAccountId, tenantId, scopes);
  if (!account) throw signInAgain(scopes, claims, 'no cached sign-in for this account (signed out, expired or evicted)');
  const scope = cacheScopeOf(ctx, account);

  // MSAL's force_refresh: never a cached access token, not even one written while this call waited.
  const matches = forceRefresh ? [] : matchingAccessTokens(entities, scope, scopes);
  const cached = pickAccessToken(matches, offset).hit;
  if (cached && !cached.refreshDue) {
    const idTokenClaims = idTokenClaimsOf(entities, account, ctx.config.clientId);
    rememberHit(entities, request.hitKey, { account, matches, idTokenClaims });
    return toTokenResult(cached.entity, account, idTokenClaims, true);
  }

  try {
    // The store's partition now, and a fresh token in it for this request (never for force_refresh):
    // under the lock before spending the refresh token (whoever held it may have refreshed), and
    // after each wait for another process's lock (then served without taking it).
    const lookAgain = async () => {
      const current = await readPartition(ctx, partition);
      const lookup = findAccessToken(current, scope, scopes, offset);
      const fresh = forceRefresh ? undefined : lookup.hit;
      const result = fresh && !fresh.refreshDue ? toTokenResult(fresh.entity, account, idTokenClaimsOf(current, account, ctx.config.clientId), true) : undefined;
      return { current, lookup, result };
    };
    return await withPartitionLock(ctx, partition, async () => {
      const { current, lookup, result } = await lookAgain();
      return result ?? refresh(ctx, { partition, entities: current, account, scope, scopes, claims, drop: lookup.drop });
    }, forceRefresh ? undefined : async () => (await lookAgain()).result);
  } catch (err) {
    if (cached && err instanceof AuthError) {
      // Past refresh_on the cached token is still valid: serve it and try again next time.
      ctx.config.logger.warn({ code: err.code, correlationId: err.correlationId }, 'authflow: proactive refresh failed; serving the cached token');
      return toTokenResult(cached.entity, account, idTokenClaimsOf(entities, account, ctx.config.clientId), true);
    }
    throw err;
  }
}

/**
 * What a cache hit found that does not depend on the time (the account, the access tokens covering
 * the scopes, the ID token's claims), remembered per partition snapshot and request. Only frozen
 * snapshots (the local copy's, RedisTokenCacheStore's reads) are remembered: they never change, so
 * the same request finds the same answer in them; expiry and `refresh_on` are still decided on
 * every call (`pickAccessToken`).
 */
interface RememberedHit {
  account: AccountEntity;
  matches: ReadonlyArray<[string, AccessTokenEntity]>;
  idTokenClaims: Record<string, unknown> | undefined;
}
const rememberedHits = new WeakMap<CacheEntities, Map<string, RememberedHit>>();
/** Distinct requests (account, tenant, scopes) remembered per snapshot; others take the full lookup. */
const MAX_REMEMBERED_PER_SNAPSHOT = 64;

function rememberHit(entities: CacheEntities, key: string, hit: RememberedHit): void {
  if (!Object.isFrozen(entities)) return;
  let hits = rememberedHits.get(entities);
  if (!hits) rememberedHits.set(entities, (hits = new Map()));
  if (hits.size < MAX_REMEMBERED_PER_SNAPSHOT) hits.set(key, hit);
}

interface RefreshInput {
  partition: string;
  entities: CacheEntities;
  account: AccountEntity;
  scope: CacheScope;
  scopes: string[];
  claims: string | undefined;
  /** Access tokens to drop (several matched). */
  drop: string[];
}

/**
 * Redeems a refresh token for `scopes` (the FOCI family's first, then the client's own, newest
 * first: see `refreshTokenCandidates`) and caches what comes back (the rotated refresh token included).
 */
async function refresh(ctx: FlowContext, input: RefreshInput): Promise<TokenResult> {
  const { partition, entities, scopes, claims, scope } = input;
  const candidates = refreshTokenCandidates(entities, scope);
  if (candidates.length === 0) throw signInAgain(scopes, claims, 'no refresh token is cached for this account');
  const parameters: Record<string, string> = { scope: withOidcScopes(scopes).join(' ') };
  if (ctx.config.authority.type === 'entra') parameters.client_info = '1';
  withClaims(ctx.config, parameters, claims);

  let response: Awaited<ReturnType<typeof oidc.refreshTokenGrant>> | undefined;
  for (const [index, candidate] of candidates.entries()) {
    try {
      // A multi-tenant authority: at the account's own tenant (Entra answers /organizations for the home tenant).
      response = await ctx.op.call((configuration) => oidc.refreshTokenGrant(configuration, candidate.entity.secret, parameters), { tenantId: input.account.realm });
      break;
    } catch (err) {
      // A family token the OP refuses (the app is not in the family) falls back to the next, as MSAL Python does.
      if (err instanceof AuthError && NEEDS_INTERACTION.has(err.code)) {
        if (candidate.family && index < candidates.length - 1) continue;
        throw signInAgain(scopes, err.claims ?? claims, err.description, err);
      }
      throw err;
    }
  }
  if (!response) throw signInAgain(scopes, claims, 'no refresh token is cached for this account');
  const idTokenClaims = response.claims();
  let account = input.account;
  if (idTokenClaims) {
    checkIdTokenClaims(ctx, idTokenClaims);
    account = accountFromIdToken({
      clientInfo: typeof response.client_info === 'string' ? response.client_info : undefined,
      idTokenClaims,
      environment: ctx.config.authority.environment,
      authorityType: ctx.config.authority.type,
      fallbackRealm: account.realm,
    });
    // A refresh answers for the account we asked about: keep its key even if the OP's view differs.
    account = { ...account, home_account_id: input.account.home_account_id, realm: input.account.realm };
  }
  const { changes, accessToken, ttlSeconds } = changesForTokenResponse({
    response: response as unknown as TokenResponseFields,
    idTokenClaims,
    account,
    scope,
    requestedScopes: scopes,
    existing: entities,
    drop: input.drop,
  });
  const answeredTenant = typeof idTokenClaims?.tid === 'string' ? idTokenClaims.tid : undefined;
  if (answeredTenant && input.account.realm && answeredTenant.toLowerCase() !== input.account.realm.toLowerCase()) {
    // A tenant profile refreshed at another tenant's authority: the tokens are that tenant's. Keep
    // the rotated refresh token (it is spent otherwise), cache nothing as this tenant's.
    await writePartition(ctx, partition, refreshTokenOnly(changes), ttlSeconds);
    throw signInAgain(scopes, claims, `the authority answered for tenant ${answeredTenant.slice(0, 64)}, not ${input.account.realm.slice(0, 64)}: sign in to that tenant`);
  }
  await writePartition(ctx, partition, changes, ttlSeconds);
  const claimsForResult = idTokenClaims ? { ...idTokenClaims } : idTokenClaimsOf(entities, account, ctx.config.clientId);
  return toTokenResult(accessToken, account, claimsForResult, false);
}

/**
 * MSAL's per-request tenant: an account asked for in a tenant it has no cached profile in, with a
 * multi-tenant authority, is that tenant's profile to be: the home account's refresh token is
 * redeemed at the tenant's own endpoint (see `refresh`), and the answer's ID token makes the profile.
 * A tenant outside `allowedTenants` is refused before any request (the refresh token is not spent).
 */
function newTenantProfile(ctx: FlowContext, entities: CacheEntities, homeAccountId: string, tenantId: string, scopes: string[]): AccountEntity | undefined {
  const { authority, allowedTenants } = ctx.config;
  if (!authority.multiTenant || !isTenantGuid(tenantId)) return undefined;
  const known = findAccount(entities, homeAccountId, authority.environment);
  if (!known) return undefined;
  if (allowedTenants && !allowedTenants.has(tenantId.toLowerCase())) {
    throw new AuthError('tenant_not_allowed', { description: `tenant ${tenantId.slice(0, 64)} is not in allowedTenants`, scopes });
  }
  return { ...known, realm: tenantId.toLowerCase(), local_account_id: '' };
}

/** Only the refresh-token part of a write (the rotated token and the entries it supersedes). */
function refreshTokenOnly(changes: CacheChanges): CacheChanges {
  const set = Object.fromEntries(Object.entries(changes.set).filter(([, entity]) => isRefreshToken(entity)));
  return { set, remove: changes.remove.filter((key) => key.includes('-refreshtoken-')) };
}

function cacheScopeOf(ctx: FlowContext, account: AccountEntity): CacheScope {
  return { homeAccountId: account.home_account_id, environment: ctx.config.authority.environment, clientId: ctx.config.clientId, realm: account.realm };
}

/** `interaction_required` with what the next sign-in must ask for. */
function signInAgain(scopes: string[], claims: string | undefined, description: string, cause?: AuthError): AuthError {
  // Entra's missing consent (AADSTS65001: invalid_grant + suberror consent_required) is consent_required.
  const code: AuthErrorCode = cause?.reason === 'consent_missing' || cause?.suberror === 'consent_required' ? 'consent_required'
    : cause && cause.code !== 'invalid_grant' ? cause.code : 'interaction_required';
  return new AuthError(code, {
    description,
    scopes,
    ...(claims ? { claims } : {}),
    ...(cause?.correlationId ? { correlationId: cause.correlationId } : {}),
    ...(cause?.suberror ? { suberror: cause.suberror } : {}),
    ...(cause?.reason ? { reason: cause.reason } : {}),
    ...(cause ? { cause } : {}),
  });
}
