import { configError } from './errors.js';
import { resolvePublicClientConfig, type ClientConfig, type PublicClientOptions } from './config.js';
import type { AccountInfo, TokenResult } from './results.js';
import type { MsalCacheJson } from './cache/serialize.js';
import type { FlowContext } from './flows/context.js';
import { acquireTokenSilent, type SilentRequest } from './flows/silent.js';
import {
  acquireTokenByDeviceFlow, initiateDeviceFlow, type DeviceFlow, type DeviceFlowPollOptions, type DeviceFlowRequest,
} from './flows/deviceCode.js';
import { acquireTokenInteractive, type InteractiveRequest } from './flows/interactive.js';
import { observeAcquisition } from './telemetry/acquire.js';
import { acquireTokenByUsernamePassword, type UsernamePasswordRequest } from './flows/usernamePassword.js';
import {
  clearCache, createFlowContext, discover, exportCache, getAccounts, homeAccountIdOf, importCache, removeAccount, type DiscoveredOp,
} from './clientBase.js';

/** `acquireTokenSilent` of a public client: its one partition is implied. */
export type PublicSilentRequest = Omit<SilentRequest, 'partition'>;

/**
 * A public client (a CLI, a desktop or mobile app): it keeps no secret, so it signs users in
 * with the device-code flow, the system browser (auth code + PKCE on a loopback redirect), or —
 * not recommended — their password; then `acquireTokenSilent` serves tokens from the cache and
 * refreshes them. Every user token goes to one cache partition (`options.partition`, default
 * `'default'`): with a `FileTokenCacheStore` that is one MSAL-format cache file.
 *
 * @example
 * ```ts
 * const cli = new PublicClient({ clientId, authority, cacheStore: new FileTokenCacheStore(cachePath) });
 * const [account] = await cli.getAccounts();
 * const result = account
 *   ? await cli.acquireTokenSilent({ scopes, account })
 *   : await cli.acquireTokenByDeviceFlow(await cli.initiateDeviceFlow({ scopes }).then((flow) => {
 *       console.log(flow.message);
 *       return flow;
 *     }));
 * ```
 */
export class PublicClient {
  readonly #ctx: FlowContext;
  readonly #partition: string;

  /** Validates every option now; a bad one (or any `credential`) throws `AuthError('invalid_config')` naming it. */
  constructor(options: PublicClientOptions) {
    const config = resolvePublicClientConfig(options);
    const partition = options.partition ?? 'default';
    if (typeof partition !== 'string' || partition === '') throw configError('partition', 'must be a non-empty string');
    this.#ctx = createFlowContext(config);
    this.#partition = partition;
  }

  /** The application (client) id this client acts as. */
  get clientId(): string {
    return this.#ctx.config.clientId;
  }

  /** The cache partition this client's user tokens live in. */
  get partition(): string {
    return this.#partition;
  }

  /** The validated configuration (read-only), for diagnostics. */
  get config(): Readonly<ClientConfig> {
    return this.#ctx.config;
  }

  /** Reads the OP's metadata now (it is read once and shared): call at start-up to fail fast on a wrong authority. */
  discover(): Promise<DiscoveredOp> {
    return discover(this.#ctx);
  }

  /**
   * Starts a device-code sign-in (RFC 8628): show `flow.message` to the user, then call
   * {@link acquireTokenByDeviceFlow}.
   */
  initiateDeviceFlow(request: DeviceFlowRequest): Promise<DeviceFlow> {
    return initiateDeviceFlow(this.#ctx, request);
  }

  /**
   * Polls until the user completes the device-code sign-in, honouring the OP's interval and
   * `slow_down`. Ends with `expired_token`, `access_denied`, or `flow_cancelled` (the signal).
   */
  acquireTokenByDeviceFlow(flow: DeviceFlow, options: DeviceFlowPollOptions = {}): Promise<TokenResult> {
    return observeAcquisition('device_code', () => acquireTokenByDeviceFlow(this.#ctx, flow, options, this.#partition));
  }

  /**
   * Signs a user in with the system browser: auth code + PKCE on `http://127.0.0.1:<free port>/`.
   * `openBrowser(url)` opens it; `flow_timeout` after `timeoutMs` (default 5 minutes).
   */
  acquireTokenInteractive(request: InteractiveRequest): Promise<TokenResult> {
    return observeAcquisition('interactive', () => acquireTokenInteractive(this.#ctx, request, this.#partition));
  }

  /**
   * **Not recommended** (RFC 9700 §2.4): the resource owner password grant. The app handles the
   * user's password, and MFA, Conditional Access and federated users cannot work. Prefer the
   * device-code or interactive flow. Wrong credentials end in `invalid_grant`.
   *
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.3
   */
  acquireTokenByUsernamePassword(request: UsernamePasswordRequest): Promise<TokenResult> {
    return observeAcquisition('username_password', () => acquireTokenByUsernamePassword(this.#ctx, request, this.#partition));
  }

  /** A cached token when one fits, else the refresh token; `interaction_required` when the user must sign in again. */
  acquireTokenSilent(request: PublicSilentRequest): Promise<TokenResult> {
    if (request === null || typeof request !== 'object') return acquireTokenSilent(this.#ctx, request as unknown as SilentRequest);
    return observeAcquisition('silent', () => acquireTokenSilent(this.#ctx, { ...request, partition: this.#partition }));
  }

  /** Users signed in with this client's cache, optionally only the one with this username (case-insensitive). */
  getAccounts(options: { username?: string } = {}): Promise<AccountInfo[]> {
    return getAccounts(this.#ctx, this.#partition, options?.username);
  }

  /** Signs the account out of this app: removes it and its tokens from the cache. */
  async removeAccount(account: AccountInfo): Promise<void> {
    await removeAccount(this.#ctx, homeAccountIdOf(account), this.#partition);
  }

  /** Deletes the whole cache (every account). */
  clearCache(): Promise<void> {
    return clearCache(this.#ctx, this.#partition);
  }

  /** The cache in MSAL's JSON shape. */
  exportCache(): Promise<string> {
    return exportCache(this.#ctx, this.#partition);
  }

  /** Replaces the cache with one in MSAL's JSON shape (e.g. written by MSAL Python or msal-node). */
  importCache(msalJson: string | MsalCacheJson | object): Promise<void> {
    return importCache(this.#ctx, this.#partition, msalJson);
  }
}
