import * as oidc from 'openid-client';
import { aadstsRule } from './entraErrors.js';
import { AuthError, isOpErrorCode } from './errors.js';

/** Correlation ids of the OP's responses, filled by the client's fetch (see opClient.ts). */
export const responseCorrelationIds = new WeakMap<Response, string>();

const ID_TOKEN_CODES = new Set(['OAUTH_JWT_CLAIM_COMPARISON_FAILED', 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED', 'OAUTH_KEY_SELECTION_FAILED']);
const BAD_RESPONSE_CODES = new Set([
  'OAUTH_RESPONSE_IS_NOT_JSON', 'OAUTH_RESPONSE_IS_NOT_CONFORM', 'OAUTH_PARSE_ERROR', 'OAUTH_INVALID_RESPONSE',
]);

type Json = Record<string, unknown>;

/**
 * Turns whatever openid-client (or fetch under it) threw into an `AuthError`: the OP's `error`
 * becomes the code where it is a standard one, with its description and correlation id; local
 * validation failures of the ID token become `id_token_invalid` (`nonce_mismatch` for the nonce);
 * transport failures `op_unreachable` / `op_timeout` / `op_bad_response`.
 * Messages come from the OP or from openid-client's fixed texts: never a token or secret.
 */
export function toAuthError(err: unknown): AuthError {
  const own = findCause(err, (e): e is AuthError => e instanceof AuthError);
  if (own) return own;

  if (err instanceof oidc.ResponseBodyError) {
    const body = (err.cause ?? {}) as Json;
    return fromOpError(err.error, {
      description: err.error_description,
      status: err.status,
      body,
      correlationId: responseCorrelationIds.get(err.response) ?? text(body.correlation_id) ?? text(body.trace_id),
    });
  }
  if (err instanceof oidc.AuthorizationResponseError) {
    return fromOpError(err.error, { description: err.error_description, status: 400, body: Object.fromEntries(err.cause) });
  }
  if (err instanceof oidc.WWWAuthenticateChallengeError) {
    return new AuthError('op_bad_response', { description: `the OP answered ${err.status} with a WWW-Authenticate challenge`, cause: err });
  }
  if (err instanceof oidc.ClientError) {
    const code = err.code ?? '';
    const detail = err.cause instanceof Error ? err.cause.message : err.message;
    if (code === 'OAUTH_TIMEOUT' || code === 'OAUTH_ABORT') return new AuthError('op_timeout', { description: 'the OP did not answer in time', cause: err });
    if (ID_TOKEN_CODES.has(code) || (code === 'OAUTH_INVALID_RESPONSE' && /JWT|ID Token/.test(detail))) {
      if (/"nonce"/.test(detail)) return new AuthError('nonce_mismatch', { description: 'the ID token\'s nonce is not the one this sign-in sent', cause: err });
      return new AuthError('id_token_invalid', { description: `ID token refused: ${detail}`, cause: err });
    }
    if (BAD_RESPONSE_CODES.has(code)) return new AuthError('op_bad_response', { description: `the OP's response was refused: ${detail}`, cause: err });
    return new AuthError('op_bad_response', { description: detail, cause: err });
  }
  if (err instanceof TypeError && /fetch failed/.test(err.message)) {
    return new AuthError('op_unreachable', { description: 'could not connect to the OP', cause: err });
  }
  throw err;
}

function fromOpError(error: string, detail: { description: string | undefined; status: number; body: Json; correlationId?: string | undefined }): AuthError {
  const rule = aadstsRule(detail.body, detail.description);
  const common = {
    description: firstLine(detail.description) ?? `the OP answered ${error}`,
    correlationId: detail.correlationId,
    suberror: text(detail.body.suberror),
    claims: text(detail.body.claims),
    ...(rule ? { reason: rule.reason } : {}),
  };
  if (detail.status >= 500) {
    return new AuthError('op_bad_response', { ...common, opError: error, description: `the OP failed (${detail.status} ${error}): ${common.description}` });
  }
  // A known AADSTS code that the OAuth error alone would misread (see entraErrors.ts).
  if (rule?.code || rule?.status) {
    const code = rule.code ?? (isOpErrorCode(error) ? error : 'op_error');
    return new AuthError(code, { ...common, ...(rule.status ? { status: rule.status } : {}), ...(code !== error ? { opError: error } : {}) });
  }
  if (isOpErrorCode(error)) return new AuthError(error, common);
  return new AuthError('op_error', { ...common, opError: error });
}

function findCause<T>(err: unknown, match: (e: unknown) => e is T): T | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (match(e)) return e;
  }
  return undefined;
}

/** An OP's description without what follows its first line (Entra appends `Trace ID:`, `Correlation ID:`, `Timestamp:` lines). */
export const firstLine = (description: string | undefined): string | undefined => description?.split(/\r?\n/)[0];

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
