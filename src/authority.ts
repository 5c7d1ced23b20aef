import { configError } from './errors.js';
import { cacheEnvironment, isEntraHost } from './cache/environments.js';

const MULTI_TENANT = new Set(['common', 'organizations']);
const CONSUMERS_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';

/** `entra`: Microsoft Entra ID's v2 dialect (`client_info`, `tid`, MSSTS accounts); `oidc`: any OpenID Provider. */
export type AuthorityType = 'entra' | 'oidc';

/** An authority URL understood once, when the client is built. */
export interface Authority {
  /** The issuer identifier used for discovery (never the .well-known URL, so the issuer is checked). */
  readonly issuer: URL;
  /**
   * MSAL's "environment" written in the cache: for Entra the alias group's cache host
   * (`login.windows.net` for `login.microsoftonline.com`, as MSAL writes), else the authority's
   * host (with port when not the default). Lookups accept every alias of the group.
   */
  readonly environment: string;
  readonly type: AuthorityType;
  /** The tenant in the authority path for Entra (`common`, a GUID, a domain), else undefined. */
  readonly tenant: string | undefined;
  /** `/common` or `/organizations`: ID tokens from any tenant fit the issuer template, so `allowedTenants` must narrow it. */
  readonly multiTenant: boolean;
}

/**
 * A multi-tenant authority narrowed to one tenant: the issuer and endpoints a tenant's tokens
 * come from (`<origin>/<tid>/v2.0`, each discovered endpoint with `/<tid>/` in place of
 * `/organizations/`). Entra answers a refresh or On-Behalf-Of at `/organizations` for the
 * user's home tenant, so a guest's tokens must be asked at the guest tenant's own endpoint.
 * Returns undefined for a single-tenant authority, a tenant that is not a GUID, or a token
 * endpoint without the multi-tenant segment; an authorization endpoint without it is left out.
 */
export function tenantEndpoints(
  authority: Authority, tenantId: string | undefined, tokenEndpoint: string, authorizationEndpoint?: string,
): { issuer: URL; tokenEndpoint: string; authorizationEndpoint?: string } | undefined {
  if (!authority.multiTenant || !authority.tenant || !tenantId || !isTenantGuid(tenantId)) return undefined;
  const tid = tenantId.toLowerCase();
  const issuer = new URL(authority.issuer.href);
  issuer.pathname = issuer.pathname.replace(new RegExp(`/${authority.tenant}/v2\\.0$`, 'i'), `/${tid}/v2.0`);
  const token = inTenant(authority.tenant, tid, tokenEndpoint);
  if (!token) return undefined;
  const authorize = authorizationEndpoint ? inTenant(authority.tenant, tid, authorizationEndpoint) : undefined;
  return { issuer, tokenEndpoint: token, ...(authorize ? { authorizationEndpoint: authorize } : {}) };
}

/** `url` with its `/<multi>/` path segment replaced by `/<tid>/`, or undefined without one. */
function inTenant(multi: string, tid: string, url: string): string | undefined {
  const u = new URL(url);
  const segment = new RegExp(`^(.*?)/${multi}/`, 'i');
  if (!segment.test(u.pathname)) return undefined;
  u.pathname = u.pathname.replace(segment, `$1/${tid}/`);
  return u.href;
}

/** True for a tenant id in GUID form (the only form used in a path authflow builds). */
export const isTenantGuid = (value: string): boolean => TENANT_GUID.test(value);

const TENANT_GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Parses an authority: any OIDC issuer URL, or Entra's
 * `https://login.microsoftonline.com/<tenant|organizations|common|consumers>/v2.0`
 * (`/v2.0` is added when missing). Throws `invalid_config` naming `authority`.
 *
 * @example
 * ```ts
 * parseAuthority('https://login.microsoftonline.com/contoso.onmicrosoft.com', {}).issuer.href
 * // 'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0'
 * ```
 */
export function parseAuthority(value: unknown, options: { allowInsecureRequests?: boolean; authorityType?: AuthorityType }): Authority {
  if (typeof value !== 'string' || value.length === 0) throw configError('authority', 'is required: the OpenID Provider\'s issuer URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw configError('authority', `is not a URL: "${value.slice(0, 200)}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw configError('authority', 'must be an https:// URL');
  if (url.protocol === 'http:' && !options.allowInsecureRequests) {
    throw configError('authority', 'uses http://; set allowInsecureRequests: true for a development OP (never in production)');
  }
  if (url.search || url.hash) throw configError('authority', 'must not have a query or fragment');
  if (url.pathname.includes('/.well-known/')) {
    throw configError('authority', 'must be the issuer URL, not the discovery document URL (the issuer could not be checked)');
  }
  if (url.username || url.password) throw configError('authority', 'must not carry credentials');

  const entraHost = isEntraHost(url.hostname) && url.port === '';
  const type: AuthorityType = options.authorityType ?? (entraHost ? 'entra' : 'oidc');
  if (!entraHost) {
    url.pathname = url.pathname.replace(/\/+$/, '');
    // An Entra look-alike on another host (authorityType 'entra', e.g. the dev OP): its
    // `/organizations/v2.0` and `/common/v2.0` are multi-tenant as Entra's are.
    const multi = type === 'entra' ? /\/(organizations|common)\/v2\.0$/i.exec(url.pathname)?.[1]?.toLowerCase() : undefined;
    return { issuer: url, environment: url.host, type, tenant: multi, multiTenant: multi !== undefined };
  }

  const segments = url.pathname.split('/').filter(Boolean);
  const [tenant, version, ...rest] = segments;
  if (!tenant || rest.length > 0 || (version !== undefined && version !== 'v2.0')) {
    throw configError('authority', 'must look like https://login.microsoftonline.com/<tenant>/v2.0');
  }
  const normalizedTenant = tenant.toLowerCase() === 'consumers' ? CONSUMERS_TENANT_ID : tenant.toLowerCase();
  url.pathname = `/${normalizedTenant}/v2.0`;
  return { issuer: url, environment: cacheEnvironment(url.host), type, tenant: normalizedTenant, multiTenant: MULTI_TENANT.has(normalizedTenant) };
}
