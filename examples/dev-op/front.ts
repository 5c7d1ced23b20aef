/**
 * The dev OP's authorities as Entra lays them out: `/<tenant>/v2.0` (GUID, short name or domain)
 * for each tenant, and the multi-tenant `/organizations/v2.0` and `/common/v2.0`, which have no
 * provider of their own. A multi-tenant request is handed to the tenant it resolves to:
 * - discovery: the default tenant's document with its endpoints under the multi-tenant path and
 *   Entra's templated issuer `<origin>/{tenantid}/v2.0` (no RFC 9207 `iss` support advertised);
 * - authorize: the tenant `domain_hint` names, else the home tenant of the `login_hint` user, else
 *   a home realm discovery page asks for the username first (see tenants.ts `tenantForSignIn`);
 * - token: the tenant of the code's identity (auth code), else the person's home tenant (refresh,
 *   On-Behalf-Of, password) — as Entra resolves `/organizations` — and contoso for app tokens.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeJwt } from 'jose';
import type { Provider } from 'oidc-provider';
import { html } from './dialect.js';
import { page } from './pages.js';
import {
  IDENTITIES, MULTI_TENANT_AUTHORITIES, TENANTS, findTenant, homeIdentity, type DevOpTenant,
} from './tenants.js';

/** Where a request goes: a tenant's provider, or a multi-tenant authority (`organizations`, `common`). */
export type AuthorityRoute = { tenant: DevOpTenant; multi?: undefined } | { tenant?: undefined; multi: string };

/** Splits `/<authority>/v2.0/<rest>`; undefined for a path under no known authority. */
export function parseAuthorityPath(pathname: string): { route: AuthorityRoute; authority: string; rel: string } | undefined {
  const m = /^\/([^/]+)\/v2\.0(\/.*)$/.exec(pathname);
  if (!m) return undefined;
  const [, authority = '', rel = ''] = m;
  const name = authority.toLowerCase();
  if (MULTI_TENANT_AUTHORITIES.has(name)) return { route: { multi: name }, authority, rel };
  const tenant = findTenant(name);
  return tenant ? { route: { tenant }, authority, rel } : undefined;
}

/**
 * The multi-tenant discovery document: `doc` is the default tenant's, served under `tenantBase`
 * (`<origin>/<tid>/v2.0`); endpoints move to `multiBase`, the issuer becomes Entra's template.
 */
export function templatedDiscovery(doc: Record<string, unknown>, tenantBase: string, multiBase: string): Record<string, unknown> {
  const origin = new URL(tenantBase).origin;
  const moved = JSON.parse(JSON.stringify(doc).split(tenantBase).join(multiBase)) as Record<string, unknown>;
  moved['issuer'] = `${origin}/{tenantid}/v2.0`;
  delete moved['authorization_response_iss_parameter_supported'];
  return moved;
}

/**
 * Answers `/organizations` or `/common` discovery: the default tenant's document (read from
 * `tenantUrl`, the OP's own loopback URL, with the client's host headers) templated.
 */
export async function serveTemplatedDiscovery(req: IncomingMessage, res: ServerResponse, tenantUrl: string, tenantBase: string, multiBase: string): Promise<void> {
  const headers: Record<string, string> = {};
  for (const name of ['x-forwarded-proto', 'x-forwarded-host', 'host']) {
    const v = req.headers[name];
    if (typeof v === 'string') headers[name] = v;
  }
  const answer = await fetch(`${tenantUrl}/.well-known/openid-configuration`, { headers });
  const doc = await answer.json() as Record<string, unknown>;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(templatedDiscovery(doc, tenantBase, multiBase)));
}

/** Home realm discovery: asks the username, then repeats the authorization request with it as `login_hint`. */
export function homeRealmPage(authorizeUrl: URL): string {
  const fields = [...authorizeUrl.searchParams].filter(([k]) => k !== 'login_hint')
    .map(([k, v]) => `<input type="hidden" name="${html(k)}" value="${html(v)}">`).join('\n');
  return page('Sign in', `<p>Which account? The organization you sign in to is your account's (a guest
picks the organization it was invited to with <code>domain_hint</code>).</p>
<form id="hrd" method="get" action="${html(authorizeUrl.pathname)}">
${fields}
<label>Username <input name="login_hint" autocomplete="username"></label>
<button type="submit">Next</button>
</form>`);
}

/** The tenant that answers a token request made at `/organizations` or `/common`. */
export async function tenantForTokenRequest(provider: Provider, body: URLSearchParams): Promise<DevOpTenant> {
  const home = (accountId: unknown): DevOpTenant | undefined => {
    const identity = typeof accountId === 'string' ? IDENTITIES[accountId] : undefined;
    return identity ? findTenant(identity.homeTid) : undefined;
  };
  switch (body.get('grant_type')) {
    case 'authorization_code': {
      const code = await provider.AuthorizationCode.find(body.get('code') ?? '', { ignoreExpiration: true }).catch(() => undefined);
      const identity = code?.accountId ? IDENTITIES[code.accountId] : undefined;
      return (identity && findTenant(identity.tid)) ?? TENANTS.contoso;
    }
    case 'refresh_token': {
      const token = await provider.RefreshToken.find(body.get('refresh_token') ?? '', { ignoreExpiration: true }).catch(() => undefined);
      return home(token?.accountId) ?? TENANTS.contoso;
    }
    case 'urn:ietf:params:oauth:grant-type:jwt-bearer': {
      // Only to pick the provider: the grant verifies the assertion.
      let oid: unknown;
      try { oid = decodeJwt(body.get('assertion') ?? '')['oid']; } catch { oid = undefined; }
      return home(oid) ?? TENANTS.contoso;
    }
    case 'password':
      return home(homeIdentity(body.get('username'))?.oid) ?? TENANTS.contoso;
    default:
      return TENANTS.contoso;
  }
}

/**
 * The tenant an `/organizations` sign-out ends: the one its `id_token_hint` was issued in, else a
 * tenant whose session cookie the browser holds (each tenant has its own, config.ts), else contoso.
 */
export function tenantForEndSession(query: URLSearchParams, cookie: string | undefined): DevOpTenant {
  let tid: unknown;
  try { tid = decodeJwt(query.get('id_token_hint') ?? '')['tid']; } catch { tid = undefined; }
  const hinted = typeof tid === 'string' ? findTenant(tid) : undefined;
  if (hinted) return hinted;
  const withSession = Object.values(TENANTS).find((t) => t !== TENANTS.contoso && new RegExp(`(^|;\\s*)_session\\.${t.name}=`).test(cookie ?? ''));
  return withSession ?? TENANTS.contoso;
}
