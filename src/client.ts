import { resolveClientConfig, type ClientConfig, type ConfidentialClientOptions } from './config.js';
import type { AccountInfo, TokenResult } from './results.js';
import type { MsalCacheJson } from './cache/serialize.js';
import type { FlowContext } from './flows/context.js';
import {
  clearCache, createFlowContext, discover, exportCache, getAccounts, homeAccountIdOf, importCache, removeAccount,
} from './clientBase.js';
import { acquireTokenByAuthCodeFlow, initiateAuthCodeFlow, type AuthCodeFlow, type AuthCodeFlowRequest, type CallbackParams } from './flows/authCode.js';
import { acquireTokenSilent, type SilentRequest } from './flows/silent.js';
import { acquireTokenOnBehalfOf, type OnBehalfOfRequest } from './flows/onBehalfOf.js';
import { acquireTokenForClient, type ClientCredentialsRequest } from './flows/clientCredentials.js';
import { observeAcquisition } from './telemetry/acquire.js';

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
    this.#ctx = createFlowContext(config);
  }

  /** The application (client) id this client acts as. */
  get clientId(): string {
    return this.#ctx.config.clientId;
  }

  /** Reads the OP's metadata now (it is read once and shared): call at start-up to fail fast on a wrong authority. */
  discover(): Promise<{
    /** The OP's issuer, as its discovery document names it. */
    issuer: string;
    /** Where RP-initiated logout goes, when the OP has one. */
    endSessionEndpoint: string | undefined;
    /** The OP's signing keys (JWKS). */
    jwksUri: string | undefined;
  }> {
    return discover(this.#ctx);
  }

  /**
   * Starts a sign-in: random `state`, a PKCE S256 verifier and a `nonce`, with `openid profile
   * offline_access` added to the scopes. Keep the returned flow server-side (it holds the
   * verifier) and send the browser to `flow.authUri`.
   *
   * @see https://www.rfc-editor.org/rfc/rfc7636 (PKCE), https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest
   */
  initiateAuthCodeFlow(request: AuthCodeFlowRequest): Promise<AuthCodeFlow> {
    return initiateAuthCodeFlow(this.#ctx, request);
  }

  /**
   * Finishes a sign-in at the callback: checks `state` and the RFC 9207 `iss`, redeems the code
   * with the PKCE verifier, verifies the ID token (signature, iss, aud, exp/iat, nonce, tenant)
   * and caches the tokens in `options.partition` (default: the account's home account id).
   * A flow is redeemed once.
   *
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3, https://www.rfc-editor.org/rfc/rfc9207
   */
  acquireTokenByAuthCodeFlow(flow: AuthCodeFlow | undefined | null, callbackParams: CallbackParams, options: { partition?: string } = {}): Promise<TokenResult> {
    return observeAcquisition('auth_code', () => acquireTokenByAuthCodeFlow(this.#ctx, flow, callbackParams, options));
  }

  /**
   * A token without the user: a cached access token if one fits, else the refresh token
   * redeemed (once per partition at a time, across processes with a shared store). When nothing
   * usable is left it fails with an `AuthError` whose `interactionRequired` is true.
   *
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-6
   */
  acquireTokenSilent(request: SilentRequest): Promise<TokenResult> {
    return observeAcquisition('silent', () => acquireTokenSilent(this.#ctx, request));
  }

  /**
   * On-Behalf-Of (Entra's jwt-bearer exchange): trades the access token your API received for
   * one to a downstream API, as the same user; cached by the assertion's SHA-256.
   *
   * @see https://www.rfc-editor.org/rfc/rfc7523#section-2.1, https://learn.microsoft.com/entra/identity-platform/v2-oauth2-on-behalf-of-flow
   */
  acquireTokenOnBehalfOf(request: OnBehalfOfRequest): Promise<TokenResult> {
    return observeAcquisition('obo', () => acquireTokenOnBehalfOf(this.#ctx, request));
  }

  /**
   * Client credentials: a token for the app itself, cached per client and tenant.
   *
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.4
   */
  acquireTokenForClient(request: ClientCredentialsRequest): Promise<TokenResult> {
    return observeAcquisition('client_credentials', () => acquireTokenForClient(this.#ctx, request));
  }

  /** Accounts signed in to a partition, optionally only the one with this username (case-insensitive). */
  getAccounts(options: { partition: string; username?: string }): Promise<AccountInfo[]> {
    return getAccounts(this.#ctx, options?.partition, options?.username);
  }

  /** Removes everything cached for the account in the partition (its tokens and the account itself). */
  async removeAccount(account: AccountInfo, options: { partition?: string } = {}): Promise<void> {
    const homeAccountId = homeAccountIdOf(account);
    await removeAccount(this.#ctx, homeAccountId, options.partition ?? homeAccountId);
  }

  /** Deletes a whole partition (a session's cache at sign-out). */
  clearCache(partition: string): Promise<void> {
    return clearCache(this.#ctx, partition);
  }

  /** The partition in MSAL's JSON shape, loadable by MSAL Python's `SerializableTokenCache.deserialize()` and msal-node. */
  exportCache(partition: string): Promise<string> {
    return exportCache(this.#ctx, partition);
  }

  /** Replaces the partition with a cache in MSAL's JSON shape (a string or a parsed object). */
  importCache(partition: string, msalJson: string | MsalCacheJson | object): Promise<void> {
    return importCache(this.#ctx, partition, msalJson);
  }

  /** The validated configuration (read-only), for the web layer and diagnostics. */
  get config(): Readonly<ClientConfig> {
    return this.#ctx.config;
  }
}
