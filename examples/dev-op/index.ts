/**
 * The development OpenID Provider: oidc-provider 9 speaking Entra ID's v2 dialect, served on
 * plain `node:http` on loopback. See config.ts for what it allows.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import LRU from 'oidc-provider/lib/helpers/lru.js';
import { browse } from './browser.js';
import {
  CLIENTS, DEFAULT_TTL, ROUTES, TENANT_ID, USERS, WEB_APP_DEFAULTS, providerConfiguration, tenantMountPath,
  type ClientName, type DevOpUser, type RuntimeSettings,
} from './config.js';
import { homeRealmPage, parseAuthorityPath, serveTemplatedDiscovery, tenantForEndSession, tenantForTokenRequest } from './front.js';
import { IDENTITIES, TENANTS, tenantForSignIn, type DevOpTenant, type Identity, type TenantName } from './tenants.js';
import { OIDC_SCOPES, clientInfo, entraErrorFields, expandDefault, splitScopes } from './dialect.js';
import { OBO_GRANT, registerGrants } from './grants.js';
import { ConsentBook } from './consents.js';
import { handleInteraction } from './interactions.js';
import { acceptDevSecretsFromLoopbackOnly, clientSecrets } from './secrets.js';
import { generateSigningKey, selfSignedCertificate } from './keys.js';
import { ENTRA_CLOUDS } from '../../src/cache/environments.js';
import { answerUnknownTenant, entraClientAuthError, rememberClientAuthFailures, type AadstsFault } from './aadsts.js';
import { CaeState, tokenChecks } from './cae.js';

export type { DevOpUser } from './config.js';
export { TENANT_ID, USERS, APIS, CLIENTS } from './config.js';
export { TENANTS, IDENTITIES, type DevOpTenant, type Identity, type TenantName } from './tenants.js';
export { DEV_SECRETS } from './secrets.js';
export { AADSTS, MFA_CLAIMS_CHALLENGE, type AadstsCode, type AadstsFault } from './aadsts.js';
export { CAE_ACCESS_TOKEN_TTL } from './cae.js';

/** Options of {@link startDevOp}. */
export interface DevOpOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** Access token lifetime in seconds (default 3600). */
  accessTokenTtl?: number;
  /** Lifetime of CAE access tokens (token requests whose claims announce CP1), seconds (default 24 h, as Entra's 20-28 h). */
  caeAccessTokenTtl?: number;
  /** Refresh token lifetime in seconds (default 14 days). */
  refreshTokenTtl?: number;
  /** Device code lifetime in seconds (default 600). */
  deviceCodeTtl?: number;
  /**
   * Secret of every confidential client (webApp, orders, inventory, daemon), accepted from any
   * peer. Default: the fixed development secrets (secrets.ts, README), accepted from loopback only.
   */
  clientSecret?: string;
  /** Overrides for the `webApp` client. */
  webApp?: { redirectUris?: string[]; postLogoutRedirectUris?: string[]; backchannelLogoutUri?: string };
  /**
   * The origin clients reach the OP at through a TLS front, e.g. `https://login.microsoftonline.com`
   * with that host mapped onto loopback (test/interop): the issuer becomes `<publicOrigin>/<tenant>/v2.0`
   * and the front's `X-Forwarded-Proto`/`X-Forwarded-Host` are trusted, so endpoint URLs name the
   * host each client asked for. Default: the OP's own http:// URL.
   */
  publicOrigin?: string;
}

/** A registered client as the caller needs it (credentials included). */
export interface DevOpClient {
  clientId: string;
  clientSecret?: string;
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  /** PKCS#8 PEM private key (private_key_jwt clients). */
  privateKey?: string;
  /** X.509 PEM certificate matching `privateKey`. */
  certificate?: string;
  /** The API this client owns, if any (`api://orders`). */
  apiUri?: string;
}

/** Options of {@link DevOp.signIn}. */
export interface SignInOptions {
  username: string;
  password?: string;
  /** Accept the consent page (default true); false cancels it (`error=access_denied`). */
  consent?: boolean;
  /** Share a cookie jar between calls (e.g. signIn then signOut in one browser session). */
  jar?: Map<string, string>;
}

/** Faults injected in front of the token endpoint and the JWKS endpoint. */
export interface DevOpFaults {
  tokenEndpoint?: 'down' | 'slow' | 500 | 'garbage';
  jwks?: 'down' | 'slow' | 500;
  /** Delay for 'slow', ms (default 5000). */
  slowMs?: number;
  /** Conditional Access: answer every On-Behalf-Of request with interaction_required and this claims challenge (JSON). */
  oboClaimsChallenge?: string;
  /** Answer token requests (of `grantType`, default all) with this AADSTS error, in Entra's shape (aadsts.ts). */
  aadsts?: AadstsFault;
}

/** HTTP request counts. `token` is per grant_type (unparseable bodies count as `unknown`). */
export interface DevOpStats {
  token: Record<string, number>;
  tokenRequests: number;
  discovery: number;
  jwks: number;
  authorization: number;
  endSession: number;
  /** Token requests per authority path segment (`<tid>`, `organizations`, `common`, as the client sent it). */
  tokenByAuthority: Record<string, number>;
}

/** An error the provider reported (event name, OAuth error and description; never tokens). */
/** An error the provider reported; `clientRequestId` is the request's `client-request-id` header (Entra's correlation id). */
export interface DevOpError { event: string; error: string; description?: string; clientRequestId?: string; at: string }

/** A running dev OP. */
export interface DevOp {
  url: string;
  issuer: string;
  /** contoso's tenant id (the default tenant: `issuer` is its authority). */
  tenantId: string;
  /** The tenants: id and issuer (`<url>/<tid>/v2.0`). */
  tenants: Record<TenantName, { id: string; name: string; issuer: string }>;
  /** An authority URL: a tenant's (by name), or `organizations` / `common` (`<url>/<name>/v2.0`). */
  authority(name: TenantName | 'organizations' | 'common'): string;
  /** Home users (alice, bob: contoso; frank: fabrikam). */
  users: Record<'alice' | 'bob' | 'frank', DevOpUser>;
  /** Guest identities: alice of contoso invited into fabrikam. */
  guests: { aliceInFabrikam: Identity };
  clients: Record<ClientName, DevOpClient>;
  /** Drives login/consent (or a device verification_uri_complete) and resolves to the final URL. */
  signIn(authUri: string, options: SignInOptions): Promise<string>;
  /** Follows an end-session URL, confirms the logout form, resolves to the final URL. */
  signOut(endSessionUri: string, options?: { jar?: Map<string, string> }): Promise<string>;
  faults: { set(faults: DevOpFaults): void; clear(): void };
  stats(): DevOpStats;
  resetStats(): void;
  /**
   * Continuous Access Evaluation's critical event (a password reset, "revoke sessions"): every
   * token of `user` (a DevOpUser, username or oid) issued until now is revoked. Refreshing one is
   * refused with AADSTS50173, and {@link DevOp.tokensValidFrom} tells an API to refuse the user's
   * older access tokens with a claims challenge. Resolves once tokens issued from now on are valid
   * (within a second); resolves to the user's new TokensValidFrom (epoch seconds).
   */
  revoke(user: DevOpUser | string): Promise<number>;
  /**
   * The user's TokensValidFrom (epoch seconds) after {@link DevOp.revoke}, else undefined: an
   * access token of this user (`oid`) issued (`iat`) before it is revoked. What a CAE-aware API
   * asks (`requireBearer({ tokensValidFrom })`), as Entra's resource providers learn of the event.
   */
  tokensValidFrom(oid: string): number | undefined;
  /** The `claims` parameter of recent token requests that reached a grant (most recent last, at most 50). */
  tokenRequestClaims(): Array<{ grantType: string; claims: string | undefined }>;
  /** Adds a new RS256 signing key used for new tokens; old keys stay in the JWKS. */
  rotateKeys(): Promise<void>;
  /** Last errors reported by the provider (most recent last, at most 50). */
  lastErrors(): DevOpError[];
  close(): Promise<void>;
}

const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', OBO_GRANT, 'urn:ietf:params:oauth:grant-type:device_code'];

function emptyStats(): DevOpStats {
  return { token: Object.fromEntries(GRANT_TYPES.map((g) => [g, 0])), tokenRequests: 0, discovery: 0, jwks: 0, authorization: 0, endSession: 0, tokenByAuthority: {} };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts the dev OP. */
export async function startDevOp(options: DevOpOptions = {}): Promise<DevOp> {
  const host = options.host ?? '127.0.0.1';
  const mountPath = `/${TENANT_ID}/v2.0`;
  const cert = selfSignedCertificate('orders-api-cert');
  if (options.clientSecret !== undefined && options.clientSecret.length < 16) {
    throw new Error('startDevOp: clientSecret must be at least 16 characters (e.g. openssl rand -base64 24)');
  }
  const secret = (): string => randomBytes(24).toString('base64url');
  const cae = new CaeState();
  const rt: RuntimeSettings = {
    cae,
    mountPath,
    signingKeys: [generateSigningKey()],
    cookieKeys: [secret()],
    secrets: clientSecrets(options.clientSecret),
    ordersCertJwk: cert.publicJwk,
    consents: new ConsentBook(),
    // clockTolerance 15 s: oidc-provider's default, so expired codes are still found and answered expired_token.
    adapter: ((storage) => (model: string) => new MemoryAdapter(model, storage, 15))(new LRU({ maxSize: 10_000 })),
    accessTokenTtl: options.accessTokenTtl ?? DEFAULT_TTL.accessToken,
    ...(options.caeAccessTokenTtl !== undefined ? { caeAccessTokenTtl: options.caeAccessTokenTtl } : {}),
    refreshTokenTtl: options.refreshTokenTtl ?? DEFAULT_TTL.refreshToken,
    deviceCodeTtl: options.deviceCodeTtl ?? DEFAULT_TTL.deviceCode,
    webApp: {
      redirectUris: options.webApp?.redirectUris ?? [...WEB_APP_DEFAULTS.redirectUris],
      postLogoutRedirectUris: options.webApp?.postLogoutRedirectUris ?? [...WEB_APP_DEFAULTS.postLogoutRedirectUris],
      backchannelLogoutUri: options.webApp?.backchannelLogoutUri,
    },
  };

  let stats = emptyStats();
  let faults: DevOpFaults = {};
  const errorsSeen: DevOpError[] = [];
  const clientInfoGrants = new Set<string>();
  const recordError = (event: string, err: unknown, ctx?: unknown): void => {
    const e = err as { error?: string; error_description?: string; error_detail?: string; message?: string };
    const description = [e.error_description, e.error_detail].filter(Boolean).join(' | ') || undefined;
    const header = (ctx as { get?: (name: string) => string } | undefined)?.get?.('client-request-id');
    const clientRequestId = typeof header === 'string' && header !== '' ? header : undefined;
    errorsSeen.push({ event, error: e.error ?? e.message ?? String(err), ...(description ? { description } : {}), ...(clientRequestId ? { clientRequestId } : {}), at: new Date().toISOString() });
    if (errorsSeen.length > 50) errorsSeen.shift();
  };

  const server = createServer();
  const sockets = new Set<Socket>();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(options.port ?? 0, host, resolve); });
  const { port } = server.address() as AddressInfo;
  // Bound to every interface (a container), it is still reached as loopback by the browser and the app beside it.
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  const origin = options.publicOrigin?.replace(/\/+$/, '') ?? url;
  const issuer = `${origin}${mountPath}`;
  const issuerOf = (tenant: DevOpTenant): string => `${origin}${tenantMountPath(tenant)}`;
  const allIssuers = Object.values(TENANTS).map(issuerOf);

  const buildProvider = (tenant: DevOpTenant): Provider => {
    const provider = new Provider(issuerOf(tenant), providerConfiguration(rt, tenant));
    if (options.publicOrigin) provider.proxy = true;
    registerGrants(provider, tenant, allIssuers, rt, () => faults.oboClaimsChallenge, tokenChecks(provider, {
      state: cae, tenantId: tenant.id, fault: () => faults.aadsts,
      usernameOf: (oid) => (oid === undefined ? undefined : IDENTITIES[oid]?.username),
    }));
    rememberClientAuthFailures(provider);
    // Entra sends no `iss` in authorization responses; through a multi-tenant authority (templated
    // issuer) the tenant's would not match what the client discovered, so leave it out there.
    provider.on('authorization.success', (ctx: KoaContextWithOIDC, out: Record<string, unknown>) => {
      if (ctx.oidc.params?.['devop_authority']) delete out['iss'];
    });
    if (options.clientSecret === undefined) acceptDevSecretsFromLoopbackOnly(provider);
    for (const event of ['grant.error', 'server_error', 'authorization.error', 'end_session.error', 'backchannel.error', 'jwks.error', 'discovery.error', 'introspection.error', 'revocation.error', 'userinfo.error']) {
      provider.on(event, (...args: unknown[]) => recordError(event, args[1], args[0]));
    }
    provider.use(async (ctx: KoaContextWithOIDC, next) => {
      const isToken = ctx.method === 'POST' && ctx.path === ROUTES.token;
      try {
        await next();
      } finally {
        const oidc = isToken ? ctx.oidc : undefined;
        if (isToken) {
          const gt = oidc?.body?.['grant_type'];
          const key = typeof gt === 'string' ? gt : 'unknown';
          stats.token[key] = (stats.token[key] ?? 0) + 1;
        }
        if (oidc) entraTokenResponse(ctx, oidc.body?.['client_info'] === '1', tenant);
      }
    });
    return provider;
  };

  /** Reshapes token responses into Entra's (scope form, ext_expires_in, client_info, error fields). */
  const entraTokenResponse = (ctx: KoaContextWithOIDC, askedClientInfo: boolean, tenant: DevOpTenant): void => {
    const body = ctx.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object') return;
    if (ctx.status >= 400) {
      if (entraClientAuthError(ctx, body, TENANT_ID)) return;
      if (typeof body['error'] === 'string' && !body['trace_id']) Object.assign(body, entraErrorFields(body['error_description']));
      return;
    }
    if (typeof body['access_token'] !== 'string') return;
    const e = ctx.oidc.entities;
    const grant = e['Grant'];
    const source = e['AuthorizationCode'] ?? e['DeviceCode'] ?? e['RefreshToken'];
    if (typeof body['expires_in'] === 'number') body['ext_expires_in'] = body['expires_in'];
    if (grant && source) {
      const aud = e['AccessToken']?.aud ?? e['AccessToken']?.resourceServer?.audience;
      const granted = typeof aud === 'string' ? splitScopes(grant.getResourceScope(aud)) : [];
      const apiScopes = expandDefault(splitScopes(body['scope']).filter((s) => !OIDC_SCOPES.has(s)), granted);
      const asked = splitScopes(ctx.oidc.params.scope ?? source.scope);
      const oidcScopes = ['openid', 'profile', 'email'].filter((s) => asked.includes(s) && splitScopes(grant.getOIDCScope()).includes(s));
      if (body['refresh_token']) oidcScopes.push('offline_access');
      body['scope'] = [...apiScopes, ...oidcScopes].join(' ');
    }
    const accountId = e['Account']?.accountId ?? e['AccessToken']?.accountId;
    const wantsClientInfo = askedClientInfo || (grant && clientInfoGrants.has(grant.jti));
    if (askedClientInfo && grant) clientInfoGrants.add(grant.jti);
    // client_info names the home account, also in a guest's tokens from another tenant.
    const identity = accountId ? IDENTITIES[accountId] : undefined;
    if (accountId && wantsClientInfo) body['client_info'] = clientInfo(identity?.homeOid ?? accountId, identity?.homeTid ?? tenant.id);
  };

  const buildAll = (): Map<string, { provider: Provider; callback: ReturnType<Provider['callback']> }> => new Map(Object.values(TENANTS).map((t) => {
    const p = buildProvider(t);
    return [t.id, { provider: p, callback: p.callback() }];
  }));
  let providers = buildAll();
  const providerOf = (tenant: DevOpTenant) => providers.get(tenant.id)!;

  server.on('request', (req: IncomingMessage & { originalUrl?: string }, res: ServerResponse) => {
    void (async () => {
      const reqUrl = new URL(req.url ?? '/', url);
      if (reqUrl.pathname.toLowerCase() === '/common/discovery/instance') return instanceDiscovery(req, res);
      const parsed = parseAuthorityPath(reqUrl.pathname);
      if (!parsed) {
        if (answerUnknownTenant(req, res, reqUrl.pathname)) return; // AADSTS90002
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'not_found', error_description: `the dev OP lives under ${issuer} (and ${url}/<tenant|organizations|common>/v2.0)` }));
        return;
      }
      const { rel, route } = parsed;
      let tenant = route.tenant ?? TENANTS.contoso;
      if (rel === '/.well-known/openid-configuration' || rel === '/.well-known/oauth-authorization-server') stats.discovery += 1;
      if (rel === ROUTES.authorization) stats.authorization += 1;
      if (rel === ROUTES.end_session) stats.endSession += 1;
      if (rel === ROUTES.jwks) {
        stats.jwks += 1;
        const fault = faults.jwks;
        if (fault === 'slow') await delay(faults.slowMs ?? 5000);
        else if (fault === 'down') { req.socket.destroy(); return; } else if (fault === 500) return jsonFault(res);
      }
      let body: string | undefined;
      if (rel === ROUTES.token && req.method === 'POST') {
        stats.tokenRequests += 1;
        stats.tokenByAuthority[parsed.authority] = (stats.tokenByAuthority[parsed.authority] ?? 0) + 1;
        const fault = faults.tokenEndpoint;
        if (fault === 'slow') await delay(faults.slowMs ?? 5000);
        else if (fault) {
          const gt = new URLSearchParams(body ??= await readBody(req)).get('grant_type') ?? 'unknown';
          stats.token[gt] = (stats.token[gt] ?? 0) + 1;
          if (fault === 'down') { req.socket.destroy(); return; }
          if (fault === 500) return jsonFault(res);
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end('<html><body>Service Unavailable (dev OP garbage fault)</body></html>');
          return;
        }
      }
      const search = new URLSearchParams(reqUrl.search);
      if (route.multi) {
        if (rel === '/.well-known/openid-configuration') return await serveTemplatedDiscovery(req, res, `${url}${mountPath}`, issuer, `${origin}/${parsed.authority}/v2.0`);
        if (rel === ROUTES.authorization) {
          const chosen = tenantForSignIn(search);
          if (!chosen) {
            res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
            res.end(homeRealmPage(reqUrl));
            return;
          }
          tenant = chosen;
          search.set('devop_authority', route.multi);
        }
        if (rel === ROUTES.end_session) tenant = tenantForEndSession(search, req.headers.cookie);
        if (rel === ROUTES.token && req.method === 'POST') {
          body ??= await readBody(req);
          tenant = await tenantForTokenRequest(providerOf(TENANTS.contoso).provider, new URLSearchParams(body));
        }
      }
      const { provider, callback } = providerOf(tenant);
      if (rel.startsWith('/interaction/')) {
        await handleInteraction(provider, tenant, tenantMountPath(tenant), rel, req, res, recordError, rt.consents, (grantId, params) => {
          if (params['client_info'] === '1') clientInfoGrants.add(grantId);
        });
        return;
      }
      // A body read above is handed over parsed-as-text (oidc-provider reads req.body when the stream is spent).
      if (body !== undefined) (req as IncomingMessage & { body?: string }).body = body;
      // oidc-provider derives its mount path from originalUrl: the tenant's, also for /organizations.
      req.url = rel + (route.multi ? (search.size ? `?${search.toString()}` : '') : reqUrl.search);
      req.originalUrl = `${tenantMountPath(tenant)}${req.url}`;
      callback(req, res);
    })().catch((err: unknown) => {
      recordError('http.error', err);
      if (!res.headersSent) { res.writeHead(500); res.end(); }
    });
  });

  /**
   * Entra's instance discovery (`/common/discovery/instance`), which MSAL asks for the host aliases
   * of an authority: the real clouds' alias groups, and this OP's tenant discovery document under
   * the host the client asked for.
   */
  const instanceDiscovery = (req: IncomingMessage, res: ServerResponse): void => {
    const forwarded = req.headers['x-forwarded-host'];
    const host = (Array.isArray(forwarded) ? forwarded[0] : forwarded) ?? req.headers.host ?? '';
    const proto = options.publicOrigin ? new URL(options.publicOrigin).protocol : 'http:';
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({
      tenant_discovery_endpoint: `${proto}//${host}${mountPath}/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: ENTRA_CLOUDS,
    }));
  };

  const jsonFault = (res: ServerResponse): void => {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'server_error', error_description: 'AADSTS90000: dev OP injected fault (HTTP 500).', ...entraErrorFields('AADSTS90000') }));
  };

  const clients: Record<ClientName, DevOpClient> = {
    webApp: { clientId: CLIENTS.webApp.clientId, clientSecret: rt.secrets.webApp, redirectUris: rt.webApp.redirectUris, postLogoutRedirectUris: rt.webApp.postLogoutRedirectUris },
    orders: { clientId: CLIENTS.orders.clientId, clientSecret: rt.secrets.orders, apiUri: 'api://orders' },
    ordersCert: { clientId: CLIENTS.ordersCert.clientId, privateKey: cert.privateKey, certificate: cert.certificate, apiUri: 'api://orders' },
    inventory: { clientId: CLIENTS.inventory.clientId, clientSecret: rt.secrets.inventory, apiUri: 'api://inventory' },
    daemon: { clientId: CLIENTS.daemon.clientId, clientSecret: rt.secrets.daemon },
    cli: { clientId: CLIENTS.cli.clientId, redirectUris: ['http://127.0.0.1', 'http://localhost'] },
    reports: { clientId: CLIENTS.reports.clientId, clientSecret: rt.secrets.reports, apiUri: 'api://reports' },
    contosoOnly: { clientId: CLIENTS.contosoOnly.clientId, clientSecret: rt.secrets.contosoOnly, redirectUris: rt.webApp.redirectUris, postLogoutRedirectUris: rt.webApp.postLogoutRedirectUris },
  };

  return {
    url, issuer, tenantId: TENANT_ID,
    tenants: Object.fromEntries(Object.entries(TENANTS).map(([name, t]) => [name, { id: t.id, name: t.name, issuer: issuerOf(t) }])) as DevOp['tenants'],
    authority: (name) => `${origin}/${name in TENANTS ? TENANTS[name as TenantName].id : name}/v2.0`,
    users: { alice: { ...USERS.alice }, bob: { ...USERS.bob }, frank: { ...USERS.frank } },
    guests: { aliceInFabrikam: { ...IDENTITIES['9e57a11c-0000-4000-8000-00000009e57a']! } },
    clients,
    signIn: (authUri, opts) => browse(authUri, url, opts),
    signOut: (endSessionUri, opts = {}) => browse(endSessionUri, url, { ...opts }),
    faults: { set(f) { faults = { ...f }; }, clear() { faults = {}; } },
    stats: () => structuredClone(stats),
    resetStats() { stats = emptyStats(); },
    async rotateKeys() {
      rt.signingKeys.unshift(generateSigningKey());
      providers = buildAll(); // the memory adapter's storage is shared: sessions and tokens survive
    },
    lastErrors: () => [...errorsSeen],
    async revoke(user) {
      const oid = typeof user === 'string' ? (Object.values(IDENTITIES).find((i) => i.username === user) ?? IDENTITIES[user])?.homeOid : user.oid;
      if (!oid) throw new Error(`revoke: no such user ${typeof user === 'string' ? user : user.username}`);
      // The person, in every tenant: their home identity and their guest identities elsewhere.
      const identities = Object.values(IDENTITIES).filter((i) => i.homeOid === oid);
      const validFrom = await Promise.all((identities.length > 0 ? identities.map((i) => i.oid) : [oid]).map((o) => cae.revoke(o)));
      return Math.max(...validFrom);
    },
    tokensValidFrom: (oid) => cae.tokensValidFrom(oid),
    tokenRequestClaims: () => cae.claimsSeen(),
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    }),
  };
}
