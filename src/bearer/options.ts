import { parseAuthority, type Authority, type AuthorityType } from '../authority.js';
import { silentLogger, type Logger } from '../logger.js';
import { configError } from '../errors.js';
import { flag, logger, nonEmptyStrings, num, object, tenants } from '../util/options.js';

/**
 * The `fetch` used for discovery and the JWKS (same shape as the global one, which is the default).
 * Swap it to route, record or proxy those two requests; it never sees a token.
 */
export type BearerFetch = (url: string, init: RequestInit) => Promise<Response>;

/** Options of `validateBearer` and `createBearerValidator`. */
export interface BearerOptions {
  /**
   * Issuer URL of the OP, or `https://login.microsoftonline.com/<tenant|common|organizations>/v2.0`
   * (same rules as `ConfidentialClient`). Discovery reads `<authority>/.well-known/openid-configuration`.
   */
  authority: string;
  /** The API's identifiers (`api://orders` and/or its client id): the token's `aud` must contain one. */
  audience: string | readonly string[];
  /**
   * Delegated scopes the token must ALL carry in `scp` (Entra; space-separated or an array) or
   * `scope` (RFC 9068), as they appear there: `Orders.Read`, not `api://orders/Orders.Read`.
   */
  scopes?: readonly string[];
  /**
   * App roles the token must ALL carry in `roles`. With both `scopes` and `roles`, a token passes
   * when it has all the scopes (a user's delegated token) OR all the roles (an application's
   * token; app roles assigned to a user count too, as in Entra).
   */
  roles?: readonly string[];
  /** Tenant ids (`tid`) accepted. Required for Entra `/common` and `/organizations`; narrows any other authority. */
  allowedTenants?: readonly string[];
  /**
   * Entra only: also accept v1 tokens (`ver: "1.0"`), issued by `https://sts.windows.net/<tid>/`
   * for the token's own `tid` (with `/organizations` or `/common`, an allowed tenant). Default false.
   */
  acceptV1Issuer?: boolean;
  /**
   * `entra` treats an authority on another host as Microsoft Entra ID (its `/organizations/v2.0`
   * and `/common/v2.0` multi-tenant, v1 issuers known), as `ConfidentialClient`'s option does;
   * default: by host. `requireBearer` takes its client's.
   */
  authorityType?: AuthorityType;
  /** Signature algorithms accepted. Default `['RS256', 'PS256', 'ES256']`; `none` and `HS*` are refused. */
  algorithms?: readonly string[];
  /** Clock skew tolerated on `exp`, `nbf` and `iat` (not in the future), in seconds. Default 60. */
  clockToleranceSeconds?: number;
  /** Allow an `http://` OP (development OPs only). Never a default. */
  allowInsecureRequests?: boolean;
  /** Timeout of the discovery and JWKS requests, in milliseconds. Default 10,000. */
  timeoutMs?: number;
  /**
   * After a JWKS download, an unknown `kid` does not trigger another one for this many seconds
   * (jose's `cooldownDuration`): a flood of forged `kid`s costs at most one download per period,
   * and a key the OP starts using is picked up within it. Default 5, minimum 1.
   */
  jwksCooldownSeconds?: number;
  /** The JWKS is downloaded again after this many seconds (jose's `cacheMaxAge`). Default 600. */
  jwksCacheMaxAgeSeconds?: number;
  /** Replaces the global `fetch` for discovery and JWKS requests. */
  fetch?: BearerFetch;
  /** Where refused tokens (`debug`) and metadata / JWKS requests are logged, never the token. Default: silent. */
  logger?: Logger;
  /**
   * Tokens that passed validation are remembered, keyed by the SHA-256 of the whole token (never
   * the token), so a repeated token skips the signature check: each until `min(exp, now + ttlSeconds)`,
   * and only while its signing key (`kid`) is still in the OP's JWKS. The issuer, tenant, scope and
   * role checks still run on every call; refused tokens are never remembered. The claims returned
   * are then frozen (shared between calls). At most `max` tokens (least recently used dropped first).
   * Default `{ max: 100_000, ttlSeconds: 300 }`; `false` turns it off.
   */
  verifiedTokenCache?: VerifiedTokenCacheOptions | false;
}

/** Size and lifetime of the verified-token cache (see {@link BearerOptions.verifiedTokenCache}). */
export interface VerifiedTokenCacheOptions {
  /** Most tokens remembered. Default 100,000. */
  max?: number;
  /** Longest a token is remembered, seconds (never past its `exp`). Default 300. */
  ttlSeconds?: number;
}

/** Defaults of {@link BearerOptions.verifiedTokenCache}. */
export const DEFAULT_VERIFIED_TOKEN_CACHE = { max: 100_000, ttlSeconds: 300 } as const;

/** The validated form of {@link BearerOptions}. */
export interface ResolvedBearerOptions {
  authority: Authority;
  audiences: string[];
  scopes: readonly string[] | undefined;
  roles: readonly string[] | undefined;
  allowedTenants: ReadonlySet<string> | undefined;
  acceptV1Issuer: boolean;
  algorithms: string[];
  clockToleranceSeconds: number;
  allowInsecureRequests: boolean;
  timeoutMs: number;
  jwksCooldownSeconds: number;
  jwksCacheMaxAgeSeconds: number;
  fetch: BearerFetch;
  logger: Logger;
  verifiedTokenCache: { max: number; ttlSeconds: number } | false;
}

/** Asymmetric JWS algorithms jose verifies with a public key from a JWKS. */
const ASYMMETRIC = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']);
const DEFAULT_ALGORITHMS = ['RS256', 'PS256', 'ES256'];
/** Default of `jwksCooldownSeconds`; the client's ID-token checks use the same window (src/opJwks.ts). */
export const DEFAULT_JWKS_COOLDOWN_SECONDS = 5;

/** Checks bearer options once; each refusal is `invalid_config` naming the option. */
export function resolveBearerOptions(options: BearerOptions): ResolvedBearerOptions {
  object(options);
  const allowInsecureRequests = flag('allowInsecureRequests', options.allowInsecureRequests);
  if (options.authorityType !== undefined && options.authorityType !== 'entra' && options.authorityType !== 'oidc') {
    throw configError('authorityType', 'must be "entra" or "oidc"');
  }
  const authority = parseAuthority(options.authority, { allowInsecureRequests, ...(options.authorityType ? { authorityType: options.authorityType } : {}) });
  const audiences = typeof options.audience === 'string' ? [options.audience] : options.audience;
  if (!nonEmptyStrings(audiences)) {
    throw configError('audience', 'is required: the API\'s identifier (e.g. "api://orders") and/or its client id');
  }
  const acceptV1Issuer = flag('acceptV1Issuer', options.acceptV1Issuer);
  if (acceptV1Issuer && authority.type !== 'entra') throw configError('acceptV1Issuer', 'applies to Microsoft Entra authorities only');
  const cooldown = num('jwksCooldownSeconds', options.jwksCooldownSeconds, DEFAULT_JWKS_COOLDOWN_SECONDS, { min: 1 });
  return {
    authority,
    audiences: [...audiences],
    scopes: permissionList('scopes', options.scopes),
    roles: permissionList('roles', options.roles),
    allowedTenants: tenants(options.allowedTenants, authority),
    acceptV1Issuer,
    algorithms: algorithms(options.algorithms),
    clockToleranceSeconds: num('clockToleranceSeconds', options.clockToleranceSeconds, 60, { min: 0 }),
    allowInsecureRequests,
    timeoutMs: Math.ceil(num('timeoutMs', options.timeoutMs, 10_000, { min: 1 })),
    jwksCooldownSeconds: cooldown,
    jwksCacheMaxAgeSeconds: num('jwksCacheMaxAgeSeconds', options.jwksCacheMaxAgeSeconds, Math.max(600, cooldown), { min: cooldown }),
    fetch: fetchOption(options.fetch),
    logger: logger(options.logger, silentLogger),
    verifiedTokenCache: verifiedTokenCache(options.verifiedTokenCache),
  };
}

function verifiedTokenCache(value: unknown): { max: number; ttlSeconds: number } | false {
  if (value === false) return false;
  if (value === undefined) return { ...DEFAULT_VERIFIED_TOKEN_CACHE };
  const o = object(value as VerifiedTokenCacheOptions, 'verifiedTokenCache');
  return {
    max: num('verifiedTokenCache.max', o.max, DEFAULT_VERIFIED_TOKEN_CACHE.max, { integer: true, positive: true }),
    ttlSeconds: num('verifiedTokenCache.ttlSeconds', o.ttlSeconds, DEFAULT_VERIFIED_TOKEN_CACHE.ttlSeconds),
  };
}

function permissionList(name: 'scopes' | 'roles', value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined;
  // An empty list would make "scopes OR roles" pass every token: refuse it rather than guess.
  if (!nonEmptyStrings(value) || value.some((v) => /\s/.test(v))) {
    throw configError(name, 'must be a non-empty array of single values (no spaces); omit it to require none');
  }
  return [...value];
}

function algorithms(value: unknown): string[] {
  if (value === undefined) return [...DEFAULT_ALGORITHMS];
  if (!nonEmptyStrings(value)) throw configError('algorithms', 'must be a non-empty array of JWS algorithms');
  for (const alg of value) {
    if (alg.toLowerCase() === 'none') throw configError('algorithms', 'must not contain "none" (unsigned tokens)');
    if (/^HS/i.test(alg)) throw configError('algorithms', `must not contain "${alg}": an API verifies with public keys, never a shared secret`);
    if (!ASYMMETRIC.has(alg)) throw configError('algorithms', `contains "${alg}", which is not an asymmetric JWS algorithm (${[...ASYMMETRIC].join(', ')})`);
  }
  return [...new Set(value)];
}

function fetchOption(value: unknown): BearerFetch {
  if (value === undefined) return (url, init) => fetch(url, init);
  if (typeof value !== 'function') throw configError('fetch', 'must be a function like the global fetch');
  return value as BearerFetch;
}

