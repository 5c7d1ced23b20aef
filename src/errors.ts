import { NO_SIGN_IN_REASONS, type EntraErrorReason } from './entraErrors.js';

/**
 * The one error class authflow throws. Users branch on `code`, never on `instanceof` chains.
 *
 * @example
 * ```ts
 * try {
 *   await client.acquireTokenSilent({ scopes, account, partition });
 * } catch (err) {
 *   if (err instanceof AuthError && err.code === 'interaction_required') redirectToLogin(err.scopes);
 *   else throw err;
 * }
 * ```
 */

/** Error codes an OpenID Provider may send (RFC 6749 §5.2, OIDC Core §3.1.2.6, RFC 8628 §3.5). */
export type OpErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'interaction_required'
  | 'login_required'
  | 'account_selection_required'
  | 'consent_required'
  | 'authorization_pending'
  | 'slow_down'
  | 'expired_token';

/** Codes authflow raises itself. */
export type LocalErrorCode =
  | 'invalid_config'
  | 'invalid_argument'
  | 'flow_missing'
  | 'flow_expired'
  | 'flow_redeemed'
  | 'state_mismatch'
  | 'code_missing'
  | 'callback_invalid'
  | 'issuer_mismatch'
  | 'nonce_mismatch'
  | 'id_token_invalid'
  | 'tenant_not_allowed'
  | 'op_error'
  | 'op_unreachable'
  | 'op_timeout'
  | 'op_bad_response'
  | 'discovery_failed'
  | 'store_unavailable'
  | 'cache_invalid'
  | 'no_account'
  | 'token_invalid'
  | 'insufficient_scope'
  | 'flow_cancelled'
  | 'flow_timeout'
  | 'cross_site_request';

/** Every `AuthError.code`: the OP's OAuth 2.0 / OIDC codes passed through, and authflow's own. */
export type AuthErrorCode = OpErrorCode | LocalErrorCode;

/**
 * Why an incoming access token was refused (`token_invalid`, `insufficient_scope`): data to branch
 * and log on, never parsed out of `description`. `missing_token`: no `Authorization` header at all
 * (RFC 6750 §3.1: the challenge then carries no error code).
 */
export type BearerFailureReason =
  | 'missing_token' | 'malformed' | 'too_large' | 'algorithm_not_allowed' | 'wrong_type' | 'unknown_key'
  | 'signature_invalid' | 'expired' | 'not_yet_valid' | 'wrong_audience' | 'wrong_issuer' | 'tenant_not_allowed'
  | 'missing_claim' | 'claim_invalid' | 'missing_scope' | 'missing_role' | 'revoked';

/** Why a request body was refused (`invalid_request`). */
export type BodyFailureReason = 'body_too_large' | 'body_unreadable' | 'body_unsupported';

/** Why a session or token store failed (`store_unavailable`). */
export type StoreFailureReason = 'store_timeout' | 'store_not_ready' | 'store_failed' | 'lock_timeout';

/** The structured reason an {@link AuthError} carries besides its `code`, one closed union per failure kind. */
export type AuthErrorReason = BearerFailureReason | BodyFailureReason | StoreFailureReason | EntraErrorReason;

const OP_ERROR_CODES: ReadonlySet<string> = new Set<OpErrorCode>([
  'invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type',
  'invalid_scope', 'invalid_target', 'access_denied', 'unsupported_response_type', 'server_error',
  'temporarily_unavailable', 'interaction_required', 'login_required', 'account_selection_required',
  'consent_required', 'authorization_pending', 'slow_down', 'expired_token',
]);

/** True when `value` is an error code defined by OAuth 2.0 / OIDC that authflow passes through as is. */
export function isOpErrorCode(value: unknown): value is OpErrorCode {
  return typeof value === 'string' && OP_ERROR_CODES.has(value);
}

/** Codes after which the user has to sign in (again) or consent: the web layer answers with a login. */
export const INTERACTION_CODES: ReadonlySet<AuthErrorCode> = new Set<AuthErrorCode>([
  'interaction_required', 'consent_required', 'login_required', 'invalid_grant', 'no_account',
]);

const STATUS: Partial<Record<AuthErrorCode, number>> = {
  invalid_config: 500,
  invalid_argument: 500,
  invalid_client: 500,
  unauthorized_client: 500,
  unsupported_grant_type: 500,
  invalid_request: 400,
  access_denied: 401,
  interaction_required: 401,
  login_required: 401,
  consent_required: 401,
  account_selection_required: 401,
  invalid_grant: 401,
  no_account: 401,
  id_token_invalid: 401,
  nonce_mismatch: 401,
  tenant_not_allowed: 403,
  op_error: 502,
  op_unreachable: 502,
  op_bad_response: 502,
  server_error: 502,
  temporarily_unavailable: 503,
  op_timeout: 504,
  discovery_failed: 502,
  store_unavailable: 503,
  cache_invalid: 400,
  token_invalid: 401,
  insufficient_scope: 403,
  flow_cancelled: 400,
  flow_timeout: 408,
  cross_site_request: 403,
};

/** The details an {@link AuthError} carries besides its code. */
export interface AuthErrorOptions {
  /** The OP's `error_description`, or ours. Never contains a token, code, verifier or secret. */
  description?: string;
  /** The OP's correlation / trace id for this failure, for support tickets. */
  correlationId?: string;
  /** HTTP status the web layer answers with. Defaults per code (400 for request problems). */
  status?: number;
  /** Scopes the user must consent to (interaction-required errors). */
  scopes?: readonly string[];
  /** A claims challenge (JSON string) to send with the next authorization request. */
  claims?: string;
  /** The OP's raw `error` when it is not a standard code (`code` is then `op_error`). */
  opError?: string;
  /** Entra's `suberror` (e.g. `consent_required`, `basic_action`). */
  suberror?: string;
  /** Why, as data (see {@link AuthErrorReason}); set where the error is raised. */
  reason?: AuthErrorReason;
  /** The underlying error (kept for logs, never shown to users). */
  cause?: unknown;
}

/**
 * A failure with a stable `code`. `status` and `expose` tell an HTTP framework what to answer
 * (koa reads them; authflow's adapters do too): `expose` is false for 5xx, whose description
 * stays in logs and out of responses.
 */
export class AuthError extends Error {
  /** Stable code to branch on, e.g. `interaction_required`, `store_unavailable`. */
  readonly code: AuthErrorCode;
  /** What went wrong, for developers; never a token, code, verifier or secret. */
  readonly description: string;
  /** The OP's correlation / trace id, for support tickets. */
  readonly correlationId: string | undefined;
  /** HTTP status to answer with. */
  readonly status: number;
  /** Whether `description` may be shown to the client (false for 5xx). */
  readonly expose: boolean;
  /** Scopes to ask for when signing in again (interaction-required errors). */
  readonly scopes: readonly string[] | undefined;
  /** A claims challenge (JSON string) to send with the next sign-in. */
  readonly claims: string | undefined;
  /** The OP's raw `error` when it is not a standard code (`code` is then `op_error`). */
  readonly opError: string | undefined;
  /** Entra's `suberror`, e.g. `basic_action`. */
  readonly suberror: string | undefined;
  /** Why, as data: branch and log on this, never on `description`. */
  readonly reason: AuthErrorReason | undefined;

  /** A failure with `code`; `status` defaults per code (400 for request problems). */
  constructor(code: AuthErrorCode, options: AuthErrorOptions = {}) {
    const description = options.description ?? code.replaceAll('_', ' ');
    super(`${code}: ${description}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AuthError';
    this.code = code;
    this.description = description;
    this.correlationId = options.correlationId;
    this.status = options.status ?? STATUS[code] ?? 400;
    this.expose = this.status < 500;
    this.scopes = options.scopes;
    this.claims = options.claims;
    this.opError = options.opError;
    this.suberror = options.suberror;
    this.reason = options.reason;
  }

  /** True when signing in again (possibly with more scopes or a claims challenge) can fix this. */
  get interactionRequired(): boolean {
    return INTERACTION_CODES.has(this.code) && !(this.reason !== undefined && NO_SIGN_IN_REASONS.has(this.reason));
  }

  /** A JSON-safe view for responses and logs: no cause, no stack. */
  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      ...(this.reason ? { reason: this.reason } : {}),
      description: this.description,
      ...(this.correlationId ? { correlationId: this.correlationId } : {}),
      status: this.status,
    };
  }
}

/** Throws `invalid_config` naming the option. Used when clients and middleware are built. */
export function configError(option: string, problem: string): AuthError {
  return new AuthError('invalid_config', { description: `option "${option}" ${problem}` });
}
