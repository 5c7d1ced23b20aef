import type { AuthError, AuthErrorCode, AuthErrorReason } from '../errors.js';

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

/** Hints for Entra's AADSTS reasons (src/entraErrors.ts), which say more than the code. */
const REASON_HINTS: Partial<Record<AuthErrorReason, string>> = {
  user_not_in_tenant: 'this account is not a member or guest of the tenant the app signs in to: sign in with another account, or ask an administrator to invite it',
  invalid_client_secret: 'the OP refused the client secret: use the secret\'s value (not its id) in "credential.secret", and check that it has not expired',
  application_not_found: 'the OP does not know "clientId" in this tenant: check "clientId" and the tenant in "authority" (a single-tenant app registered elsewhere, or not consented to here)',
  tenant_not_found: 'the tenant in "authority" does not exist: check the tenant id or domain (and the cloud)',
};

/** The hint for `error`, if there is one. */
export function hintFor(error: AuthError): string | undefined {
  return (error.reason ? REASON_HINTS[error.reason] : undefined) ?? HINTS[error.code];
}
