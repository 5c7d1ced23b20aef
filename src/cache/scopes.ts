import { AuthError } from '../errors.js';

/** Scopes every sign-in asks for; MSAL adds them itself and ignores them when matching tokens. */
export const OIDC_SCOPES: readonly string[] = ['openid', 'profile', 'offline_access'];
const OIDC_SCOPE_SET: ReadonlySet<string> = new Set(OIDC_SCOPES);

/**
 * Checks caller-supplied scopes (non-empty strings without spaces) and removes duplicates,
 * case-insensitively, keeping the first spelling. Throws `invalid_argument` naming `name`.
 */
export function normalizeScopes(scopes: unknown, name = 'scopes'): string[] {
  if (!Array.isArray(scopes)) throw new AuthError('invalid_argument', { description: `${name} must be an array of strings` });
  // One scope (the usual getToken call) has no duplicates to find: no set, no lower-casing.
  if (scopes.length === 1) return [checkedScope(scopes[0], name)];
  const seen = new Set<string>();
  const result: string[] = [];
  for (const value of scopes) {
    const scope = checkedScope(value, name);
    const lower = scope.toLowerCase();
    if (!seen.has(lower)) {
      seen.add(lower);
      result.push(scope);
    }
  }
  return result;
}

function checkedScope(scope: unknown, name: string): string {
  if (typeof scope !== 'string' || scope === '' || /\s/.test(scope)) {
    throw new AuthError('invalid_argument', { description: `${name} must hold non-empty strings without spaces` });
  }
  return scope;
}

/** The scopes that name an API, lower-cased: what a cached access token is matched on. */
export function resourceScopeSet(scopes: Iterable<string>): Set<string> {
  const set = new Set<string>();
  for (const scope of scopes) {
    const lower = scope.toLowerCase();
    if (!OIDC_SCOPE_SET.has(lower)) set.add(lower);
  }
  return set;
}

/** Scopes for a request that may return a refresh token and an ID token: `scopes` plus the OIDC ones, once each. */
export function withOidcScopes(scopes: readonly string[]): string[] {
  return normalizeScopes([...scopes, ...OIDC_SCOPES]);
}

/** A space-separated target string split into scopes. */
export const splitTarget = (target: string | undefined): string[] => (target ?? '').split(/\s+/).filter(Boolean);

export function isSuperset(have: ReadonlySet<string>, want: ReadonlySet<string>): boolean {
  for (const scope of want) if (!have.has(scope)) return false;
  return true;
}

export function intersects(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  for (const scope of a) if (b.has(scope)) return true;
  return false;
}
