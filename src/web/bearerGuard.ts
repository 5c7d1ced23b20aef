import type { ConfidentialClient } from '../client.js';
import { caeClaimsChallenge, createBearerValidator, insufficientClaimsChallenge, isCaeToken, type BearerClaims, type BearerOptions } from '../bearer/index.js';
import { AuthError, configError } from '../errors.js';
import { defaultLogger } from '../logger.js';
import { asJson, errorResult, type RequestShape, type WebResult } from './render.js';
import { reportFailure } from './report.js';
import { object } from '../util/options.js';

/** Options of `requireBearer()` (Express and Koa). */
export interface RequireBearerOptions extends Partial<Omit<BearerOptions, 'audience'>> {
  /**
   * The API's own confidential client: its authority (and `allowInsecureRequests`,
   * `allowedTenants`) is where tokens come from, and `req.getToken` does On-Behalf-Of through it.
   * Without a client, give `authority`; `req.getToken` is then unavailable.
   */
  client?: ConfidentialClient;
  /** The API's identifiers (`api://orders` and/or its client id). */
  audience: string | readonly string[];
  /**
   * Continuous Access Evaluation: the user's TokensValidFrom (epoch seconds) when their tokens
   * were revoked (a password reset, "revoke sessions", a disabled account), else undefined — from
   * wherever your API learns of such events. A token issued (`iat`) before it is refused: a CAE
   * token (`xms_cc` names CP1) with 401 `error="insufficient_claims"` and Entra's claims challenge
   * (`{"access_token":{"nbf":{"essential":true,"value":"<validFrom>"}}}`, base64), which the
   * caller passes to `getToken(scopes, { claims })`; any other token with 401 `invalid_token`
   * (reason `revoked`). Called after the token validated; a throw is a 500.
   *
   * @example
   * ```ts
   * requireBearer({ client, audience: 'api://orders', tokensValidFrom: (claims) => revocations.get(String(claims.oid)) })
   * ```
   */
  tokensValidFrom?: (claims: BearerClaims) => number | undefined | Promise<number | undefined>;
}

/** RFC 6750 §2.1: `Bearer` and one token68 value, nothing else. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * Web-API request logic, shared by the adapters: reads the `Authorization: Bearer` header,
 * validates the token (see `createBearerValidator`), and answers failures the RFC 6750 way
 * (401 `invalid_token`, 403 `insufficient_scope`, and a 401 carrying the claims challenge when a
 * downstream On-Behalf-Of needs the user to sign in again, as Microsoft.Identity.Web does).
 */
export class BearerGuard {
  readonly client: ConfidentialClient | undefined;
  readonly #validate: (token: string) => Promise<BearerClaims>;
  readonly #tokensValidFrom: RequireBearerOptions['tokensValidFrom'];

  constructor(options: RequireBearerOptions) {
    const { client, tokensValidFrom, ...rest } = object(options);
    if (client !== undefined && typeof client?.acquireTokenOnBehalfOf !== 'function') throw configError('client', 'must be a ConfidentialClient');
    if (tokensValidFrom !== undefined && typeof tokensValidFrom !== 'function') throw configError('tokensValidFrom', 'must be a function (claims) => epoch seconds | undefined');
    this.#tokensValidFrom = tokensValidFrom;
    const authority = rest.authority ?? client?.config.authority.issuer.href;
    if (!authority) throw configError('authority', 'is required when no client is given');
    const allowedTenants = rest.allowedTenants ?? (client?.config.allowedTenants ? [...client.config.allowedTenants] : undefined);
    this.client = client;
    this.#validate = createBearerValidator({
      ...rest,
      authority,
      allowInsecureRequests: rest.allowInsecureRequests ?? client?.config.allowInsecureRequests ?? false,
      ...(rest.authorityType ?? client?.config.authority.type ? { authorityType: rest.authorityType ?? client?.config.authority.type } : {}),
      ...(allowedTenants ? { allowedTenants } : {}),
      ...(client && !rest.logger ? { logger: client.config.logger } : {}),
    });
  }

  /** The caller's validated token and claims, from the `Authorization` header. */
  async authenticate(authorization: unknown): Promise<{ token: string; claims: BearerClaims }> {
    if (authorization === undefined || authorization === '') {
      throw new AuthError('token_invalid', { reason: 'missing_token', description: 'missing: send Authorization: Bearer <token>', status: 401 });
    }
    const match = typeof authorization === 'string' ? BEARER.exec(authorization) : null;
    if (!match) throw new AuthError('token_invalid', { reason: 'malformed', description: 'malformed: the Authorization header must be "Bearer <token>"' });
    const token = match[1]!;
    const claims = await this.#validate(token);
    await this.#checkRevocation(claims);
    return { token, claims };
  }

  /** Continuous Access Evaluation: refuses a token issued before the user's TokensValidFrom (see `tokensValidFrom`). */
  async #checkRevocation(claims: BearerClaims): Promise<void> {
    if (!this.#tokensValidFrom) return;
    const validFrom = await this.#tokensValidFrom(claims);
    if (validFrom === undefined || validFrom === null) return;
    if (typeof validFrom !== 'number' || !Number.isInteger(validFrom)) {
      throw new AuthError('invalid_config', { description: 'tokensValidFrom must return epoch seconds (an integer) or undefined' });
    }
    const iat = typeof claims.iat === 'number' ? claims.iat : undefined;
    if (iat !== undefined && iat >= validFrom) return;
    const description = 'revoked: the token was issued before the user\'s sessions were revoked (Continuous Access Evaluation)';
    if (isCaeToken(claims)) {
      throw new AuthError('interaction_required', { reason: 'revoked', description, status: 401, claims: caeClaimsChallenge(validFrom) });
    }
    throw new AuthError('token_invalid', { reason: 'revoked', description, status: 401 });
  }

  /** On-Behalf-Of: a token for a downstream API, as the caller's user. */
  async onBehalfOf(token: string, scopes: readonly string[]): Promise<string> {
    return (await this.#requireClient().acquireTokenOnBehalfOf({ userAssertion: token, scopes })).accessToken;
  }

  /** Client credentials: a token for a downstream API, as this API itself. */
  async appToken(scopes: readonly string[]): Promise<string> {
    return (await this.#requireClient().acquireTokenForClient({ scopes })).accessToken;
  }

  /**
   * The answer to a failure: 401 with `WWW-Authenticate: Bearer error="invalid_token"` for a bad
   * or missing token (no error attribute when there was no token at all, RFC 6750 §3.1), 403
   * `insufficient_scope` naming the scopes, 401 with the claims challenge when the OP wants the
   * user back (consent, Conditional Access); other authflow errors their own status. Undefined for
   * errors that are not authflow's.
   */
  errorResult(request: RequestShape, error: unknown): WebResult | undefined {
    if (!(error instanceof AuthError)) return undefined;
    const attributes: string[] = [];
    let status = error.status;
    if (error.code === 'token_invalid') {
      // RFC 6750 §3.1: a request without credentials gets no error code; a token missing a claim is invalid.
      if (error.reason !== 'missing_token') attributes.push('error="invalid_token"', `error_description="${quote(error.description)}"`);
    } else if (error.code === 'insufficient_scope') {
      attributes.push('error="insufficient_scope"', `error_description="${quote(error.description)}"`);
      if (error.scopes?.length) attributes.push(`scope="${quote(error.scopes.join(' '))}"`);
    } else if (error.interactionRequired) {
      status = 401;
      attributes.push(error.claims ? 'error="insufficient_claims"' : 'error="interaction_required"');
      if (error.claims) attributes.push(`claims="${Buffer.from(error.claims, 'utf8').toString('base64')}"`);
      if (this.client) attributes.push(`client_id="${quote(this.client.clientId)}"`);
    } else {
      // Not the caller's token: the API's own failure (its secret, the OP, a store), logged with the id the answer shows.
      const correlationId = reportFailure(this.client?.config.logger ?? defaultLogger, request, error);
      return errorResult(asJson(request), error, { correlationId });
    }
    // A claims challenge in Entra's shape (one builder: insufficientClaimsChallenge); the rest per RFC 6750.
    const challenge = error.interactionRequired && error.claims && error.code !== 'token_invalid' && error.code !== 'insufficient_scope'
      ? insufficientClaimsChallenge(error.claims, { realm: 'api', ...(this.client ? { clientId: this.client.clientId } : {}) })
      : ['Bearer realm="api"', ...attributes].join(', ');
    const answered = new AuthError(error.code, { description: error.description, status, ...(error.reason ? { reason: error.reason } : {}), ...(error.correlationId ? { correlationId: error.correlationId } : {}) });
    return errorResult(asJson(request), answered, { headers: { 'www-authenticate': challenge } });
  }

  #requireClient(): ConfidentialClient {
    if (!this.client) throw new AuthError('invalid_config', { description: 'requireBearer() needs a client for getToken / getAppToken' });
    return this.client;
  }
}

/** A value safe inside a quoted-string of a WWW-Authenticate header. */
const quote = (value: string): string => value.replace(/["\\\r\n]/g, ' ').slice(0, 200);
