import type { AuthError, AuthErrorCode } from '../errors.js';

/**
 * What a developer can do about an error, where the code alone says it: shown on the page outside
 * production and in the log line. The README's Troubleshooting table has the same rows.
 */
const HINTS: Partial<Record<AuthErrorCode, string>> = {
  invalid_client: 'the OP refused the app\'s credentials: check "clientId" and "credential" (a secret\'s value, not its id; secrets expire)',
  unauthorized_client: 'the app registration does not allow this flow or redirect URI: check it at the OP',
  issuer_mismatch: 'set "authority" to the issuer the OP\'s discovery document names',
  op_unreachable: 'this server cannot reach the OP: check "authority" and the network',
  tenant_not_allowed: 'the account belongs to an organization (tenant) the app does not accept: add its tenant id to "allowedTenants" if it should, or sign in with an account of an allowed organization',
  store_unavailable: 'the session or token cache store (Redis) failed: check that it runs and REDIS_URL points at it',
};

/** The hint for `error`, if there is one. */
export function hintFor(error: AuthError): string | undefined {
  return HINTS[error.code];
}
