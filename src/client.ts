import { resolveClientConfig, type ClientConfig, type ConfidentialClientOptions } from './config.js';
import { AuthError } from './errors.js';
import { OpClient } from './opClient.js';
import type { AccountInfo, TokenResult } from './results.js';
import { findAccount, keysOfAccount, listAccounts, toAccountInfo } from './cache/tokenCache.js';
import { fromMsalJson, toMsalJson, type MsalCacheJson } from './cache/serialize.js';
import { KeyedMutex, SingleFlight } from './util/concurrency.js';
import { clearPartition, readPartition, writePartition, type FlowContext } from './flows/context.js';
import { acquireTokenByAuthCodeFlow, initiateAuthCodeFlow, type AuthCodeFlow, type AuthCodeFlowRequest, type CallbackParams } from './flows/authCode.js';
import { acquireTokenSilent, type SilentRequest } from './flows/silent.js';
import { acquireTokenOnBehalfOf, type OnBehalfOfRequest } from './flows/onBehalfOf.js';
import { acquireTokenForClient, type ClientCredentialsRequest } from './flows/clientCredentials.js';

/**
 * A confidential client (web app, web API, daemon): the MSAL token-acquisition model over a
 * serialisable, partitioned token cache. Build one per app registration and share it; it
 * discovers the OP once.
 *
 * @example
 * ```ts
 * const client = new ConfidentialClient({
 *   clientId: process.env.CLIENT_ID!,
 *   authority: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0',
 *   credential: { secret: process.env.CLIENT_SECRET! },
 * });
 * const flow = await client.initiateAuthCodeFlow({ scopes: ['api://orders/Orders.Read'], redirectUri });
 * // ... keep `flow` in the session, send the browser to flow.authUri, then at the callback:
 * const result = await client.acquireTokenByAuthCodeFlow(flow, req.query, { partition: sessionPartition });
 * const later = await client.acquireTokenSilent({ scopes: ['api://orders/Orders.Read'], account: result.account!, partition: sessionPartition });
 * ```
 */
export class ConfidentialClient {
  readonly #ctx: FlowContext;

  /** Validates every option now; a bad one throws `AuthError('invalid_config')` naming it. */
  constructor(options: ConfidentialClientOptions) {
    const config = resolveClientConfig(options);
    this.#ctx = { config, op: new OpClient(config), flight: new SingleFlight<TokenResult>(), partitionMutex: new KeyedMutex() };
  }

  get clientId(): string {
    return this.#ctx.config.clientId;
  }

  /** Reads the OP's metadata now (it is read once and shared): call at start-up to fail fast on a wrong authority. */
  async discover(): Promise<{ issuer: string; endSessionEndpoint: string | undefined; jwksUri: string | undefined }> {
    const metadata = (await this.#ctx.op.configuration()).serverMetadata();
    return { issuer: metadata.issuer, endSessionEndpoint: metadata.end_session_endpoint, jwksUri: metadata.jwks_uri };
  }

  initiateAuthCodeFlow(request: AuthCodeFlowRequest): Promise<AuthCodeFlow> {
    return initiateAuthCodeFlow(this.#ctx, request);
  }

  acquireTokenByAuthCodeFlow(flow: AuthCodeFlow | undefined | null, callbackParams: CallbackParams, options: { partition?: string } = {}): Promise<TokenResult> {
    return acquireTokenByAuthCodeFlow(this.#ctx, flow, callbackParams, options);
  }

  acquireTokenSilent(request: SilentRequest): Promise<TokenResult> {
    return acquireTokenSilent(this.#ctx, request);
  }

  acquireTokenOnBehalfOf(request: OnBehalfOfRequest): Promise<TokenResult> {
    return acquireTokenOnBehalfOf(this.#ctx, request);
  }

  acquireTokenForClient(request: ClientCredentialsRequest): Promise<TokenResult> {
    return acquireTokenForClient(this.#ctx, request);
  }

  /** Accounts signed in to a partition, optionally only the one with this username (case-insensitive). */
  async getAccounts(options: { partition: string; username?: string }): Promise<AccountInfo[]> {
    const partition = requirePartition(options?.partition);
    const entities = await readPartition(this.#ctx, partition);
    const username = options.username?.toLowerCase();
    return listAccounts(entities)
      .filter((account) => account.environment === this.#ctx.config.authority.environment)
      .filter((account) => username === undefined || account.username.toLowerCase() === username)
      .map(toAccountInfo);
  }

  /** Removes everything cached for the account in the partition (its tokens and the account itself). */
  async removeAccount(account: AccountInfo, options: { partition?: string } = {}): Promise<void> {
    const homeAccountId = account?.homeAccountId;
    if (typeof homeAccountId !== 'string' || homeAccountId === '') throw new AuthError('invalid_argument', { description: 'account must be an account from getAccounts()' });
    const partition = options.partition ?? homeAccountId;
    const entities = await readPartition(this.#ctx, partition);
    if (!findAccount(entities, homeAccountId)) return;
    await writePartition(this.#ctx, partition, { set: {}, remove: keysOfAccount(entities, homeAccountId) });
  }

  /** Deletes a whole partition (a session's cache at sign-out). */
  async clearCache(partition: string): Promise<void> {
    await clearPartition(this.#ctx, requirePartition(partition));
  }

  /** The partition in MSAL's JSON shape, loadable by MSAL Python's `SerializableTokenCache.deserialize()` and msal-node. */
  async exportCache(partition: string): Promise<string> {
    return JSON.stringify(toMsalJson(await readPartition(this.#ctx, requirePartition(partition))));
  }

  /** Replaces the partition with a cache in MSAL's JSON shape (a string or a parsed object). */
  async importCache(partition: string, msalJson: string | MsalCacheJson | object): Promise<void> {
    const key = requirePartition(partition);
    const entities = fromMsalJson(msalJson);
    const existing = await readPartition(this.#ctx, key);
    await writePartition(this.#ctx, key, { set: entities, remove: Object.keys(existing).filter((k) => !(k in entities)) });
  }

  /** The validated configuration (read-only), for the web layer and diagnostics. */
  get config(): Readonly<ClientConfig> {
    return this.#ctx.config;
  }
}

function requirePartition(partition: unknown): string {
  if (typeof partition !== 'string' || partition === '') throw new AuthError('invalid_argument', { description: 'partition must be a non-empty string' });
  return partition;
}
