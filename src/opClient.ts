import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { importPKCS8 } from 'jose';
import type { ClientConfig, ResolvedCredential } from './config.js';
import { AuthError, type AuthErrorReason } from './errors.js';
import { aadstsRule } from './entraErrors.js';
import { responseCorrelationIds, toAuthError } from './opErrors.js';
import { JwksDownloads } from './opJwks.js';
import { observeOpRequest } from './telemetry/calls.js';
import { tenantEndpoints } from './authority.js';

/** Where openid-client applies Entra's `{tenantid}` issuer template (it keys it on this origin). */
const ENTRA_ORIGIN = 'https://login.microsoftonline.com';

/**
 * The client's connection to its OP: discovery done once and shared by every request (retried on
 * the next call if it failed), one fetch that applies the timeout, sends a `client-request-id`,
 * and logs endpoint, status, duration and correlation id — never a body.
 */
export class OpClient {
  readonly #config: ClientConfig;
  #configuration: Promise<oidc.Configuration> | undefined;
  /** The OP's keys as the last protocol step saw them (oauth4webapi's JWKS cache), for the next step. */
  #jwks: oidc.ExportedJWKSCache | undefined;
  #clientAuth: Promise<oidc.ClientAuth> | undefined;
  /** The discovered `jwks_uri` (normalised), whose downloads go through {@link JwksDownloads}. */
  #jwksUri: string | undefined;
  readonly #jwksDownloads = new JwksDownloads();

  constructor(config: ClientConfig) {
    this.#config = config;
  }

  /** The openid-client Configuration, discovering the OP's metadata on first use. */
  configuration(): Promise<oidc.Configuration> {
    this.#configuration ??= this.#discover().catch((err: unknown) => {
      this.#configuration = undefined;
      throw err;
    });
    return this.#configuration;
  }

  /**
   * Runs one protocol step, turning any failure into an `AuthError`. `signal` aborts the step's
   * requests (the caller then reports why: a cancelled flow, not an unreachable OP). `tenantId`
   * (multi-tenant authorities only) sends the step to that tenant's token endpoint and expects
   * that tenant's issuer: a tenant profile's refresh, a guest's On-Behalf-Of.
   */
  async call<T>(step: (configuration: oidc.Configuration) => Promise<T>, options: { signal?: AbortSignal; tenantId?: string | undefined } = {}): Promise<T> {
    const discovered = (await this.configuration()).serverMetadata();
    const tenant = discovered.token_endpoint
      ? tenantEndpoints(this.#config.authority, options.tenantId, discovered.token_endpoint, discovered.authorization_endpoint)
      : undefined;
    const metadata = JSON.stringify(tenant ? {
      ...discovered, issuer: tenant.issuer.href.replace(/\/$/, ''), token_endpoint: tenant.tokenEndpoint,
      ...(tenant.authorizationEndpoint ? { authorization_endpoint: tenant.authorizationEndpoint } : {}),
    } : discovered);
    const started = epochSeconds();
    let configuration: oidc.Configuration | undefined;
    try {
      configuration = await this.#stepConfiguration(metadata, options.signal, tenant?.issuer);
      return await step(configuration);
    } catch (err) {
      throw toAuthError(err);
    } finally {
      // Keep the keys when this step fetched them (their real fetch time, not the seed's).
      const seen = configuration && oidc.getJwksCache(configuration);
      if (seen && seen.uat >= started) this.#jwks = structuredClone(seen);
    }
  }

  async #discover(): Promise<oidc.Configuration> {
    try {
      const configuration = await this.#build(this.#fetch);
      const { authority } = this.#config;
      // openid-client takes any issuer from Entra's multi-tenant discovery: it must be the template.
      const template = `${authority.issuer.origin}/{tenantid}/v2.0`;
      if (authority.multiTenant && configuration.serverMetadata().issuer !== template) {
        throw new AuthError('issuer_mismatch', {
          description: `discovery document's issuer "${configuration.serverMetadata().issuer.slice(0, 200)}" is not Entra's multi-tenant template "${template}"`,
          status: 502,
        });
      }
      const { jwks_uri: jwksUri } = configuration.serverMetadata();
      this.#jwksUri = jwksUri ? new URL(jwksUri).href : undefined;
      this.#config.logger.info({ issuer: configuration.serverMetadata().issuer }, 'authflow: OP metadata discovered');
      return configuration;
    } catch (err) {
      throw discoveryError(err, this.#config.authority.issuer.href, await entraErrorOf(err));
    }
  }

  /**
   * A Configuration for one protocol step: the discovered metadata replayed (no request), and a
   * JWKS cache of its own seeded with the keys last seen. oauth4webapi refetches the JWKS for an
   * unknown `kid` only once its cache is 60 s old (and keeps it per Configuration), so an OP that
   * rotates its signing key within a minute of a fetch would have every ID token refused until
   * then. The seed is marked that old: a known key costs no request, an unknown `kid` one refetch
   * (OIDC Core §10.1.1), at most one per cooldown window (src/opJwks.ts), and keys older than
   * oauth4webapi's 5 minutes are fetched again.
   */
  async #stepConfiguration(metadata: string, signal: AbortSignal | undefined, server?: URL): Promise<oidc.Configuration> {
    const replay: oidc.CustomFetch = (url, options) => {
      if (new URL(url).pathname.includes('/.well-known/')) return Promise.resolve(new Response(metadata, { headers: { 'content-type': 'application/json' } }));
      const stepSignal = signal ? (options.signal ? AbortSignal.any([options.signal, signal]) : signal) : options.signal;
      if (url === this.#jwksUri) return this.#jwksDownloads.fetch(() => this.#fetch(url, { ...options, signal: undefined }), stepSignal);
      return this.#fetch(url, { ...options, signal: stepSignal });
    };
    const configuration = await this.#build(replay, server);
    // Each request has authflow's own timeout (#fetch); openid-client's whole-second one per step
    // would fire first and read as an unreachable OP (see #build).
    configuration.timeout = undefined;
    if (this.#jwks) {
      const refetchAllowedAt = epochSeconds() - 60;
      oidc.setJwksCache(configuration, { jwks: this.#jwks.jwks, uat: Math.min(this.#jwks.uat, refetchAllowedAt) });
    }
    return configuration;
  }

  /**
   * An openid-client Configuration discovered through `fetch` at `server` (default: the authority).
   * A multi-tenant Entra look-alike on another host (the dev OP's `/organizations`) is presented
   * to openid-client under Entra's origin, the only one it applies the `{tenantid}` template to
   * (ID tokens are then checked against `<origin>/<their tid>/v2.0`); its requests still go to
   * the real host.
   */
  async #build(fetch: oidc.CustomFetch, server?: URL): Promise<oidc.Configuration> {
    const { authority, clientId, allowInsecureRequests, clockToleranceSeconds } = this.#config;
    const execute = [oidc.enableNonRepudiationChecks];
    if (allowInsecureRequests) execute.push(oidc.allowInsecureRequests);
    let target = server ?? authority.issuer;
    if (!server && authority.multiTenant && authority.issuer.origin !== ENTRA_ORIGIN) {
      target = new URL(`${ENTRA_ORIGIN}${authority.issuer.pathname}`);
      const real = fetch;
      fetch = (url, options) => real(url.startsWith(ENTRA_ORIGIN) ? `${authority.issuer.origin}${url.slice(ENTRA_ORIGIN.length)}` : url, options);
    }
    return oidc.discovery(
      target,
      clientId,
      { [oidc.clockTolerance]: clockToleranceSeconds },
      await (this.#clientAuth ??= clientAuthentication(this.#config.credential).catch((err: unknown) => {
        this.#clientAuth = undefined;
        throw err;
      })),
      // openid-client's timeout counts whole seconds from before our request starts: one second
      // more keeps it a backstop, so authflow's `timeoutMs` is what fires (504 op_timeout).
      { execute, [oidc.customFetch]: fetch, timeout: Math.ceil(this.#config.timeoutMs / 1000) + 1 },
    );
  }

  readonly #fetch: oidc.CustomFetch = async (url, options) => {
    const { logger, timeoutMs } = this.#config;
    const requestId = randomUUID();
    const endpoint = new URL(url).pathname;
    const timeout = AbortSignal.timeout(timeoutMs);
    const started = performance.now();
    let response: Response;
    try {
      response = await observeOpRequest({ url, method: options.method, body: options.body, jwksUri: this.#jwksUri }, () => fetch(url, {
        ...(options as RequestInit),
        headers: { ...options.headers, 'client-request-id': requestId, 'return-client-request-id': 'true' },
        signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
      }));
    } catch (err) {
      const code = timeout.aborted ? 'op_timeout' : 'op_unreachable';
      const durationMs = Math.round(performance.now() - started);
      logger.warn({ endpoint, method: options.method, durationMs, correlationId: requestId, code }, 'authflow: OP request failed');
      throw new AuthError(code, {
        description: code === 'op_timeout' ? `${endpoint}: no answer within ${timeoutMs} ms` : `${endpoint}: could not connect to the OP`,
        correlationId: requestId,
        cause: err,
      });
    }
    // The id we sent is the correlation id (Entra echoes it as `correlation_id`): the one on the
    // error page, in the log line and at the OP. The OP's own request id is logged beside it.
    responseCorrelationIds.set(response, requestId);
    const opRequestId = response.headers.get('x-ms-request-id') ?? undefined;
    const durationMs = Math.round(performance.now() - started);
    // A 4xx (consent needed, refused grant) is reported by whoever handles the error, once.
    logger.debug({ endpoint, method: options.method, status: response.status, durationMs, correlationId: requestId, ...(opRequestId ? { opRequestId } : {}) }, 'authflow: OP request');
    return response;
  };
}

const epochSeconds = (): number => Math.floor(Date.now() / 1000);

async function clientAuthentication(credential: ResolvedCredential): Promise<oidc.ClientAuth> {
  if (credential.kind === 'none') return oidc.None();
  if (credential.kind === 'secret') {
    return credential.authMethod === 'client_secret_basic' ? oidc.ClientSecretBasic(credential.secret) : oidc.ClientSecretPost(credential.secret);
  }
  const pkcs8 = credential.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const key = await importPKCS8(pkcs8, credential.algorithm);
  return oidc.PrivateKeyJwt(key, {
    [oidc.modifyAssertion]: (header) => {
      header['x5t#S256'] = credential.x5tS256;
    },
  });
}

/** The OP's response behind an openid-client error, when it kept one. */
function responseOf(err: unknown): Response | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof Response) return e;
  }
  return undefined;
}

/** The HTTP status of the OP's response behind an openid-client error, when it kept one. */
function responseStatus(err: unknown): number | undefined {
  return responseOf(err)?.status;
}

/**
 * An Entra AADSTS error the discovery answer carried (e.g. 90002 for a tenant that does not
 * exist): its reason and description. openid-client refuses the status without reading the body.
 */
async function entraErrorOf(err: unknown): Promise<{ reason: AuthErrorReason; description: string } | undefined> {
  const response = responseOf(err);
  if (!response || response.status < 400 || response.status >= 500 || response.bodyUsed) return undefined;
  try {
    const body = await response.clone().json() as Record<string, unknown>;
    const rule = aadstsRule(body);
    const description = typeof body.error_description === 'string' ? body.error_description.split(/\r?\n/)[0]!.slice(0, 300) : undefined;
    return rule && description ? { reason: rule.reason, description } : undefined;
  } catch {
    return undefined;
  }
}

function discoveryError(err: unknown, issuer: string, entra?: { reason: AuthErrorReason; description: string }): AuthError {
  if (err instanceof AuthError && err.code === 'issuer_mismatch') return err;
  if (err instanceof oidc.ClientError && err.code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED') {
    const found = (err.cause as { body?: { issuer?: unknown } } | undefined)?.body?.issuer;
    return new AuthError('issuer_mismatch', {
      description: `discovery document's issuer "${String(found)}" is not the configured authority "${issuer}"`,
      status: 502,
      cause: err,
    });
  }
  const mapped = err instanceof AuthError ? err : (() => {
    try {
      return toAuthError(err);
    } catch {
      return undefined;
    }
  })();
  if (mapped && (mapped.code === 'op_unreachable' || mapped.code === 'op_timeout')) return mapped;
  const status = responseStatus(err);
  // A 4xx for the metadata is a wrong authority: say which URL was asked and what it should look like.
  const hint = status !== undefined && status >= 400 && status < 500
    ? ` (HTTP ${status} for ${issuer.replace(/\/$/, '')}/.well-known/openid-configuration): check "authority": the tenant, and the issuer's exact path (Entra's ends in /v2.0, e.g. https://login.microsoftonline.com/<tenant>/v2.0)`
    : '';
  return new AuthError('discovery_failed', {
    description: `could not read the OP's metadata at ${issuer}: ${entra?.description ?? mapped?.description ?? 'unexpected error'}${hint}`,
    correlationId: mapped?.correlationId,
    ...(entra ? { reason: entra.reason } : mapped?.reason ? { reason: mapped.reason } : {}),
    cause: err,
  });
}
