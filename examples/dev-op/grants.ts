/**
 * Custom token-endpoint behaviour registered on the provider:
 * - the Entra On-Behalf-Of grant (`urn:ietf:params:oauth:grant-type:jwt-bearer`);
 * - a `refresh_token` wrapper that implements Entra multi-resource refresh tokens and refuses
 *   never-consented scopes with AADSTS65001 / `consent_required` BEFORE oidc-provider's own
 *   handler runs (which would consume a rotating refresh token first);
 * - a `device_code` wrapper that enforces the polling interval with `slow_down` (RFC 8628 §3.5;
 *   oidc-provider never sends it), the interval being advertised in the device authorization response;
 * - the resource owner password grant (`password`, RFC 6749 §4.3) for the public `cli` client,
 *   so that authflow's ROPC support can be tested. Not recommended for real apps.
 */
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { errors, type AnyModel, type KoaContextWithOIDC, type Provider } from 'oidc-provider';
import { handler as refreshTokenHandler, parameters as refreshParameters } from 'oidc-provider/lib/actions/grants/refresh_token.js';
import * as grantHelpers from 'oidc-provider/lib/helpers/grants.js';
import { APIS, DEVICE_POLL_INTERVAL, ROUTES, ownApiOf, resourceServerFor, type RuntimeSettings } from './config.js';
import { IDENTITIES, identitiesOf, identityClaims, identityIn, userNotInTenant, type DevOpTenant } from './tenants.js';
import type { ConsentBook } from './consents.js';
import { OIDC_SCOPES, allScopesOf, apiOfScope, apisInScopes, entraErrorFields, expandDefault, splitScopes } from './dialect.js';

/** The OBO grant type. */
export const OBO_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** The device-code grant type. */
export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** The resource owner password credentials grant type. */
export const PASSWORD_GRANT = 'password';

/** oidc-provider's own device-code handler (no type declarations ship for it: loaded by a non-literal specifier). */
const DEVICE_CODE_MODULE: string = 'oidc-provider/lib/actions/grants/device_code.js';
const AUTH_CODE_MODULE: string = 'oidc-provider/lib/actions/grants/authorization_code.js';
const CLIENT_CREDENTIALS_MODULE: string = 'oidc-provider/lib/actions/grants/client_credentials.js';
type GrantHandler = (provider: Provider, helpers: Record<string, unknown>, ctx: KoaContextWithOIDC) => Promise<void>;

const oboError = (error: string, description: string): Error => new errors.CustomOIDCProviderError(error, description);

/** Registers the OBO grant and the refresh_token wrapper on `provider`. */
/**
 * Registers the refresh wrapper and the OBO grant. `oboClaimsChallenge` returns the claims
 * challenge Conditional Access currently demands for On-Behalf-Of (a fault switch), if any.
 */
export function registerGrants(
  provider: Provider, tenant: DevOpTenant, issuers: string[], rt: RuntimeSettings, oboClaimsChallenge: () => string | undefined = () => undefined,
  /** Entra's checks before any grant (cae.ts `tokenChecks`): true when they answered the request. */
  before: (ctx: KoaContextWithOIDC) => Promise<boolean> = async () => false,
): void {
  const helpers = Object.fromEntries(
    Object.entries(grantHelpers).map(([name, fn]) => [name, (fn as (...a: unknown[]) => unknown).bind(undefined, provider)]),
  );

  // oidc-provider's own handlers, behind the checks (no type declarations ship: non-literal specifiers).
  for (const [grantType, module] of [['authorization_code', AUTH_CODE_MODULE], ['client_credentials', CLIENT_CREDENTIALS_MODULE]] as const) {
    const own = import(module).then((m: { handler: GrantHandler; parameters: Set<string> }) => m);
    provider.registerGrantType(grantType, async (ctx) => {
      if (await before(ctx)) return;
      await (await own).handler(provider, helpers, ctx);
    }, [...(grantType === 'authorization_code' ? ['code', 'code_verifier', 'redirect_uri'] : ['scope']), 'resource', 'client_info'], ['resource']);
  }

  provider.registerGrantType('refresh_token', async (ctx) => {
    if (await before(ctx)) return;
    if (await refuseOrWidenRefresh(provider, rt.consents, ctx)) return;
    await refreshTokenHandler(provider, helpers, ctx);
  }, [...refreshParameters, 'resource', 'client_info'], ['resource']);

  provider.registerGrantType(OBO_GRANT, async (ctx) => { if (!await before(ctx)) await onBehalfOf(provider, tenant, issuers, rt, ctx, oboClaimsChallenge()); },
    ['assertion', 'requested_token_use', 'scope', 'client_info']);

  registerDevicePolling(provider, helpers, before);

  provider.registerGrantType(PASSWORD_GRANT, async (ctx) => { if (!await before(ctx)) await resourceOwnerPassword(provider, tenant, rt, ctx); },
    ['username', 'password', 'scope', 'client_info']);
}

/**
 * Device-code polling as RFC 8628 §3.5 describes it: the device authorization response names
 * `interval`, and a poll for the same device code sooner than that after the previous one is
 * answered `slow_down` (the client must then add 5 s to its interval). Then oidc-provider's own
 * handler (pending, expired, denied, tokens).
 */
function registerDevicePolling(provider: Provider, helpers: Record<string, unknown>, before: (ctx: KoaContextWithOIDC) => Promise<boolean>): void {
  const lastPoll = new Map<string, number>();
  const deviceHandler = import(DEVICE_CODE_MODULE).then((m: { handler: GrantHandler }) => m.handler);
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as Record<string, unknown> | undefined;
    if (ctx.path === ROUTES.device_authorization && ctx.status === 200 && typeof body?.['device_code'] === 'string') {
      body['interval'] = DEVICE_POLL_INTERVAL;
      // Entra's sentence for the user (MSAL shows it as is).
      body['message'] = `To sign in, use a web browser to open the page ${String(body['verification_uri'])} and enter the code ${String(body['user_code'])} to authenticate.`;
    }
  });
  provider.registerGrantType(DEVICE_GRANT, async (ctx) => {
    if (await before(ctx)) return;
    const code = ctx.oidc.params.device_code;
    if (typeof code === 'string' && code !== '') {
      const now = Date.now();
      const previous = lastPoll.get(code);
      lastPoll.delete(code);
      lastPoll.set(code, now);
      while (lastPoll.size > 1000) lastPoll.delete(lastPoll.keys().next().value as string);
      // 10% leeway for timers; a client polling at the advertised interval never sees slow_down.
      if (previous !== undefined && now - previous < DEVICE_POLL_INTERVAL * 900) {
        throw oboError('slow_down', `AADSTS70000: polling too quickly; wait at least ${DEVICE_POLL_INTERVAL} s between requests, and 5 s more after each slow_down.`);
      }
    }
    await (await deviceHandler)(provider, helpers, ctx);
  }, ['device_code', 'client_info']);
}

/**
 * ROPC for the dev OP's users (RFC 6749 §4.3): checks the password, then issues what a sign-in
 * would — an access token for the API the scopes name (pre-consented, as the consent page would
 * grant), an ID token, and a refresh token when `offline_access` is asked. A wrong username or
 * password is `invalid_grant` (Entra's AADSTS50126).
 */
async function resourceOwnerPassword(provider: Provider, tenant: DevOpTenant, rt: RuntimeSettings, ctx: KoaContextWithOIDC): Promise<void> {
  const { params, client } = ctx.oidc;
  const identities = identitiesOf(typeof params.username === 'string' ? params.username : undefined);
  if (!identities.length || params.password !== 'password') {
    throw oboError('invalid_grant', 'AADSTS50126: Error validating credentials due to invalid username or password.');
  }
  const user = identities.find((i) => i.tid === tenant.id);
  if (!user) throw oboError('invalid_grant', userNotInTenant(String(params.username), tenant));
  const requested = splitScopes(params.scope);
  const apis = apisInScopes(requested, APIS);
  const unknown = requested.filter((s) => !OIDC_SCOPES.has(s) && s !== 'email' && !allScopesOf(apiOfScope(s, APIS) ?? '', APIS).includes(s));
  if (apis.length > 1 || unknown.length) {
    throw oboError('invalid_scope', `AADSTS70011: The provided request must include at most one API's scopes. Invalid: ${unknown.join(' ') || params.scope}`);
  }
  const api = apis[0];
  const oidcScopes = requested.filter((s) => OIDC_SCOPES.has(s) || s === 'email');
  const apiScopes = api ? expandDefault(requested.filter((s) => apiOfScope(s, APIS) === api), allScopesOf(api, APIS)) : [];
  const offline = oidcScopes.includes('offline_access') && client.grantTypeAllowed('refresh_token');

  const grant = new provider.Grant({ accountId: user.oid, clientId: client.clientId });
  if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
  if (api) grant.addResourceScope(api, allScopesOf(api, APIS).join(' '));
  const grantId: string = await grant.save();
  ctx.oidc.entity('Grant', grant);

  const at = new provider.AccessToken({
    accountId: user.oid, client, grantId, gty: PASSWORD_GRANT,
    scope: (api ? apiScopes : oidcScopes.filter((s) => s !== 'offline_access')).join(' '),
  });
  if (api) at.resourceServer = new provider.ResourceServer(api, resourceServerFor(api, rt));
  ctx.oidc.entity('AccessToken', at);
  const accessToken: string = await at.save();

  let refreshToken: string | undefined;
  if (offline) {
    const refresh = new provider.RefreshToken({
      accountId: user.oid, client, grantId, gty: PASSWORD_GRANT, rotations: 0, expiresWithSession: false,
      authTime: Math.floor(Date.now() / 1000), scope: [...oidcScopes, ...apiScopes].join(' '), ...(api ? { resource: api } : {}),
    });
    refreshToken = await refresh.save();
  }

  let idToken: string | undefined;
  if (oidcScopes.includes('openid')) {
    const { IdToken } = provider as unknown as { IdToken: new (claims: Record<string, unknown>, options: { ctx: KoaContextWithOIDC }) => { scope: string; issue(o: { use: string }): Promise<string> } };
    const token = new IdToken({
      sub: user.oid, ...identityClaims(user), name: user.name, preferred_username: user.username, email: user.email,
      auth_time: Math.floor(Date.now() / 1000),
    }, { ctx });
    token.scope = oidcScopes.join(' ');
    idToken = await token.issue({ use: 'idtoken' });
  }

  ctx.body = {
    token_type: 'Bearer',
    scope: [...apiScopes, ...oidcScopes.filter((s) => s !== 'offline_access'), ...(refreshToken ? ['offline_access'] : [])].join(' '),
    expires_in: at.expiration,
    access_token: accessToken,
    ...(idToken ? { id_token: idToken } : {}),
    ...(refreshToken ? { refresh_token: refreshToken } : {}),
  };
}

/**
 * Multi-resource refresh with Entra's consent rules: a refresh asking for scopes the user
 * consented to (in this token's grant, or for this client in another sign-in: the consent book)
 * but that this refresh token was not issued with widens the stored grant and token first; a
 * refresh asking for an API scope never consented to — another API, or another scope of a
 * consented API (`Orders.Write` after consenting to `Orders.Read`) — is answered with
 * `invalid_grant` + `consent_required` (AADSTS65001) and leaves the refresh token untouched.
 * Returns true when it answered the request itself.
 */
async function refuseOrWidenRefresh(provider: Provider, consents: ConsentBook, ctx: KoaContextWithOIDC): Promise<boolean> {
  const { params, client } = ctx.oidc;
  const requested = splitScopes(params.scope);
  if (!requested.length || typeof params.refresh_token !== 'string') return false;
  const token = await provider.RefreshToken.find(params.refresh_token, { ignoreExpiration: true });
  if (!token || token.clientId !== client.clientId || token.consumed || token.isExpired) return false;
  const grant = await provider.Grant.find(token.grantId);
  if (!grant) return false;

  const inGrant = (s: string, api: string): boolean => splitScopes(grant.getResourceScope(api)).includes(s);
  const missing = requested.filter((s) => {
    if (OIDC_SCOPES.has(s)) return false;
    const api = apiOfScope(s, APIS);
    return !api || (!inGrant(s, api) && !consents.has(token.accountId, client.clientId, s));
  });
  if (missing.length) {
    ctx.status = 400;
    const description = `AADSTS65001: The user or administrator has not consented to use the application with ID '${client.clientId}'. Send an interactive authorization request for this user and resource. Missing: ${missing.join(' ')}`;
    ctx.body = { error: 'invalid_grant', error_description: description, suberror: 'consent_required', ...entraErrorFields(description) };
    provider.emit('grant.error', ctx, Object.assign(new Error(description), { error: 'invalid_grant', error_description: description }));
    return true;
  }

  await addConsentedElsewhere(grant, consents.byApi(token.accountId, client.clientId), requested);

  const have = new Set(splitScopes(token.scope));
  const grantedOidc = new Set(splitScopes(grant.getOIDCScope()));
  let changed = false;
  const kept: string[] = [];
  for (const s of requested) {
    if (have.has(s)) { kept.push(s); continue; }
    if (OIDC_SCOPES.has(s) && s !== 'offline_access' && !grantedOidc.has(s)) continue; // not consented: drop silently
    have.add(s); kept.push(s); changed = true;
  }
  params.scope = kept.join(' ');
  if (changed) {
    const resources = new Set<string>([token.resource ?? []].flat());
    for (const api of apisInScopes(kept, APIS)) resources.add(api);
    token.scope = [...have].join(' ');
    token.resource = [...resources];
    await token.save();
  }
  return false;
}

/** Adds to `grant` the requested scopes the user consented to for this client in another sign-in. */
async function addConsentedElsewhere(grant: AnyModel, consented: Map<string, string[]>, requested: readonly string[]): Promise<void> {
  let changed = false;
  for (const api of apisInScopes(requested, APIS)) {
    const inGrant = new Set(splitScopes(grant.getResourceScope(api)));
    const more = (consented.get(api) ?? []).filter((s) => !inGrant.has(s));
    if (more.length) { grant.addResourceScope(api, more.join(' ')); changed = true; }
  }
  if (changed) await grant.save();
}

async function onBehalfOf(provider: Provider, tenant: DevOpTenant, issuers: string[], rt: RuntimeSettings, ctx: KoaContextWithOIDC, claimsChallenge: string | undefined): Promise<void> {
  const { params, client } = ctx.oidc;
  if (params.requested_token_use !== 'on_behalf_of') {
    throw oboError('invalid_request', "AADSTS70003: requested_token_use must be 'on_behalf_of'.");
  }
  if (typeof params.assertion !== 'string' || !params.assertion) {
    throw oboError('invalid_request', "AADSTS900144: The request body must contain the following parameter: 'assertion'.");
  }
  if (client.clientAuthMethod === 'none') {
    throw oboError('invalid_client', 'AADSTS7000218: The request body must contain client_assertion or client_secret.');
  }

  const jwks = createLocalJWKSet({ keys: rt.signingKeys.map(({ kty, kid, alg, use, n, e }) => ({ kty, kid, alg, use, n, e })) });
  let claims: JWTPayload;
  try {
    // Any of the OP's tenants (one key set, Entra's common keys); the user is then looked up in this one.
    ({ payload: claims } = await jwtVerify(params.assertion, jwks, { issuer: issuers, algorithms: ['RS256'] }));
  } catch (cause) {
    throw oboError('invalid_grant', `AADSTS50013: Assertion failed signature validation or is expired. [${(cause as Error).message}]`);
  }
  const ownApi = ownApiOf(client.clientId);
  if (!ownApi || claims.aud !== ownApi) {
    throw oboError('invalid_grant', `AADSTS50013: Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was '${String(claims.aud)}' and the expected audience is '${ownApi ?? client.clientId}'.`);
  }
  const oid = typeof claims['oid'] === 'string' ? claims['oid'] : undefined;
  const asserted = oid ? IDENTITIES[oid] : undefined;
  if (!asserted || typeof claims['scp'] !== 'string') {
    throw oboError('invalid_grant', 'AADSTS50034: The assertion is not a delegated (user) token.');
  }
  // The same person's object in the tenant asked (a guest's OBO at its home tenant names its home object).
  const user = asserted.tid === tenant.id ? asserted : identityIn(asserted, tenant.id);
  if (!user) throw oboError('invalid_grant', userNotInTenant(asserted.username, tenant));

  if (claimsChallenge) {
    // Entra's answer when Conditional Access wants the user back (e.g. for MFA): the caller must
    // pass the claims up to the app, which signs the user in again with them.
    const description = 'AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access the resource.';
    ctx.status = 400;
    ctx.body = { error: 'interaction_required', error_description: description, suberror: 'basic_action', claims: claimsChallenge, ...entraErrorFields(description) };
    return;
  }

  const requested = splitScopes(params.scope);
  const apis = apisInScopes(requested, APIS);
  const unknown = requested.filter((s) => !OIDC_SCOPES.has(s) && !allScopesOf(apiOfScope(s, APIS) ?? '', APIS).includes(s));
  if (apis.length !== 1 || unknown.length) {
    throw oboError('invalid_scope', `AADSTS70011: The provided request must include exactly one API's scopes. Invalid: ${unknown.join(' ') || params.scope}`);
  }
  const api = apis[0] as string;
  const scopes = expandDefault(requested.filter((s) => apiOfScope(s, APIS) === api), allScopesOf(api, APIS));
  const offline = requested.includes('offline_access');

  // A grant for (user, calling API): the dev OP treats the middle tier as pre-consented.
  const grant = new provider.Grant({ accountId: user.oid, clientId: client.clientId });
  grant.addResourceScope(api, allScopesOf(api, APIS).join(' '));
  if (offline) grant.addOIDCScope('offline_access');
  const grantId: string = await grant.save();
  ctx.oidc.entity('Grant', grant);

  const at = new provider.AccessToken({ accountId: user.oid, client, grantId, gty: OBO_GRANT, scope: scopes.join(' ') });
  at.resourceServer = new provider.ResourceServer(api, resourceServerFor(api, rt));
  ctx.oidc.entity('AccessToken', at);
  const accessToken: string = await at.save();

  let refreshToken: string | undefined;
  if (offline && client.grantTypeAllowed('refresh_token')) {
    const refresh = new provider.RefreshToken({
      accountId: user.oid, client, grantId, gty: OBO_GRANT, rotations: 0, expiresWithSession: false,
      scope: [...scopes, 'offline_access'].join(' '), resource: api,
    });
    refreshToken = await refresh.save();
  }

  ctx.body = {
    token_type: 'Bearer',
    scope: [...scopes, ...(refreshToken ? ['offline_access'] : [])].join(' '),
    expires_in: at.expiration,
    access_token: accessToken,
    ...(refreshToken ? { refresh_token: refreshToken } : {}),
  };
}
