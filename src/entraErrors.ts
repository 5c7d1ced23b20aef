/**
 * Entra ID's AADSTS error codes that apps meet, mapped to what authflow does about them: the
 * structured {@link EntraErrorReason} an `AuthError` carries, and — where the OAuth `error` alone
 * would mislead — the code and status to raise instead. One table, read by `opErrors.ts` (token
 * and discovery answers) and by the auth-code callback (`?error=` redirects).
 *
 * @see https://learn.microsoft.com/entra/identity-platform/reference-error-codes
 */
import type { AuthErrorCode } from './errors.js';

/** Why Entra refused, as data (from the AADSTS number in `error_codes` / `error_description`). */
export type EntraErrorReason =
  | 'mfa_required' | 'mfa_registration_required' | 'consent_missing' | 'refresh_token_expired'
  | 'sign_in_frequency' | 'grant_revoked' | 'user_not_in_tenant' | 'invalid_client_secret'
  | 'application_not_found' | 'tenant_not_found';

/** What authflow does with one AADSTS code. */
export interface AadstsRule {
  reason: EntraErrorReason;
  /** The `AuthError.code` raised instead of the OP's `error` (when that would mislead). */
  code?: AuthErrorCode;
  /** The HTTP status instead of the code's default. */
  status?: number;
}

/** The AADSTS codes authflow knows (README, "Entra errors"). */
export const AADSTS_RULES: Readonly<Record<number, AadstsRule>> = {
  50076: { reason: 'mfa_required' },
  50079: { reason: 'mfa_registration_required' },
  65001: { reason: 'consent_missing' },
  700082: { reason: 'refresh_token_expired' },
  70043: { reason: 'sign_in_frequency' },
  50173: { reason: 'grant_revoked' },
  // Signing in again cannot help: the account is not a member or guest of the tenant.
  50020: { reason: 'user_not_in_tenant', code: 'access_denied', status: 403 },
  // The app's own configuration: a server error, not the user's.
  7000215: { reason: 'invalid_client_secret', status: 500 },
  700016: { reason: 'application_not_found', status: 500 },
  90002: { reason: 'tenant_not_found', code: 'invalid_config', status: 500 },
};

/** The AADSTS number of an error body: `error_codes[0]`, else the `AADSTSnnnn:` prefix of the description. */
export function aadstsNumber(body: Record<string, unknown>, description?: string): number | undefined {
  const codes = body.error_codes;
  if (Array.isArray(codes) && typeof codes[0] === 'number' && Number.isInteger(codes[0])) return codes[0];
  const text = description ?? (typeof body.error_description === 'string' ? body.error_description : '');
  const match = /^AADSTS(\d{4,7})\b/.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** The rule for an error body, if its AADSTS code is one authflow knows. */
export function aadstsRule(body: Record<string, unknown>, description?: string): AadstsRule | undefined {
  const n = aadstsNumber(body, description);
  return n === undefined ? undefined : AADSTS_RULES[n];
}

/** Reasons after which a new sign-in cannot help (the web layer shows an error page instead). */
export const NO_SIGN_IN_REASONS: ReadonlySet<string> = new Set<EntraErrorReason>(['user_not_in_tenant', 'invalid_client_secret', 'application_not_found', 'tenant_not_found']);
