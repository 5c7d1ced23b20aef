/**
 * The dev OP's configuration in one place: tenant, users, APIs and their scopes/app roles,
 * clients, lifetimes, and the oidc-provider configuration built from them.
 *
 * Entra v2 dialect: scopes carry their API as a prefix (`api://orders/Orders.Read`); the OP maps
 * the prefix to the resource (audience) itself, so clients never send `resource=`.
 */
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { errors } from 'oidc-provider';
import {
  type ApiDefinition, allScopesOf, apisInScopes, expandDefault, splitScopes,
} from './dialect.js';
import type { ConsentBook } from './consents.js';
import type { SigningJwk } from './keys.js';
import { accessTokenLifetime, caeInteractionPolicy, markCaeToken, type CaeState } from './cae.js';
import { IDENTITIES, TENANTS, identityClaims, identityIn, userNotInTenant, type DevOpTenant } from './tenants.js';
import {
  deviceSuccessSource, logoutSource, postLogoutSuccessSource, renderError,
  userCodeConfirmSource, userCodeInputSource,
} from './pages.js';

// ---------------------------------------------------------------------------------------------
// Directory

/** The default tenant (contoso); its issuer is `${url}/${TENANT_ID}/v2.0`. See tenants.ts for fabrikam. */
export const TENANT_ID: string = TENANTS.contoso.id;

/** A demo user. `oid` is also the OIDC `sub` and oidc-provider's accountId. */
export interface DevOpUser {
  username: string;
  password: string;
  oid: string;
  name: string;
  email: string;
}

/**
 * The demo users (password `password`) by their home identity: alice and bob in contoso, frank in
 * fabrikam (alice's guest identity in fabrikam is in tenants.ts). `preferred_username` is `username`.
 */
export const USERS = {
  alice: { username: 'alice', password: 'password', oid: 'a11ce000-0000-4000-8000-00000000a11c', name: 'Alice Example', email: 'alice@example.com' },
  bob: { username: 'bob', password: 'password', oid: 'b0b00000-0000-4000-8000-000000000b0b', name: 'Bob Example', email: 'bob@example.com' },
  frank: { username: 'frank', password: 'password', oid: 'f4a2c000-0000-4000-8000-0000000f4a2c', name: 'Frank Fabrikam', email: 'frank@fabrikam.example' },
} as const satisfies Record<string, DevOpUser>;

/** The protected APIs (resource servers), keyed by their App ID URI (the token `aud`). */
export const APIS: Readonly<Record<string, ApiDefinition>> = {
  'api://orders': { scopes: ['Orders.Read', 'Orders.Write'], appRoles: ['Orders.Read.All'], owner: 'orders' },
  'api://inventory': { scopes: ['Inventory.Read'], appRoles: ['Inventory.Read.All'], owner: 'inventory' },
  // accessTokenAcceptedVersion null/1 in its manifest: Entra issues v1 access tokens for it.
  'api://reports': { scopes: ['Reports.Read'], appRoles: ['Reports.Read.All'], owner: 'reports', accessTokenVersion: 1 },
};

/** App roles assigned to clients (client_credentials tokens carry them as `roles`). */
export const APP_ROLE_ASSIGNMENTS: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  daemon: { 'api://inventory': ['Inventory.Read.All'], 'api://orders': ['Orders.Read.All'], 'api://reports': ['Reports.Read.All'] },
  orders: { 'api://inventory': ['Inventory.Read.All'] },
  ordersCert: { 'api://inventory': ['Inventory.Read.All'] },
};

/** Client keys of the registry (see {@link CLIENTS}). */
export type ClientName = 'webApp' | 'orders' | 'ordersCert' | 'inventory' | 'daemon' | 'cli' | 'reports' | 'contosoOnly';

/** Static facts about each client: its id, service-principal object id, and what it may do. */
export const CLIENTS: Readonly<Record<ClientName, { clientId: string; appOid: string; description: string }>> = {
  webApp: { clientId: 'web-app', appOid: '0b0e0001-0000-4000-8000-000000000001', description: 'confidential web app: auth code + PKCE, refresh (secret, basic or post)' },
  orders: { clientId: 'orders-api', appOid: '0b0e0002-0000-4000-8000-000000000002', description: 'web API owning api://orders: OBO, client_credentials, refresh (secret)' },
  ordersCert: { clientId: 'orders-api-cert', appOid: '0b0e0003-0000-4000-8000-000000000003', description: 'same role as orders, authenticates with private_key_jwt (certificate)' },
  inventory: { clientId: 'inventory-api', appOid: '0b0e0004-0000-4000-8000-000000000004', description: 'downstream web API owning api://inventory (secret)' },
  daemon: { clientId: 'daemon', appOid: '0b0e0005-0000-4000-8000-000000000005', description: 'client_credentials only: api://inventory/.default -> roles' },
  cli: { clientId: 'cli', appOid: '0b0e0006-0000-4000-8000-000000000006', description: 'public client: device code, auth code on http://127.0.0.1:<any port>, refresh, password (ROPC, for tests)' },
  reports: { clientId: 'reports-api', appOid: '0b0e0007-0000-4000-8000-000000000007', description: 'downstream web API owning api://reports, whose access tokens are v1 (secret)' },
  contosoOnly: { clientId: 'contoso-only-app', appOid: '0b0e0008-0000-4000-8000-000000000008', description: 'single-tenant web app of contoso: users of other tenants get AADSTS50020' },
};

/**
 * Apps registered single-tenant, by client id -> their tenant. Every other app is multi-tenant
 * (registered in contoso, usable by every tenant's users).
 */
export const SINGLE_TENANT_APPS: Readonly<Record<string, string>> = { [CLIENTS.contosoOnly.clientId]: TENANTS.contoso.id };

/** The API a client owns (OBO assertions must be addressed to it). */
export function ownApiOf(clientId: string): string | undefined {
  const name = (Object.keys(CLIENTS) as ClientName[]).find((n) => CLIENTS[n].clientId === clientId);
  if (name === 'ordersCert') return 'api://orders';
  return Object.entries(APIS).find(([, def]) => def.owner === name)?.[0];
}

/** Client registry key for a client id. */
export function clientNameOf(clientId: string): ClientName | undefined {
  return (Object.keys(CLIENTS) as ClientName[]).find((n) => CLIENTS[n].clientId === clientId);
}

// ---------------------------------------------------------------------------------------------
// Lifetimes and defaults

/** Default lifetimes, seconds. */
export const DEFAULT_TTL = { accessToken: 3600, refreshToken: 14 * 24 * 3600, idToken: 3600, code: 60, deviceCode: 600, interaction: 3600, session: 14 * 24 * 3600 } as const;

/**
 * Seconds a device-code client must wait between polls: sent as `interval` in the device
 * authorization response and enforced with `slow_down` (Entra says 5; the dev OP is quicker so
 * demos and tests do not wait).
 */
export const DEVICE_POLL_INTERVAL = 1;

/** Default web app URIs (overridable through `startDevOp({ webApp })`). */
export const WEB_APP_DEFAULTS = {
  redirectUris: ['http://localhost:3000/callback', 'http://127.0.0.1:3000/callback'],
  postLogoutRedirectUris: ['http://localhost:3000/', 'http://127.0.0.1:3000/'],
} as const;

/** Entra-like endpoint paths (relative to the issuer path `/${TENANT_ID}/v2.0`). */
export const ROUTES = {
  authorization: '/oauth2/v2.0/authorize',
  token: '/oauth2/v2.0/token',
  jwks: '/discovery/v2.0/keys',
  end_session: '/oauth2/v2.0/logout',
  device_authorization: '/oauth2/v2.0/devicecode',
  code_verification: '/devicelogin',
  userinfo: '/oidc/userinfo',
  revocation: '/oauth2/v2.0/revoke',
  introspection: '/oauth2/v2.0/introspect',
} as const;

// ---------------------------------------------------------------------------------------------
// oidc-provider configuration

/** The clients that have a secret in {@link RuntimeSettings} (ordersCert's is unused: private_key_jwt). */
export type SecretClientName = 'webApp' | 'orders' | 'ordersCert' | 'inventory' | 'daemon' | 'reports' | 'contosoOnly';

/** What varies per start: keys, secrets, lifetimes, web app URIs. */
export interface RuntimeSettings {
  /** The default tenant's mount path (each tenant's is {@link tenantMountPath}). */
  mountPath: string;
  signingKeys: SigningJwk[];
  cookieKeys: string[];
  secrets: Record<SecretClientName, string>;
  ordersCertJwk: Record<string, string | string[]>;
  accessTokenTtl: number;
  /** Revocations (cae.ts): a revoked user's OP session asks for the login again. */
  cae?: CaeState;
  /** Lifetime of CAE access tokens (requests announcing CP1), seconds; default cae.ts `CAE_ACCESS_TOKEN_TTL`. */
  caeAccessTokenTtl?: number;
  refreshTokenTtl: number;
  /** Device code lifetime in seconds (default {@link DEFAULT_TTL}.deviceCode). */
  deviceCodeTtl?: number;
  webApp: { redirectUris: string[]; postLogoutRedirectUris: string[]; backchannelLogoutUri?: string | undefined };
  /** What each user consented to, per client (the consent page records, refresh reads). */
  consents: ConsentBook;
  /**
   * The storage adapter every tenant's provider shares (oidc-provider gives each its own memory
   * store otherwise): a code issued at /organizations by fabrikam is found wherever it is redeemed,
   * and sessions and tokens survive `rotateKeys`.
   */
  adapter?: (model: string) => unknown;
}

/** oidc-provider client metadata for every client. */
export function clientMetadata(rt: RuntimeSettings): Record<string, unknown>[] {
  const { secrets } = rt;
  return [
    {
      client_id: CLIENTS.webApp.clientId, client_secret: secrets.webApp,
      token_endpoint_auth_method: 'client_secret_basic', // oidc-provider accepts post as well
      // jwt-bearer too, so that an OBO attempt reaches the grant and fails like Entra (AADSTS50013)
      grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:jwt-bearer'], response_types: ['code'],
      redirect_uris: rt.webApp.redirectUris, post_logout_redirect_uris: rt.webApp.postLogoutRedirectUris,
      ...(rt.webApp.backchannelLogoutUri ? { backchannel_logout_uri: rt.webApp.backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
    },
    {
      client_id: CLIENTS.orders.clientId, client_secret: secrets.orders, token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['urn:ietf:params:oauth:grant-type:jwt-bearer', 'client_credentials', 'refresh_token'], response_types: [], redirect_uris: [],
    },
    {
      client_id: CLIENTS.ordersCert.clientId, token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [rt.ordersCertJwk] },
      grant_types: ['urn:ietf:params:oauth:grant-type:jwt-bearer', 'client_credentials', 'refresh_token'], response_types: [], redirect_uris: [],
    },
    {
      client_id: CLIENTS.inventory.clientId, client_secret: secrets.inventory, token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['client_credentials', 'urn:ietf:params:oauth:grant-type:jwt-bearer'], response_types: [], redirect_uris: [],
    },
    {
      client_id: CLIENTS.reports.clientId, client_secret: secrets.reports, token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['client_credentials', 'urn:ietf:params:oauth:grant-type:jwt-bearer'], response_types: [], redirect_uris: [],
    },
    {
      client_id: CLIENTS.contosoOnly.clientId, client_secret: secrets.contosoOnly, token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
      redirect_uris: rt.webApp.redirectUris, post_logout_redirect_uris: rt.webApp.postLogoutRedirectUris,
    },
    {
      client_id: CLIENTS.daemon.clientId, client_secret: secrets.daemon, token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['client_credentials'], response_types: [], redirect_uris: [],
    },
    {
      client_id: CLIENTS.cli.clientId, token_endpoint_auth_method: 'none', application_type: 'native',
      // password: ROPC (RFC 6749 §4.3), registered in grants.ts for authflow's tests; not recommended in real apps
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'authorization_code', 'refresh_token', 'password'], response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/', 'http://localhost/'], // RFC 8252: any port
    },
  ];
}

/** The resource server an access token is for, from the prefixes of the scopes in play. */
function requestedScopeString(ctx: KoaContextWithOIDC): string | undefined {
  const e = ctx.oidc.entities;
  const s: unknown = ctx.oidc.params.scope ?? e['AuthorizationCode']?.scope ?? e['DeviceCode']?.scope ?? e['RefreshToken']?.scope;
  return typeof s === 'string' ? s : undefined;
}

function resourceServerInfo(api: string, ttl: number): Record<string, unknown> {
  return {
    scope: allScopesOf(api, APIS).join(' '),
    audience: api,
    accessTokenTTL: ttl,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: 'RS256' } },
  };
}

/** Where a tenant's authority is mounted: `/<tid>/v2.0`. */
export const tenantMountPath = (tenant: DevOpTenant): string => `/${tenant.id}/v2.0`;

/**
 * Builds the oidc-provider configuration of one tenant's authority. Every tenant shares the
 * clients, the APIs and the signing keys (Entra's common keys); the tenant decides `iss`, `tid`
 * and which identity of a person the tokens name.
 */
export function providerConfiguration(rt: RuntimeSettings, tenant: DevOpTenant = TENANTS.contoso): Configuration {
  const suffix = tenant.id === TENANTS.contoso.id ? '' : `.${tenant.name}`;
  return {
    clients: clientMetadata(rt),
    ...(rt.adapter ? { adapter: rt.adapter } : {}),
    jwks: { keys: rt.signingKeys },
    // A session per tenant (no cross-tenant SSO): a fabrikam sign-in never reuses a contoso session.
    cookies: { keys: rt.cookieKeys, names: { session: `_session${suffix}`, interaction: `_interaction${suffix}`, resume: `_interaction_resume${suffix}` } },
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    claims: {
      openid: ['sub', 'tid', 'oid', 'idp'],
      profile: ['name', 'preferred_username'],
      email: ['email'],
    },
    conformIdTokenClaims: false, // profile claims in the ID token, as Entra does
    // devop_authority: set by the front when a request came through /organizations or /common.
    extraParams: ['client_info', 'devop_authority'],
    // A grant names one identity; redeemed at another tenant's authority (a refresh for another
    // tenant profile, Entra's per-request authority), the tokens name the person's identity there.
    async findAccount(_ctx: unknown, sub: string) {
      const found = IDENTITIES[sub];
      if (!found) return undefined;
      const user = found.tid === tenant.id ? found : identityIn(found, tenant.id);
      if (!user) throw new errors.CustomOIDCProviderError('invalid_grant', userNotInTenant(found.username, tenant));
      return {
        accountId: user.oid,
        claims: async () => ({
          sub: user.oid, ...identityClaims(user), name: user.name,
          preferred_username: user.username, email: user.email,
        }),
      };
    },
    interactions: { policy: caeInteractionPolicy(rt.cae), url: (_ctx: unknown, interaction: { uid: string }) => `${tenantMountPath(tenant)}/interaction/${interaction.uid}` },
    pkce: { required: () => true }, // S256 only (oidc-provider 9 supports nothing else)
    // Refresh tokens for every client allowed the grant, without prompt=consent (see DESIGN).
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(g: string): boolean }) => client.grantTypeAllowed('refresh_token'),
    expiresWithSession: async () => false,
    rotateRefreshToken: true,
    routes: ROUTES,
    clientBasedCORS: () => true,
    responseTypes: ['code'],
    // oidc-provider's SSRF guard refuses loopback; the dev OP only ever calls loopback RPs
    // (back-channel logout), so drop the guard for those and refuse anything else.
    fetch: (url: string, init: RequestInit & { dispatcher?: unknown }) => {
      const { hostname } = new URL(url);
      if (!['127.0.0.1', 'localhost', '[::1]'].includes(hostname)) return Promise.reject(new Error(`dev OP: refusing to call non-loopback ${hostname}`));
      const { dispatcher: _ssrfGuard, ...rest } = init;
      return globalThis.fetch(url, rest);
    },
    renderError,
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      deviceFlow: { enabled: true, userCodeInputSource, userCodeConfirmSource, successSource: deviceSuccessSource },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
      backchannelLogout: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // Entra dialect: the resource comes from the scope prefix, never from `resource=`.
        async defaultResource(ctx: KoaContextWithOIDC, _client: unknown, oneOf?: string | string[]) {
          const apis = apisInScopes(splitScopes(requestedScopeString(ctx)), APIS);
          if (oneOf) {
            const list = Array.isArray(oneOf) ? oneOf : [oneOf];
            return apis.find((a) => list.includes(a)) ?? list[0];
          }
          if (apis.length === 0) return undefined;
          return apis.length === 1 ? apis[0] : apis;
        },
        useGrantedResource: async () => true,
        async getResourceServerInfo(_ctx: unknown, resource: string) {
          if (!(resource in APIS)) throw new errors.InvalidTarget(`AADSTS500011: The resource principal named ${resource} was not found in the tenant.`);
          return resourceServerInfo(resource, rt.accessTokenTtl);
        },
      },
    },
    ttl: {
      // CAE requests (claims announcing CP1) get Entra's long-lived tokens (cae.ts).
      AccessToken: (ctx: KoaContextWithOIDC | undefined) => accessTokenLifetime(ctx, rt.accessTokenTtl, rt.caeAccessTokenTtl),
      ClientCredentials: (ctx: KoaContextWithOIDC | undefined) => accessTokenLifetime(ctx, rt.accessTokenTtl, rt.caeAccessTokenTtl),
      RefreshToken: rt.refreshTokenTtl,
      IdToken: DEFAULT_TTL.idToken,
      AuthorizationCode: DEFAULT_TTL.code,
      DeviceCode: rt.deviceCodeTtl ?? DEFAULT_TTL.deviceCode,
      Interaction: DEFAULT_TTL.interaction,
      Session: DEFAULT_TTL.session,
      Grant: rt.refreshTokenTtl,
    },
    formats: { customizers: { jwt: (ctx: KoaContextWithOIDC | undefined, token: never, jwt: { payload: Record<string, unknown> }) => entraAccessTokenClaims(tenant, ctx, token, jwt) } },
  };
}

/** Resource server settings for an API (used by the OBO grant too). */
export function resourceServerFor(api: string, rt: RuntimeSettings): Record<string, unknown> {
  return resourceServerInfo(api, rt.accessTokenTtl);
}

/**
 * formats.customizers.jwt: reshapes oidc-provider's JWT access tokens into Entra v2 ones
 * (`scp` unprefixed or `roles`, `tid`, `oid`, `idp` for guests, `azp`, `ver`, `nbf`, `typ: JWT`),
 * or v1 ones for an API with `accessTokenVersion: 1` (see {@link toV1}).
 */
async function entraAccessTokenClaims(
  tenant: DevOpTenant,
  ctx: KoaContextWithOIDC | undefined,
  token: { kind: string; clientId: string; accountId?: string; scope?: string; grantId?: string },
  jwt: { header?: Record<string, unknown>; payload: Record<string, unknown> },
): Promise<void> {
  const p = jwt.payload;
  const aud = String(p['aud']);
  jwt.header = { ...jwt.header, typ: 'JWT' };
  p['ver'] = '2.0';
  p['tid'] = tenant.id;
  p['azp'] = token.clientId;
  p['nbf'] = p['iat'];
  if (token.kind === 'ClientCredentials') {
    const name = clientNameOf(token.clientId);
    const oid = name ? CLIENTS[name].appOid : token.clientId;
    p['sub'] = oid;
    p['oid'] = oid;
    const roles = name ? APP_ROLE_ASSIGNMENTS[name]?.[aud] : undefined;
    if (roles?.length) p['roles'] = [...roles];
  } else {
    const user = token.accountId ? IDENTITIES[token.accountId] : undefined;
    Object.assign(p, user ? identityClaims(user) : { oid: token.accountId }, { tid: tenant.id });
    if (user) p['sub'] = user.oid;
    const grant = ctx?.oidc?.entities['Grant'];
    const granted: string[] = grant ? splitScopes(grant.getResourceScope(aud)) : allScopesOf(aud, APIS);
    const scopes = expandDefault(splitScopes(token.scope), granted);
    p['scp'] = scopes.map((s) => (s.startsWith(`${aud}/`) ? s.slice(aud.length + 1) : s)).join(' ');
  }
  markCaeToken(ctx, p);
  delete p['scope'];
  delete p['client_id'];
  if (APIS[aud]?.accessTokenVersion === 1) toV1(p, tenant, token.accountId ? IDENTITIES[token.accountId] : undefined);
}

/**
 * Entra's v1 access token: `ver: "1.0"`, issuer `https://sts.windows.net/<tid>/`, `appid` (and
 * `appidacr`) instead of `azp`, and for a user `unique_name` plus `upn` (members only: Entra
 * leaves `upn` out of a guest's token).
 */
function toV1(p: Record<string, unknown>, tenant: DevOpTenant, user: { username: string; oid: string; homeOid: string; tid: string } | undefined): void {
  p['ver'] = '1.0';
  p['iss'] = `https://sts.windows.net/${tenant.id}/`;
  p['appid'] = p['azp'];
  p['appidacr'] = '1';
  delete p['azp'];
  if (user) {
    p['unique_name'] = user.username;
    if (user.oid === user.homeOid) p['upn'] = user.username;
  }
}
