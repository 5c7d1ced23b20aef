/**
 * What `ConfidentialClient` and `PublicClient` share: the flow context they are built on and the
 * cache-side operations (accounts, removal, export/import, discovery). Plain functions over a
 * `FlowContext`, so neither class inherits from the other.
 */
import type { ClientConfig } from './config.js';
import { AuthError } from './errors.js';
import { OpClient } from './opClient.js';
import type { AccountInfo, TenantProfile, TokenResult } from './results.js';
import type { AccountEntity } from './cache/entities.js';
import { findAccount, keysOfAccount, listAccounts, toAccountInfo } from './cache/tokenCache.js';
import { accountProfiles } from './cache/lookup.js';
import { fromMsalJson, toMsalJson, type MsalCacheJson } from './cache/serialize.js';
import { sameEnvironment } from './cache/environments.js';
import { KeyedMutex, SingleFlight } from './util/concurrency.js';
import { LocalPartitionCache } from './cache/localCache.js';
import type { CacheEntities } from './cache/entities.js';
import { clearPartition, readPartition, writePartition, type FlowContext } from './flows/context.js';

/** What {@link discover} reports about the OP. */
export interface DiscoveredOp {
  issuer: string;
  endSessionEndpoint: string | undefined;
  jwksUri: string | undefined;
}

/** The flow context of a client built from validated options. */
export function createFlowContext(config: ClientConfig): FlowContext {
  return {
    config,
    op: new OpClient(config),
    flight: new SingleFlight<TokenResult>(),
    partitionMutex: new KeyedMutex(),
    local: config.localCacheSeconds > 0 ? new LocalPartitionCache(config.localCacheSeconds * 1000) : undefined,
    reads: new SingleFlight<CacheEntities>(),
  };
}

/** Reads the OP's metadata (once per client) and reports the parts apps use. */
export async function discover(ctx: FlowContext): Promise<DiscoveredOp> {
  const metadata = (await ctx.op.configuration()).serverMetadata();
  return { issuer: metadata.issuer, endSessionEndpoint: metadata.end_session_endpoint, jwksUri: metadata.jwks_uri };
}

/** Accounts of a partition at this client's authority, optionally only the one with this username (case-insensitive). */
export async function getAccounts(ctx: FlowContext, partition: string, username: string | undefined): Promise<AccountInfo[]> {
  const entities = await readPartition(ctx, requirePartition(partition));
  const wanted = username?.toLowerCase();
  // One account per home account, as MSAL lists them: peers sharing the cache may have filed the
  // same account under two Entra aliases (msal-node login.windows.net, MSAL Python the authority's host).
  // A user signed in to several tenants (tenant profiles) is listed once, as the home tenant's
  // profile, with every profile in `tenantProfiles` (msal-node's shape).
  const seen = new Set<string>();
  const environment = ctx.config.authority.environment;
  const here = listAccounts(entities).filter((account) => sameEnvironment(account.environment, environment));
  return here
    .filter((account) => wanted === undefined || String(account.username ?? '').toLowerCase() === wanted)
    .map((account) => findAccount(entities, account.home_account_id, environment) ?? account)
    .filter((account) => {
      const id = String(account.home_account_id).toLowerCase();
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    })
    .map((account) => ({ ...toAccountInfo(account), tenantProfiles: tenantProfilesOf(here, account.home_account_id) }));
}

/** The tenant profiles of a home account: one per realm it has an account entity in. */
function tenantProfilesOf(accounts: readonly AccountEntity[], homeAccountId: string): Map<string, TenantProfile> {
  const id = homeAccountId.toLowerCase();
  const homeTenant = id.split('.')[1] ?? '';
  const profiles = new Map<string, TenantProfile>();
  for (const a of accounts.flatMap(accountProfiles)) {
    if (String(a.home_account_id).toLowerCase() !== id || profiles.has(a.realm)) continue;
    profiles.set(a.realm, {
      tenantId: a.realm,
      localAccountId: a.local_account_id ?? '',
      ...(a.name ? { name: a.name } : {}),
      isHomeTenant: a.realm.toLowerCase() === homeTenant,
    });
  }
  return profiles;
}

/** The home account id of an account argument, refused with `invalid_argument` when it is not one. */
export function homeAccountIdOf(account: AccountInfo): string {
  const homeAccountId = account?.homeAccountId;
  if (typeof homeAccountId !== 'string' || homeAccountId === '') throw new AuthError('invalid_argument', { description: 'account must be an account from getAccounts()' });
  return homeAccountId;
}

/** Removes the account and everything cached for it from the partition. */
export async function removeAccount(ctx: FlowContext, homeAccountId: string, partition: string): Promise<void> {
  const entities = await readPartition(ctx, partition);
  if (!findAccount(entities, homeAccountId)) return;
  await writePartition(ctx, partition, { set: {}, remove: keysOfAccount(entities, homeAccountId) });
}

export async function clearCache(ctx: FlowContext, partition: string): Promise<void> {
  await clearPartition(ctx, requirePartition(partition));
}

/** The partition in MSAL's JSON shape. */
export async function exportCache(ctx: FlowContext, partition: string): Promise<string> {
  return JSON.stringify(toMsalJson(await readPartition(ctx, requirePartition(partition))));
}

/**
 * Replaces the partition with a cache in MSAL's JSON shape (a string or a parsed object). Every
 * entry and section is kept as written; an unusable entry is skipped with a warning naming its key.
 */
export async function importCache(ctx: FlowContext, partition: string, msalJson: string | MsalCacheJson | object): Promise<void> {
  const key = requirePartition(partition);
  const entities = fromMsalJson(msalJson, (skipped) => {
    ctx.config.logger.warn({ section: skipped.section, key: skipped.key.slice(0, 200), problem: skipped.problem }, 'authflow: importCache skipped an unusable cache entry');
  });
  const existing = await readPartition(ctx, key);
  await writePartition(ctx, key, { set: entities, remove: Object.keys(existing).filter((k) => !(k in entities)) });
}

export function requirePartition(partition: unknown): string {
  if (typeof partition !== 'string' || partition === '') throw new AuthError('invalid_argument', { description: 'partition must be a non-empty string' });
  return partition;
}
