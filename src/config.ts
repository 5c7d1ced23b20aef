import { X509Certificate, createPrivateKey, createHash, type KeyObject } from 'node:crypto';
import { parseAuthority, type Authority, type AuthorityType } from './authority.js';
import { configError } from './errors.js';
import { MemoryTokenCacheStore } from './stores/memory.js';
import type { TokenCacheStore } from './stores/types.js';
import { defaultLogger, type Logger } from './logger.js';
import { logger, num, object, tenants } from './util/options.js';

/** A client secret, sent in the request body (`client_secret_post`, Entra's choice) or as HTTP Basic. */
export interface SecretCredential {
  /** The client secret from the app registration. */
  secret: string;
  /** How it is sent. Default `client_secret_post`. */
  authMethod?: 'client_secret_post' | 'client_secret_basic';
}

/**
 * A certificate credential (`private_key_jwt`, RFC 7523): PEM private key and X.509 certificate.
 * The assertion carries `x5t#S256` from the certificate, as Entra expects.
 */
export interface CertificateCredential {
  /** The PEM (PKCS#8) private key that signs the client assertion. */
  privateKey: string;
  /** The PEM X.509 certificate registered at the OP (its `x5t#S256` goes in the assertion). */
  certificate: string;
  /** Signing algorithm of the client assertion. Default `RS256`. */
  algorithm?: 'RS256' | 'PS256';
}

/** How a confidential client authenticates to the token endpoint: a secret or a certificate. */
export type ClientCredential = SecretCredential | CertificateCredential;

/** Options shared by confidential and public clients. */
export interface ClientOptionsBase {
  /** The application (client) id registered at the OP. */
  clientId: string;
  /** Issuer URL, or `https://login.microsoftonline.com/<tenant>/v2.0`. */
  authority: string;
  /** Where token caches live. Default: a bounded in-memory store (one process only). */
  cacheStore?: TokenCacheStore;
  /** Tenant ids accepted in ID tokens. Required for Entra `/common` and `/organizations`. */
  allowedTenants?: readonly string[];
  /** Allow `http://` OPs (development OPs only). Never a default. */
  allowInsecureRequests?: boolean;
  /** Force the authority's dialect; detected from the host otherwise (Entra hosts -> `entra`). */
  authorityType?: AuthorityType;
  /**
   * Where authflow logs (pino-style); never receives a token, code, verifier, assertion or secret.
   * Default: warnings and errors to stderr outside production, errors only when NODE_ENV=production
   * (see `defaultLogger`); pass `silentLogger` for none.
   */
  logger?: Logger;
  /** Timeout of each request to the OP, in milliseconds. Default 10,000. */
  timeoutMs?: number;
  /** A cached access token expiring within this many seconds is not served. Default 300 (MSAL's). */
  tokenRenewalOffsetSeconds?: number;
  /** How long an auth-code flow may wait for its callback, in seconds. Default 600. */
  flowLifetimeSeconds?: number;
  /** Clock skew tolerated on ID token `exp`/`iat`, in seconds. Default 60. */
  clockToleranceSeconds?: number;
  /**
   * How long a partition read from the store is kept in this process for cache hits, in seconds
   * (an L1 in front of Redis: a hit then costs no round trip). What another instance changes is
   * seen after at most this long; refreshes always read the store. Default 30; 0 turns it off.
   */
  localCacheSeconds?: number;
  /**
   * Client capabilities announced to the OP, as MSAL's `clientCapabilities`: `['CP1']` says this
   * app handles claims challenges, so Entra issues it Continuous Access Evaluation (CAE) tokens
   * (long-lived, revocable mid-flight). Sent as `{"access_token":{"xms_cc":{"values":[...]}}}`,
   * merged into the `claims` of every authorization and token request. Default: none.
   *
   * @see https://learn.microsoft.com/entra/identity-platform/app-resilience-continuous-access-evaluation
   */
  clientCapabilities?: readonly string[];
}

/** Options of a {@link ConfidentialClient}; validated when it is built. */
export interface ConfidentialClientOptions extends ClientOptionsBase {
  /** The client's secret or certificate. */
  credential: ClientCredential;
}

/**
 * Options of a public client (a CLI, a desktop app): no credential — a public client cannot keep
 * a secret (RFC 6749 §2.1), so it authenticates with its client id only.
 */
export interface PublicClientOptions extends ClientOptionsBase {
  /**
   * The cache partition every user token of this client goes to. Default `'default'`: one
   * MSAL-format cache per app, as a CLI's file cache wants.
   */
  partition?: string;
}

/** The validated, normalised form every other module reads. */
export interface ClientConfig {
  clientId: string;
  authority: Authority;
  credential: ResolvedCredential;
  cacheStore: TokenCacheStore;
  allowedTenants: ReadonlySet<string> | undefined;
  allowInsecureRequests: boolean;
  logger: Logger;
  timeoutMs: number;
  tokenRenewalOffsetSeconds: number;
  flowLifetimeSeconds: number;
  clockToleranceSeconds: number;
  localCacheSeconds: number;
  clientCapabilities: readonly string[];
}

export type ResolvedCredential =
  | { kind: 'none' }
  | { kind: 'secret'; secret: string; authMethod: 'client_secret_post' | 'client_secret_basic' }
  | { kind: 'certificate'; privateKey: KeyObject; x5tS256: string; algorithm: 'RS256' | 'PS256' };

/**
 * Checks confidential-client options once, when the client is built; each refusal names the option.
 * Throws `AuthError('invalid_config')`.
 */
export function resolveClientConfig(options: ConfidentialClientOptions): ClientConfig {
  object(options);
  return resolveCommon(options, () => resolveCredential(options.credential));
}

/**
 * Checks public-client options (the same names and rules as a confidential client's, without a
 * credential: one given is refused, naming it). Throws `AuthError('invalid_config')`.
 */
export function resolvePublicClientConfig(options: PublicClientOptions): ClientConfig {
  object(options);
  if ((options as { credential?: unknown }).credential !== undefined) {
    throw configError('credential', 'is not allowed on a PublicClient (a public client keeps no secret): use ConfidentialClient');
  }
  return resolveCommon(options, () => ({ kind: 'none' }));
}

function resolveCommon(options: ClientOptionsBase, credential: () => ResolvedCredential): ClientConfig {
  const { clientId } = options;
  if (typeof clientId !== 'string' || clientId.trim() === '') throw configError('clientId', 'is required (the application id registered at the OP)');
  const allowInsecureRequests = options.allowInsecureRequests === true;
  if (options.authorityType !== undefined && options.authorityType !== 'entra' && options.authorityType !== 'oidc') {
    throw configError('authorityType', 'must be "entra" or "oidc"');
  }
  const authority = parseAuthority(options.authority, { allowInsecureRequests, authorityType: options.authorityType });
  const allowedTenants = tenants(options.allowedTenants, authority);
  return {
    clientId,
    authority,
    credential: credential(),
    cacheStore: resolveStore(options.cacheStore),
    allowedTenants,
    allowInsecureRequests,
    logger: logger(options.logger, defaultLogger),
    timeoutMs: num('timeoutMs', options.timeoutMs, 10_000),
    tokenRenewalOffsetSeconds: num('tokenRenewalOffsetSeconds', options.tokenRenewalOffsetSeconds, 300, { min: 0 }),
    flowLifetimeSeconds: num('flowLifetimeSeconds', options.flowLifetimeSeconds, 600),
    clockToleranceSeconds: num('clockToleranceSeconds', options.clockToleranceSeconds, 60, { min: 0 }),
    localCacheSeconds: num('localCacheSeconds', options.localCacheSeconds, 30, { min: 0 }),
    clientCapabilities: capabilities(options.clientCapabilities),
  };
}

/** `clientCapabilities`: an array of capability names (`CP1`), no blanks, no duplicates. */
function capabilities(value: unknown): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(v))) {
    throw configError('clientCapabilities', 'must be an array of capability names, e.g. ["CP1"]');
  }
  if (new Set(value).size !== value.length) throw configError('clientCapabilities', 'names a capability twice');
  return Object.freeze([...value as string[]]);
}

function resolveCredential(credential: unknown): ResolvedCredential {
  if (credential === null || typeof credential !== 'object') {
    throw configError('credential', 'is required: { secret } or { privateKey, certificate }');
  }
  const c = credential as Partial<SecretCredential & CertificateCredential>;
  const hasSecret = c.secret !== undefined;
  const hasCertificate = c.privateKey !== undefined || c.certificate !== undefined;
  if (hasSecret && hasCertificate) throw configError('credential', 'has both a secret and a certificate: give one');
  if (hasSecret) {
    if (typeof c.secret !== 'string' || c.secret === '') throw configError('credential.secret', 'must be a non-empty string');
    const authMethod = c.authMethod ?? 'client_secret_post';
    if (authMethod !== 'client_secret_post' && authMethod !== 'client_secret_basic') {
      throw configError('credential.authMethod', 'must be "client_secret_post" or "client_secret_basic"');
    }
    return { kind: 'secret', secret: c.secret, authMethod };
  }
  if (!hasCertificate) throw configError('credential', 'is required: { secret } or { privateKey, certificate }');
  if (typeof c.privateKey !== 'string') throw configError('credential.privateKey', 'must be a PEM private key');
  if (typeof c.certificate !== 'string') throw configError('credential.certificate', 'must be a PEM X.509 certificate');
  const algorithm = c.algorithm ?? 'RS256';
  if (algorithm !== 'RS256' && algorithm !== 'PS256') throw configError('credential.algorithm', 'must be "RS256" or "PS256"');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(c.privateKey);
  } catch {
    throw configError('credential.privateKey', 'is not a readable PEM private key');
  }
  if (privateKey.asymmetricKeyType !== 'rsa') throw configError('credential.privateKey', 'must be an RSA key (RS256/PS256)');
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(c.certificate);
  } catch {
    throw configError('credential.certificate', 'is not a readable PEM X.509 certificate');
  }
  if (!certificate.checkPrivateKey(privateKey)) throw configError('credential.certificate', 'does not match credential.privateKey');
  const x5tS256 = createHash('sha256').update(certificate.raw).digest('base64url');
  return { kind: 'certificate', privateKey, x5tS256, algorithm };
}

function resolveStore(store: unknown): TokenCacheStore {
  if (store === undefined) return new MemoryTokenCacheStore();
  const s = store as Partial<TokenCacheStore> | null;
  if (!s || typeof s.read !== 'function' || typeof s.write !== 'function' || typeof s.clear !== 'function') {
    throw configError('cacheStore', 'must implement read, write and clear (see TokenCacheStore)');
  }
  return s as TokenCacheStore;
}

