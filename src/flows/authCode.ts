import * as oidc from 'openid-client';
import { AuthError, isOpErrorCode } from '../errors.js';
import { normalizeScopes, withOidcScopes } from '../cache/scopes.js';
import type { TokenResult } from '../results.js';
import type { FlowContext } from './context.js';
import { storeUserTokens } from './userTokens.js';
import { BoundedMap } from '../util/boundedMap.js';
import { withClaims } from './claims.js';
import { aadstsRule } from '../entraErrors.js';
import { firstLine } from '../opErrors.js';
import { isTenantGuid } from '../authority.js';

/**
 * An auth-code flow in progress (MSAL Python's `initiate_auth_code_flow` dict): plain,
 * serialisable data the app keeps server-side (in the session) until the callback.
 * It holds the PKCE verifier: never send it to the browser.
 */
export interface AuthCodeFlow {
  /** Where to send the browser. */
  authUri: string;
  /** The `state` sent with the request, compared at the callback. */
  state: string;
  /** The PKCE verifier (RFC 7636): a secret, kept server-side only. */
  codeVerifier: string;
  /** The `nonce` the ID token must carry. */
  nonce: string;
  /** The redirect URI the code is bound to. */
  redirectUri: string;
  /** Scopes asked for, OIDC scopes included. */
  scopes: string[];
  /** The OP's issuer, compared with the callback's RFC 9207 `iss`. */
  issuer: string;
  /** Epoch milliseconds. */
  createdAt: number;
  /** The `max_age` asked for, checked on the ID token's `auth_time`. */
  maxAge?: number;
  /** The claims request sent, if any (JSON string). */
  claims?: string;
  /** The tenant signed in to through a multi-tenant authority (`tenantId` of the request). */
  tenantId?: string;
}

/** What {@link ConfidentialClient.initiateAuthCodeFlow} asks the OP for. */
export interface AuthCodeFlowRequest {
  /** Scopes to ask for, e.g. `['api://orders/Orders.Read']`; `openid profile offline_access` are added. */
  scopes: readonly string[];
  /** Your callback URL, registered at the OP. */
  redirectUri: string;
  /** Your own state value; random when absent. */
  state?: string;
  /** OIDC `prompt`: force a login, the consent page, the account picker, or no UI at all. */
  prompt?: 'login' | 'consent' | 'select_account' | 'none' | 'create';
  /** `login_hint`: the username to pre-fill. */
  loginHint?: string;
  /** Entra's `domain_hint`: skip home realm discovery (e.g. `contoso.com`, `consumers`). */
  domainHint?: string;
  /** A claims request / challenge (JSON string), e.g. from a Conditional Access answer. */
  claims?: string;
  /** Seconds since the user's last authentication the OP may accept (`max_age`, checked on `auth_time`). */
  maxAge?: number;
  /**
   * Per-request tenant (MSAL's per-request authority) with `/organizations` or `/common`: sign in
   * at this tenant's own authority (a GUID in `allowedTenants`), e.g. a guest to the tenant she
   * was invited to; the code is redeemed there and the ID token must be that tenant's.
   */
  tenantId?: string;
}

/** Callback parameters: an `URLSearchParams`, or a parsed query / form body (`req.query`, `req.body`). */
export type CallbackParams = URLSearchParams | Record<string, unknown>;


/**
 * Starts an auth-code flow: random `state`, PKCE S256 verifier, `nonce`; `openid profile
 * offline_access` added to the scopes; `client_info=1` for Entra.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7636 (PKCE), https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest
 */
export async function initiateAuthCodeFlow(ctx: FlowContext, request: AuthCodeFlowRequest): Promise<AuthCodeFlow> {
  if (request === null || typeof request !== 'object') throw argumentError('the request must be an object');
  const scopes = withOidcScopes(normalizeScopes(request.scopes));
  const redirectUri = checkRedirectUri(request.redirectUri);
  const state = request.state ?? oidc.randomState();
  if (typeof state !== 'string' || state.length < 8) throw argumentError('state must be a string of at least 8 characters');
  if (request.maxAge !== undefined && !(Number.isInteger(request.maxAge) && request.maxAge >= 0)) throw argumentError('maxAge must be an integer >= 0');
  const tenantId = requestedTenant(ctx, request.tenantId);
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const nonce = oidc.randomNonce();
  const parameters: Record<string, string> = {
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: scopes.join(' '),
    state,
    nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
  };
  if (request.prompt) parameters.prompt = request.prompt;
  if (request.loginHint) parameters.login_hint = request.loginHint;
  if (request.domainHint) parameters.domain_hint = request.domainHint;
  withClaims(ctx.config, parameters, request.claims);
  if (request.maxAge !== undefined) parameters.max_age = String(request.maxAge);
  if (ctx.config.authority.type === 'entra') parameters.client_info = '1';
  // With a tenant: that tenant's authorization endpoint and issuer (its RFC 9207 `iss` is then expected).
  const build = (configuration: oidc.Configuration) => ({ authUri: oidc.buildAuthorizationUrl(configuration, parameters).href, issuer: configuration.serverMetadata().issuer });
  const { authUri, issuer } = tenantId ? await ctx.op.call(async (configuration) => build(configuration), { tenantId }) : build(await ctx.op.configuration());
  return {
    authUri, state, codeVerifier, nonce, redirectUri, scopes, issuer,
    createdAt: Date.now(),
    ...(request.maxAge !== undefined ? { maxAge: request.maxAge } : {}),
    ...(request.claims ? { claims: request.claims } : {}),
    ...(tenantId ? { tenantId } : {}),
  };
}

/** A per-request tenant: only with a multi-tenant authority, as a GUID, and one `allowedTenants` lists. */
function requestedTenant(ctx: FlowContext, tenantId: unknown): string | undefined {
  if (tenantId === undefined) return undefined;
  const { authority, allowedTenants } = ctx.config;
  if (!authority.multiTenant) throw argumentError('tenantId needs a multi-tenant authority (/organizations or /common)');
  if (typeof tenantId !== 'string' || !isTenantGuid(tenantId)) throw argumentError('tenantId must be a tenant id (GUID)');
  if (allowedTenants && !allowedTenants.has(tenantId.toLowerCase())) {
    throw new AuthError('tenant_not_allowed', { description: `accounts of the organization (tenant ${tenantId}) cannot sign in to this app: that tenant is not in allowedTenants` });
  }
  return tenantId.toLowerCase();
}

/**
 * Completes a flow with the OP's callback parameters. Refuses, in this order: no flow or one
 * without state (`flow_missing`), another state (`state_mismatch`), a flow past its lifetime
 * (`flow_expired`), a flow already redeemed here (`flow_redeemed`), the OP's `error` (its code,
 * description, correlation id), no code (`code_missing`), an RFC 9207 `iss` of another OP
 * (`issuer_mismatch`); then redeems the code with the verifier, verifies the ID token (signature,
 * iss, aud, exp/iat, nonce, tenant) and caches the tokens in `partition` (default: the account's
 * home account id).
 *
 * @see https://www.rfc-editor.org/rfc/rfc9207 , https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation
 */
export async function acquireTokenByAuthCodeFlow(
  ctx: FlowContext,
  flow: AuthCodeFlow | undefined | null,
  callback: CallbackParams,
  options: { partition?: string } = {},
): Promise<TokenResult> {
  if (!flow || typeof flow !== 'object' || typeof flow.state !== 'string' || flow.state === '') {
    throw new AuthError('flow_missing', { description: 'no sign-in is in progress for this callback' });
  }
  const params = callbackParams(callback);
  if (params.state !== flow.state) throw new AuthError('state_mismatch', { description: 'the callback\'s state is not the one this sign-in sent' });
  if (Date.now() - flow.createdAt > ctx.config.flowLifetimeSeconds * 1000) {
    throw new AuthError('flow_expired', { description: `the sign-in took longer than ${ctx.config.flowLifetimeSeconds} s; start again` });
  }
  if (redeemed.has(flow.state)) throw new AuthError('flow_redeemed', { description: 'this sign-in was already completed' });
  if (params.error !== undefined) throw callbackError(params);
  if (!params.code) throw new AuthError('code_missing', { description: 'the callback has neither a code nor an error' });
  await checkIssuerParameter(ctx, flow, params.iss);
  markRedeemed(flow.state, flow.createdAt + ctx.config.flowLifetimeSeconds * 1000);

  const currentUrl = new URL(flow.redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) currentUrl.searchParams.set(name, value);
  const tokenParameters: Record<string, string> = {};
  if (ctx.config.authority.type === 'entra') tokenParameters.client_info = '1';
  withClaims(ctx.config, tokenParameters, flow.claims);
  const response = await ctx.op.call((configuration) => oidc.authorizationCodeGrant(
    configuration,
    currentUrl,
    { pkceCodeVerifier: flow.codeVerifier, expectedState: flow.state, expectedNonce: flow.nonce, ...(flow.maxAge !== undefined ? { maxAge: flow.maxAge } : {}) },
    tokenParameters,
  ), { tenantId: flow.tenantId });
  return storeUserTokens(ctx, response, flow.scopes, options.partition);
}

type Params = Record<string, string | undefined>;

function callbackParams(callback: CallbackParams): Params {
  if (callback === null || typeof callback !== 'object') throw new AuthError('callback_invalid', { description: 'the callback parameters are missing' });
  const entries = callback instanceof URLSearchParams ? [...callback.keys()].map((k) => [k, callback.getAll(k)] as const) : Object.entries(callback);
  const params: Params = {};
  for (const [name, raw] of entries) {
    const value = Array.isArray(raw) && raw.length === 1 ? raw[0] : raw;
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new AuthError('callback_invalid', { description: `callback parameter "${name.slice(0, 40)}" must appear once, as a string` });
    params[name] = value;
  }
  return params;
}

function callbackError(params: Params): AuthError {
  const error = params.error ?? '';
  const options = {
    description: firstLine(params.error_description) ?? `the OP answered ${error.slice(0, 60)}`,
    ...(params.correlation_id || params.trace_id ? { correlationId: params.correlation_id ?? params.trace_id } : {}),
    ...(params.suberror ? { suberror: params.suberror } : {}),
  };
  // An AADSTS code in the redirect (e.g. 50020, the user is not in the tenant): its reason, and its code where the OAuth error misleads.
  const rule = aadstsRule({}, options.description);
  if (rule) {
    const code = rule.code ?? (isOpErrorCode(error) ? error : 'op_error');
    return new AuthError(code, { ...options, reason: rule.reason, ...(rule.status ? { status: rule.status } : {}), ...(code !== error ? { opError: error.slice(0, 100) } : {}) });
  }
  return isOpErrorCode(error) ? new AuthError(error, options) : new AuthError('op_error', { ...options, opError: error.slice(0, 100) });
}

/** RFC 9207: an `iss` must be our OP's; an OP that advertises the parameter must send it (mix-up defence). */
async function checkIssuerParameter(ctx: FlowContext, flow: AuthCodeFlow, iss: string | undefined): Promise<void> {
  if (iss === undefined) {
    const metadata = (await ctx.op.configuration()).serverMetadata();
    if (metadata.authorization_response_iss_parameter_supported) {
      throw new AuthError('issuer_mismatch', { description: 'the callback lacks the iss parameter this OP promises (RFC 9207)' });
    }
    return;
  }
  if (iss !== flow.issuer) throw new AuthError('issuer_mismatch', { description: 'the callback comes from another OP (RFC 9207 iss mismatch)' });
}

/** States of flows redeemed by this process, kept for a flow's lifetime (at most 10,000). */
const redeemed = new BoundedMap<string, true>({ maxEntries: 10_000 });

function markRedeemed(state: string, until: number): void {
  redeemed.set(state, true, until - Date.now());
}

function checkRedirectUri(value: unknown): string {
  if (typeof value !== 'string') throw argumentError('redirectUri is required');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw argumentError('redirectUri must be an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw argumentError('redirectUri must be an http(s) URL');
  if (url.search || url.hash) throw argumentError('redirectUri must not have a query or fragment');
  return url.href;
}

const argumentError = (description: string): AuthError => new AuthError('invalid_argument', { description });
