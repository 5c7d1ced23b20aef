import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from 'jose';
import { AuthError } from '../errors.js';
import { BoundedMap } from '../util/boundedMap.js';
import type { BearerFetch, ResolvedBearerOptions } from './options.js';

/** What discovery established: the issuer tokens must carry, and where the keys are. */
export interface IssuerKeys {
  /** The exact `iss` (single tenant), or Entra's template with `{tenantid}` (multi-tenant). */
  issuer: string;
  multiTenant: boolean;
  /** The tenant GUID in a single-tenant Entra v2 issuer (for its v1 form), worked out once. */
  tenantOfIssuer: string | undefined;
  /** Resolves the verification key of a token (jose's cached remote JWKS behind a guarded fetch). */
  getKey: JWTVerifyGetKey;
  /**
   * The key `getKey` found lately for this `kid` and `alg`, at hand without an await (jose then
   * verifies with it directly); undefined when there is none, or the set is past its age or changed.
   */
  knownKey(kid: string | undefined, alg: string): VerifyKey | undefined;
  /**
   * True while `kid` is in the OP's current key set (the set is downloaded again first when older
   * than `jwksCacheMaxAgeSeconds`); false when it left the set, or while the set is changing or
   * unreachable. The verified-token cache asks this on every hit, so a removed key drops its tokens.
   */
  hasKey(kid: string): boolean | Promise<boolean>;
}

/** After a failed discovery or JWKS request, the next one waits this long (failures are answered from memory). */
const FAILURE_BACKOFF_MS = 2_000;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Discovery once, then jose's remote JWKS: downloaded on first use, again after
 * `jwksCacheMaxAgeSeconds`, and on an unknown `kid` at most once per `jwksCooldownSeconds`
 * (concurrent misses share one download). A failed request is not repeated for 2 s, so an OP
 * outage does not turn every incoming token into an outgoing request.
 */
export function createIssuerKeys(options: ResolvedBearerOptions): () => Promise<IssuerKeys> {
  let pending: Promise<IssuerKeys> | undefined;
  let failure: { at: number; error: unknown } | undefined;
  return () => {
    if (pending) return pending;
    if (failure && Date.now() - failure.at < FAILURE_BACKOFF_MS) return Promise.reject(failure.error);
    pending = discover(options).catch((error: unknown) => {
      pending = undefined;
      failure = { at: Date.now(), error };
      throw error;
    });
    return pending;
  };
}

async function discover(options: ResolvedBearerOptions): Promise<IssuerKeys> {
  const { authority, logger } = options;
  const configured = trimSlash(authority.issuer.href);
  const request = timedFetch(options);
  const response = await request(`${configured}/.well-known/openid-configuration`, { method: 'GET', headers: { accept: 'application/json' } });
  if (response.status !== 200) throw discoveryFailed(configured, `the OP answered HTTP ${response.status}`);
  let doc: unknown;
  try {
    doc = await response.json();
  } catch {
    throw discoveryFailed(configured, 'the discovery document is not JSON');
  }
  const { issuer, jwks_uri: jwksUri } = (doc ?? {}) as { issuer?: unknown; jwks_uri?: unknown };
  if (typeof issuer !== 'string' || typeof jwksUri !== 'string') throw discoveryFailed(configured, 'the discovery document lacks "issuer" or "jwks_uri"');

  const multiTenant = authority.multiTenant;
  if (!issuerMatches(issuer, configured, options)) {
    throw new AuthError('issuer_mismatch', {
      description: `discovery document's issuer "${issuer.slice(0, 200)}" is not the configured authority "${configured}"`,
      status: 502,
    });
  }
  let url: URL;
  try {
    url = new URL(jwksUri);
  } catch {
    throw discoveryFailed(configured, '"jwks_uri" is not a URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && options.allowInsecureRequests)) {
    throw discoveryFailed(configured, '"jwks_uri" is not https:// (allowInsecureRequests is off)');
  }
  logger.info({ issuer, jwksUri: url.href }, 'authflow: bearer metadata discovered');
  const tracker = new KeySetTracker();
  const remote = createRemoteJWKSet(url, {
    cooldownDuration: options.jwksCooldownSeconds * 1000,
    cacheMaxAge: options.jwksCacheMaxAgeSeconds * 1000,
    timeoutDuration: options.timeoutMs,
    [customFetch]: tracker.watch(guardedJwksFetch(request)),
  });
  const tenantOfIssuer = /\/([0-9a-f-]{36})\/v2\.0$/i.exec(issuer)?.[1];
  const hasKey = (kid: string): boolean | Promise<boolean> => {
    // A set past its age is downloaded again before it vouches for a key (jose would do the same on its next lookup).
    if (!remote.fresh) return remote.reload().then(() => tracker.has(remote, kid), () => false);
    return tracker.has(remote, kid);
  };
  return { issuer, multiTenant, tenantOfIssuer, ...rememberKeys(remote, tracker), hasKey };
}

type RemoteKeySet = ReturnType<typeof createRemoteJWKSet>;
type VerifyKey = Awaited<ReturnType<JWTVerifyGetKey>>;

/**
 * Which `kid`s the OP's key set holds now. jose swaps its set in place after each download; the
 * download is seen through the fetch, and the `kid`s are read again (a copy of the set: rare)
 * once jose has applied it. `generation` counts the sets seen, so memories of keys can be dropped.
 */
class KeySetTracker {
  generation = 0;
  #changed = false;
  #kids: ReadonlySet<string> | undefined;

  /** Wraps the JWKS fetch to notice each successful download. */
  watch(request: BearerFetch): BearerFetch {
    return async (url, init) => {
      const response = await request(url, init);
      if (response.status === 200) this.#changed = true;
      return response;
    };
  }

  /** The current `kid`s, or undefined while a download is being applied (callers then take the full path). */
  current(remote: RemoteKeySet): ReadonlySet<string> | undefined {
    if (this.#changed && !remote.reloading) {
      this.#changed = false;
      const keys = remote.jwks()?.keys ?? [];
      this.#kids = new Set(keys.map((k) => k.kid).filter((kid): kid is string => typeof kid === 'string'));
      this.generation += 1;
    }
    return this.#changed ? undefined : this.#kids;
  }

  has(remote: RemoteKeySet, kid: string): boolean {
    return this.current(remote)?.has(kid) ?? false;
  }
}

/** How long a key found in the JWKS is handed out without asking jose's key set again. */
const KEY_MEMORY_MS = 30_000;

/**
 * The key of a `kid` (and `alg`) that jose's remote set found, handed out directly for a short
 * while: jose's lookup (header parsing, key selection) is then skipped on the hot path. Misses
 * and unknown `kid`s still go to jose's set, with its cooldown; the memory is far shorter than
 * the set's own cache age, so a retired key is dropped about as soon as jose would drop it.
 */
function rememberKeys(remote: RemoteKeySet, tracker: KeySetTracker): Pick<IssuerKeys, 'getKey' | 'knownKey'> {
  const remembered = new BoundedMap<string, VerifyKey>({ maxEntries: 64, ttlMs: KEY_MEMORY_MS });
  let generation = tracker.generation;
  const knownKey = (kid: string | undefined, alg: string | undefined): VerifyKey | undefined => {
    // A new key set (rotation) forgets every key; a set past its age goes back to jose, which downloads it again.
    tracker.current(remote);
    if (tracker.generation !== generation) {
      generation = tracker.generation;
      remembered.clear();
    }
    return remote.fresh ? remembered.get(`${kid ?? ''}\n${alg ?? ''}`) : undefined;
  };
  const getKey: JWTVerifyGetKey = (header, token) => knownKey(header.kid, header.alg)
    ?? Promise.resolve(remote(header, token)).then((key) => {
      remembered.set(`${header.kid ?? ''}\n${header.alg ?? ''}`, key);
      return key;
    });
  return { getKey, knownKey };
}

/**
 * The discovery document's issuer must be the configured authority (a trailing slash aside).
 * Entra quirks: `/common` and `/organizations` publish the template
 * `https://login.microsoftonline.com/{tenantid}/v2.0`; a tenant given by domain name publishes its GUID.
 */
function issuerMatches(found: string, configured: string, options: ResolvedBearerOptions): boolean {
  const { authority } = options;
  if (authority.multiTenant) return found === configured.replace(`/${authority.tenant}/v2.0`, '/{tenantid}/v2.0');
  if (trimSlash(found) === configured) return true;
  if (authority.type !== 'entra' || !authority.tenant || GUID.test(authority.tenant)) return false;
  const match = /^(https:\/\/[^/]+)\/([^/]+)\/v2\.0$/.exec(found);
  return !!match && match[1] === authority.issuer.origin && GUID.test(match[2] ?? '');
}

/** The expected v1 issuer for a tenant (Entra's v1 tokens), by cloud. */
export function v1Issuer(authorityHost: string, tenantId: string): string {
  const sts = /chinacloudapi\.cn$|microsoftonline\.cn$/.test(authorityHost) ? 'sts.chinacloudapi.cn' : 'sts.windows.net';
  return `https://${sts}/${tenantId}/`;
}

/** fetch with the timeout, one log line per request, and network failures as `op_unreachable` / `op_timeout`. */
function timedFetch(options: ResolvedBearerOptions): BearerFetch {
  const { logger, timeoutMs } = options;
  return async (url, init) => {
    const endpoint = new URL(url).pathname;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    const started = performance.now();
    let response: Response;
    try {
      response = await options.fetch(url, { ...init, signal });
    } catch (err) {
      const code = signal.aborted ? 'op_timeout' : 'op_unreachable';
      const durationMs = Math.round(performance.now() - started);
      logger.warn({ endpoint, durationMs, code }, 'authflow: bearer metadata request failed');
      throw new AuthError(code, {
        description: code === 'op_timeout' ? `${endpoint}: no answer within ${timeoutMs} ms` : `${endpoint}: could not connect to the OP`,
        cause: err,
      });
    }
    const durationMs = Math.round(performance.now() - started);
    logger[response.status === 200 ? 'debug' : 'warn']({ endpoint, status: response.status, durationMs }, 'authflow: bearer metadata request');
    return response;
  };
}

/** Remembers a failed JWKS request for {@link FAILURE_BACKOFF_MS} and answers with it meanwhile. */
function guardedJwksFetch(request: BearerFetch): BearerFetch {
  let failure: { at: number; error: AuthError } | undefined;
  return async (url, init) => {
    if (failure && Date.now() - failure.at < FAILURE_BACKOFF_MS) throw failure.error;
    try {
      const response = await request(url, init);
      if (response.status !== 200) {
        failure = {
          at: Date.now(),
          error: new AuthError('op_bad_response', { description: `${new URL(url).pathname}: the OP answered HTTP ${response.status} for its JWKS` }),
        };
      }
      return response;
    } catch (err) {
      failure = { at: Date.now(), error: err instanceof AuthError ? err : new AuthError('op_unreachable', { description: 'could not fetch the JWKS', cause: err }) };
      throw failure.error;
    }
  };
}

function discoveryFailed(issuer: string, problem: string): AuthError {
  return new AuthError('discovery_failed', { description: `could not read the OP's metadata at ${issuer}: ${problem}` });
}

const trimSlash = (value: string): string => value.replace(/\/+$/, '');
