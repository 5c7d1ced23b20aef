/**
 * Validation of incoming OAuth 2.0 access tokens for web APIs: JWTs (RFC 7519) sent as Bearer
 * tokens (RFC 6750), in Entra's v1/v2 form or RFC 9068's, verified with jose against the OP's JWKS.
 */
import { hash } from 'node:crypto';
import { errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyResult } from 'jose';
import { AuthError, type BearerFailureReason } from '../errors.js';
import { BoundedMap } from '../util/boundedMap.js';
import { createIssuerKeys, v1Issuer, type IssuerKeys } from './keys.js';
import { resolveBearerOptions, type BearerOptions, type ResolvedBearerOptions } from './options.js';
import { noteVerifiedTokenHit, observeBearer } from '../telemetry/bearer.js';

export type { BearerOptions, BearerFetch } from './options.js';

/** The verified claims of an access token. Entra's are typed; any other claim is `unknown`. */
export type BearerClaims = JWTPayload & { scp?: string; roles?: string[]; tid?: string; oid?: string };

/** Why a token was refused: `AuthError.reason` (re-exported from `errors.ts`, where every reason union lives). */
export type { BearerFailureReason } from '../errors.js';

/** Tokens longer than this are refused before any parsing (Entra's are 1-4 KB). */
export const MAX_BEARER_TOKEN_LENGTH = 16 * 1024;
const ACCEPTED_TYP = new Set(['jwt', 'at+jwt', 'application/at+jwt']);
/** Three base64url segments (the signature may be empty: refused after the header, as unsigned). */
const JWS_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Builds a validator for the access tokens a web API receives. Options are checked here, once
 * (`invalid_config` naming the option); discovery and the JWKS download happen on the first call
 * and are cached (see {@link BearerOptions.jwksCooldownSeconds} for how unknown `kid`s are rate-limited).
 *
 * Checks, in order: size and shape (3 base64url segments, before jose is called); header `alg`
 * in `algorithms` (never `none`, never `HS*`); header `typ`, when present, is `JWT` or `at+jwt`
 * (RFC 9068 §2.1; Entra sends `JWT`; ID tokens of other types are refused); signature with the
 * OP's key for `kid` (a token without `kid` needs a JWKS with exactly one matching key); `exp`,
 * `iss`, `aud` present; `exp`/`nbf` with `clockToleranceSeconds`; `aud` one of `audience`;
 * not an ID token (no `at_hash`, `c_hash`, `s_hash`; no `nonce` without `scp`/`scope`; Entra
 * `idtyp`, when present, `app` or `user`); `iat`, when present, not in the future beyond
 * `clockToleranceSeconds`;
 * `iss` the discovered issuer (Entra multi-tenant: the `{tenantid}` template filled with the
 * token's `tid`; `https://sts.windows.net/<tid>/` too with `acceptV1Issuer`); `tid` in
 * `allowedTenants` when given; then `scopes` / `roles` (all of the scopes OR all of the roles when both
 * are given). Scope and role values compare case-sensitively.
 *
 * Failures are `AuthError`s: `token_invalid` (401) or `insufficient_scope` (403, `scopes` set to the
 * required ones) whose `reason` is a {@link BearerFailureReason}, and whose `description` never contains
 * the token or its claims; an OP that cannot be reached gives `op_unreachable` (502) /
 * `op_timeout` (504), a bad OP answer `discovery_failed`, `issuer_mismatch` or `op_bad_response` (502).
 * Answer 401/403 with `WWW-Authenticate: Bearer error="invalid_token"` / `"insufficient_scope"` (RFC 6750 §3).
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068 JWT profile for OAuth 2.0 access tokens
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1 Bearer error codes
 * @see https://www.rfc-editor.org/rfc/rfc7519#section-7.2 Validating a JWT
 * @example
 * ```ts
 * const validate = createBearerValidator({
 *   authority: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0',
 *   audience: ['api://orders', '6e4f...client-id'],
 *   scopes: ['Orders.Read'],
 *   roles: ['Orders.Read.All'],
 * });
 * const claims = await validate(bearerTokenFromAuthorizationHeader); // throws AuthError
 * console.log(claims.oid, claims.scp ?? claims.roles);
 * ```
 */
export function createBearerValidator(options: BearerOptions): (token: string) => Promise<BearerClaims> {
  const resolved = resolveBearerOptions(options);
  const issuerKeys = createIssuerKeys(resolved);
  const cache = resolved.verifiedTokenCache ? new VerifiedTokens(resolved.verifiedTokenCache) : undefined;
  const checks = joseChecks(resolved);
  let known: IssuerKeys | undefined;

  /** A refusal is logged (at debug, code and reason only) once, where it is made. */
  const refused = (err: unknown): unknown => {
    if (err instanceof AuthError && (err.code === 'token_invalid' || err.code === 'insufficient_scope')) {
      resolved.logger.debug({ code: err.code, reason: err.reason }, 'authflow: bearer token refused');
    }
    return err;
  };
  const checked = (claims: BearerClaims, keys: IssuerKeys): BearerClaims => {
    try {
      return checkClaims(claims, keys, resolved);
    } catch (err) {
      throw refused(err);
    }
  };
  // The route's checks (issuer, tenant, scopes, roles) run on remembered claims every time.
  const fromCache = (claims: BearerClaims): BearerClaims => {
    noteVerifiedTokenHit();
    return checked(claims, known!);
  };
  // Verification in full adds one promise to jose's (no async layers in between).
  const verifiedWith = (token: string, id: string | undefined, header: TokenHeader, keys: IssuerKeys): Promise<BearerClaims> =>
    verify(token, header, keys, checks).then(({ payload }) => {
      const claims = checked(payload, keys);
      if (id !== undefined && header.kid !== undefined) cache!.remember(id, header.kid, claims);
      return claims;
    }, (err: unknown) => { throw refused(fromJose(err)); });
  const verified = (token: string, id: string | undefined): Promise<BearerClaims> => {
    let header: TokenHeader;
    try {
      header = precheck(token, resolved);
    } catch (err) {
      return Promise.reject(refused(err));
    }
    if (known) return verifiedWith(token, id, header, known);
    // The first call discovers the OP and fetches its keys; later calls have them at hand.
    return issuerKeys().then((keys) => verifiedWith(token, id, header, (known = keys)));
  };

  return observeBearer((token: string): Promise<BearerClaims> => {
    if (!cache || typeof token !== 'string' || token.length > MAX_BEARER_TOKEN_LENGTH) return verified(token, undefined);
    const id = hashOf(token);
    // Synchronous unless the key set must be fetched again first.
    const found = known && cache.find(id, known);
    if (found instanceof Promise) return found.then((hit) => (hit ? fromCache(hit) : verified(token, id)));
    if (!found) return verified(token, id);
    try {
      return Promise.resolve(fromCache(found));
    } catch (err) {
      return Promise.reject(err);
    }
  });
}

/** What the verified-token cache keeps of a token: its verified claims and the key that signed it. */
interface VerifiedToken { claims: BearerClaims; kid: string }

/**
 * The verified-token cache (see `BearerOptions.verifiedTokenCache`): SHA-256 of the whole token
 * (any changed character is another key: a tampered copy is verified in full) to the claims jose
 * verified. ~1-2 µs of hashing instead of an RSA verification (~50-100 µs). Exported for the
 * bench's memory-per-entry row only (not from the package).
 */
export class VerifiedTokens {
  readonly #map: BoundedMap<string, VerifiedToken>;
  readonly #ttlMs: number;

  constructor(options: { max: number; ttlSeconds: number }) {
    this.#map = new BoundedMap({ maxEntries: options.max });
    this.#ttlMs = options.ttlSeconds * 1000;
  }

  /** Tokens held (expired ones included until touched or evicted). */
  get size(): number {
    return this.#map.size;
  }

  /** The remembered claims of the token whose hash is `id`, while its key is still in the OP's set; undefined otherwise. */
  find(id: string, keys: IssuerKeys): BearerClaims | undefined | Promise<BearerClaims | undefined> {
    const entry = this.#map.get(id);
    if (!entry) return undefined;
    const present = keys.hasKey(entry.kid);
    if (present instanceof Promise) return present.then((still) => this.#kept(id, entry, still));
    return this.#kept(id, entry, present);
  }

  /** The entry's claims while its key is in the set; else it is forgotten and the token verified in full (which refuses it). */
  #kept(id: string, entry: VerifiedToken, keyPresent: boolean): BearerClaims | undefined {
    if (keyPresent) return entry.claims;
    this.#map.delete(id);
    return undefined;
  }

  /** Remembers a token (by its hash `id`) that passed every check, until `min(exp, now + ttl)`. */
  remember(id: string, kid: string, claims: BearerClaims): void {
    const ttlMs = Math.min((claims.exp ?? 0) * 1000 - Date.now(), this.#ttlMs);
    if (!(ttlMs > 0)) return;
    // Shared by every later call: frozen, so a caller changing them cannot grant itself a scope.
    this.#map.set(id, { claims: deepFreeze(claims), kid }, ttlMs);
  }
}

/** The cache key: SHA-256 of the whole token (a tampered copy is another key; the token itself is never kept). */
export const hashOf = (token: string): string => hash('sha256', token, 'base64');

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key in value) deepFreeze(value[key]);
  }
  return value;
}

/** Validators by option values: the least recently used set is dropped beyond 64. */
const validators = new BoundedMap<string, Validator>({ maxEntries: 64 });
const objectIds = new WeakMap<object, number>();
let nextObjectId = 0;
const idOf = (value: unknown): number | undefined => {
  if (typeof value !== 'function' && (typeof value !== 'object' || value === null)) return undefined;
  let id = objectIds.get(value);
  if (id === undefined) objectIds.set(value, (id = ++nextObjectId));
  return id;
};

/**
 * Validates one access token (see {@link createBearerValidator} for every check and error). The
 * validator for a given set of option values is built once and kept (up to 64 sets), so discovery
 * and the JWKS are not fetched again per call; options changed after a call (`scopes`,
 * `allowedTenants`, even in place) apply from the next call. Prefer `createBearerValidator` in
 * long-lived code.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4 Validating JWT access tokens
 * @example
 * ```ts
 * const claims = await validateBearer(token, { authority: 'https://op.example.com', audience: 'api://orders', scopes: ['Orders.Read'] });
 * ```
 */
export function validateBearer(token: string, options: BearerOptions): Promise<BearerClaims> {
  try {
    return validatorFor(options)(token);
  } catch (err) {
    // Bad options reject, as every other failure does.
    return Promise.reject(err);
  }
}

/** The options that shape a validator, in a fixed order (the cache key and the snapshot follow it). */
const OPTION_FIELDS = [
  'authority', 'audience', 'scopes', 'roles', 'allowedTenants', 'acceptV1Issuer', 'authorityType', 'algorithms', 'clockToleranceSeconds',
  'allowInsecureRequests', 'timeoutMs', 'jwksCooldownSeconds', 'jwksCacheMaxAgeSeconds', 'fetch', 'logger', 'verifiedTokenCache',
] as const satisfies ReadonlyArray<keyof BearerOptions>;

type Validator = (token: string) => Promise<BearerClaims>;
/** A validator found for an options object, with the values (arrays copied) it was built from. */
interface KnownValidator { validator: Validator; built: BearerOptions }

function validatorFor(options: BearerOptions): Validator {
  if (options === null || typeof options !== 'object') return createBearerValidator(options);
  // The same options object (the usual case: a constant) finds its validator without building a
  // key; its values are compared with those it was built from (~100 ns), so options changed
  // since, even an array changed in place (`scopes.push`), get the validator of their values.
  const known = validatorsByObject.get(options);
  if (known && sameOptions(options, known.built)) return known.validator;
  const o = options as unknown as Record<string, unknown>;
  const key = JSON.stringify(OPTION_FIELDS.map((f) => (f === 'fetch' || f === 'logger' ? idOf(o[f]) : o[f])));
  let validator = validators.get(key);
  if (!validator) {
    validator = createBearerValidator(options);
    validators.set(key, validator);
  }
  const copy = (v: unknown): unknown => (Array.isArray(v) ? [...v] : v && typeof v === 'object' ? { ...v } : v);
  const built = Object.fromEntries(OPTION_FIELDS.map((f) => [f, f === 'fetch' || f === 'logger' ? o[f] : copy(o[f])])) as unknown as BearerOptions;
  validatorsByObject.set(options, { validator, built });
  return validator;
}
const validatorsByObject = new WeakMap<BearerOptions, KnownValidator>();

/** Field by field (a loop over names is several times slower on this hot path); keep in step with OPTION_FIELDS. */
function sameOptions(o: BearerOptions, b: BearerOptions): boolean {
  return o.authority === b.authority && sameList(o.audience, b.audience) && sameList(o.scopes, b.scopes)
    && sameList(o.roles, b.roles) && sameList(o.allowedTenants, b.allowedTenants) && o.acceptV1Issuer === b.acceptV1Issuer && o.authorityType === b.authorityType
    && sameList(o.algorithms, b.algorithms) && o.clockToleranceSeconds === b.clockToleranceSeconds
    && o.allowInsecureRequests === b.allowInsecureRequests && o.timeoutMs === b.timeoutMs
    && o.jwksCooldownSeconds === b.jwksCooldownSeconds && o.jwksCacheMaxAgeSeconds === b.jwksCacheMaxAgeSeconds
    && o.fetch === b.fetch && o.logger === b.logger && sameCacheOption(o.verifiedTokenCache, b.verifiedTokenCache);
}

function sameCacheOption(value: BearerOptions['verifiedTokenCache'], was: BearerOptions['verifiedTokenCache']): boolean {
  if (!value || !was || typeof value !== 'object' || typeof was !== 'object') return value === was;
  return value.max === was.max && value.ttlSeconds === was.ttlSeconds;
}

function sameList(value: unknown, was: unknown): boolean {
  if (value === was) return true;
  if (!Array.isArray(value) || !Array.isArray(was) || value.length !== was.length) return false;
  for (let i = 0; i < was.length; i++) if (value[i] !== was[i]) return false;
  return true;
}

function refuse(reason: BearerFailureReason, detail: string): AuthError {
  return new AuthError('token_invalid', { reason, description: `${reason}: ${detail}` });
}

/** The header fields authflow reads itself: the key's id (a token without one is not cached) and the algorithm. */
interface TokenHeader { kid: string | undefined; alg: string }

/** Size, shape and header checks that need neither the network nor jose. */
function precheck(token: unknown, options: ResolvedBearerOptions): TokenHeader {
  if (typeof token !== 'string' || token === '') throw refuse('malformed', 'no token');
  if (token.length > MAX_BEARER_TOKEN_LENGTH) throw refuse('too_large', `the token is longer than ${MAX_BEARER_TOKEN_LENGTH} characters`);
  // One pass over the token checks the shape; the segments are counted only to word a refusal.
  if (!JWS_SHAPE.test(token)) {
    const segments = token.split('.');
    if (segments.length !== 3 || segments[0] === '' || segments[1] === '') throw refuse('malformed', 'a JWT has three dot-separated segments');
    throw refuse('malformed', 'the token\'s segments are not base64url');
  }
  const firstDot = token.indexOf('.');
  const { alg, typ, kid } = headerOf(token.slice(0, firstDot));
  if (typeof alg !== 'string' || !options.algorithms.includes(alg)) throw refuse('algorithm_not_allowed', 'the token\'s signing algorithm is not accepted');
  if (typ !== undefined && (typeof typ !== 'string' || !ACCEPTED_TYP.has(typ.toLowerCase()))) {
    throw refuse('wrong_type', 'the token\'s "typ" is not JWT or at+jwt (not an access token)');
  }
  if (token.endsWith('.')) throw refuse('signature_invalid', 'the token has no signature');
  return { kid: typeof kid === 'string' ? kid : undefined, alg };
}

/**
 * Decoded header segments: an OP's tokens share a handful (one per signing key), so each is
 * decoded once, not per token. Only JSON objects are kept; at 64 the map starts again (headers
 * an attacker varies are only decoded again, never wrongly trusted: the checks run on every call).
 */
const decodedHeaders = new Map<string, Readonly<Record<string, unknown>>>();

function headerOf(segment: string): Readonly<Record<string, unknown>> {
  let header = decodedHeaders.get(segment);
  if (header) return header;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw refuse('malformed', 'the token\'s header is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw refuse('malformed', 'the token\'s header is not a JSON object');
  header = Object.freeze(parsed as Record<string, unknown>);
  if (decodedHeaders.size >= 64) decodedHeaders.clear();
  decodedHeaders.set(segment, header);
  return header;
}

/**
 * Signature verifications done by this process (not exported from the package): tests read it to
 * show that a cached token skips jose. One increment per call costs nothing measurable.
 */
export const signatureChecks = { count: 0 };

/** What jose checks besides the signature, for one validator's options. */
type JoseChecks = Parameters<typeof jwtVerify>[2];

function joseChecks(options: ResolvedBearerOptions): JoseChecks {
  return { algorithms: options.algorithms, audience: options.audiences, clockTolerance: options.clockToleranceSeconds, requiredClaims: ['exp', 'iss', 'aud'] };
}

/** jose's signature and time/audience checks (its errors are mapped by the caller, {@link fromJose}). */
function verify(token: string, header: TokenHeader, keys: IssuerKeys, checks: JoseChecks): Promise<JWTVerifyResult<BearerClaims>> {
  signatureChecks.count += 1;
  // A key found lately is handed to jose directly (one await fewer); else jose asks for it.
  const key = keys.knownKey(header.kid, header.alg);
  return (key ? jwtVerify<BearerClaims>(token, key, checks) : jwtVerify<BearerClaims>(token, keys.getKey, checks));
}

/** Maps jose's errors. Never keeps jose's error as `cause`: claim errors carry the payload. */
function fromJose(err: unknown): AuthError {
  if (err instanceof AuthError) return err;
  if (err instanceof joseErrors.JWTExpired) return refuse('expired', 'the token has expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return refuse('missing_claim', `the token has no "${err.claim}" claim`);
    if (err.claim === 'nbf') return refuse('not_yet_valid', 'the token is not valid yet ("nbf" is in the future)');
    if (err.claim === 'aud') return refuse('wrong_audience', 'the token is not meant for this API ("aud")');
    return refuse('claim_invalid', `the token's "${err.claim}" claim is invalid`);
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return refuse('signature_invalid', 'the signature does not verify');
  if (err instanceof joseErrors.JWKSNoMatchingKey) return refuse('unknown_key', 'the OP\'s key set has no key for this token ("kid")');
  if (err instanceof joseErrors.JWKSMultipleMatchingKeys) return refuse('unknown_key', 'the token has no "kid" and the OP has several keys');
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return refuse('algorithm_not_allowed', 'the token\'s signing algorithm is not accepted');
  if (err instanceof joseErrors.JWKSTimeout) return new AuthError('op_timeout', { description: 'the OP\'s JWKS did not arrive in time' });
  if (err instanceof joseErrors.JWKSInvalid) return new AuthError('op_bad_response', { description: 'the OP\'s JWKS is not a valid key set' });
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return refuse('malformed', 'the token is not a well-formed JWT');
  if (err instanceof joseErrors.JOSENotSupported) return refuse('algorithm_not_allowed', 'the token\'s algorithm or key type is not supported');
  if (err instanceof joseErrors.JOSEError && err.code === 'ERR_JOSE_GENERIC') {
    return new AuthError('op_bad_response', { description: 'the OP\'s JWKS could not be read' });
  }
  if (err instanceof TypeError) return refuse('signature_invalid', 'the token\'s key is not usable with its algorithm');
  throw err;
}

/**
 * How an ID token replayed as an access token is told apart (with `audience` set to the client
 * id, its `aud` would fit). OpenID Connect Core defines `at_hash`, `c_hash` (§3.3.2.11) and FAPI
 * `s_hash` for ID tokens only, and no access token profile uses them (RFC 9068, Entra, Okta,
 * Auth0, Keycloak): refused outright. `nonce` (§2) marks an ID token too (Entra's from a sign-in
 * always carry it), but Keycloak before 25 also copied it into access tokens, which always carry
 * `scope`; an ID token has no `scp`/`scope`, so `nonce` is refused on a token without either.
 * Entra's optional `idtyp` is `app` or `user` in access tokens; Keycloak's ID tokens say `typ: "ID"`.
 * Not caught: an ID token with none of these (Entra's after a refresh), which still needs the
 * required `scopes` (ID tokens have none) or `roles` to pass.
 */
const ID_TOKEN_HASHES = ['at_hash', 'c_hash', 's_hash'] as const;
const ACCESS_TOKEN_IDTYP: ReadonlySet<unknown> = new Set(['app', 'user']);

/** The token's kind and age: an access token (not an ID token), not issued in the future. */
function checkKindAndAge(claims: BearerClaims, options: ResolvedBearerOptions): void {
  for (const name of ID_TOKEN_HASHES) {
    if (claims[name] !== undefined) throw refuse('wrong_type', `the token carries "${name}": an ID token, not an access token`);
  }
  if (claims['nonce'] !== undefined && claims.scp === undefined && claims['scope'] === undefined) {
    throw refuse('wrong_type', 'the token carries "nonce" and no scopes: an ID token, not an access token');
  }
  if (claims['idtyp'] !== undefined && !ACCESS_TOKEN_IDTYP.has(claims['idtyp'])) throw refuse('wrong_type', 'the token\'s "idtyp" is not an access token\'s');
  if (claims['typ'] === 'ID') throw refuse('wrong_type', 'the token\'s "typ" claim says it is an ID token');
  // jose checks "iat" only with maxTokenAge; a token issued in the future was not issued by an honest OP's clock.
  if (typeof claims.iat === 'number' && claims.iat > Date.now() / 1000 + options.clockToleranceSeconds) {
    throw refuse('not_yet_valid', 'the token is issued in the future ("iat")');
  }
}

/** Kind and age, issuer and tenant, then scopes and roles, on a token whose signature verified. */
function checkClaims(claims: BearerClaims, keys: IssuerKeys, options: ResolvedBearerOptions): BearerClaims {
  checkKindAndAge(claims, options);
  const tid = typeof claims.tid === 'string' && claims.tid !== '' ? claims.tid : undefined;
  const host = options.authority.issuer.host;
  let issuerOk: boolean;
  if (keys.multiTenant) {
    if (!tid) throw refuse('missing_claim', 'the token has no "tid" claim (multi-tenant authority)');
    issuerOk = claims.iss === keys.issuer.replace('{tenantid}', tid) || (options.acceptV1Issuer && claims.iss === v1Issuer(host, tid));
  } else {
    issuerOk = claims.iss === keys.issuer || (options.acceptV1Issuer && !!keys.tenantOfIssuer && claims.iss === v1Issuer(host, keys.tenantOfIssuer));
  }
  if (!issuerOk) throw refuse('wrong_issuer', 'the token was not issued by the configured authority ("iss")');
  if (options.allowedTenants && (!tid || !options.allowedTenants.has(tid.toLowerCase()))) {
    throw refuse('tenant_not_allowed', 'the token\'s tenant ("tid") is not one this API accepts');
  }
  checkPermissions(claims, options);
  return claims;
}

function checkPermissions(claims: BearerClaims, options: ResolvedBearerOptions): void {
  const { scopes, roles } = options;
  if (!scopes && !roles) return;
  const granted = claims.scp ?? claims['scope'];
  // The passing case builds nothing: it runs on every call, cache hits included.
  if (scopes && scopes.every((s) => holds(granted, s))) return;
  if (roles && roles.every((r) => holds(claims.roles, r))) return;
  const missingScopes = (scopes ?? []).filter((s) => !holds(granted, s));
  const missingRoles = (roles ?? []).filter((r) => !holds(claims.roles, r));
  const quote = (list: readonly string[]): string => list.map((v) => `"${v}"`).join(', ');
  const reason: BearerFailureReason = scopes ? 'missing_scope' : 'missing_role';
  const detail = scopes && roles
    ? `the token has neither the scopes ${quote(scopes)} nor the app roles ${quote(roles)}`
    : scopes
      ? `required scope${missingScopes.length > 1 ? 's' : ''} ${quote(missingScopes)} missing`
      : `required app role${missingRoles.length > 1 ? 's' : ''} ${quote(missingRoles)} missing`;
  throw new AuthError('insufficient_scope', { reason, description: `${reason}: ${detail}`, ...(scopes ? { scopes } : {}) });
}

/**
 * Whether a `scp` / `scope` / `roles` claim holds `value` (non-empty, no spaces: see options): the
 * claim is a space-separated string (Entra `scp`, RFC 9068 `scope`) or an array (Okta, Entra `roles`).
 */
function holds(claim: unknown, value: string): boolean {
  if (Array.isArray(claim)) return claim.includes(value);
  if (typeof claim !== 'string') return false;
  for (let at = claim.indexOf(value); at !== -1; at = claim.indexOf(value, at + 1)) {
    const end = at + value.length;
    if ((at === 0 || claim.charCodeAt(at - 1) === 32) && (end === claim.length || claim.charCodeAt(end) === 32)) return true;
  }
  return false;
}
