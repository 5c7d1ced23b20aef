/**
 * The delegated permissions each user granted each client, as Entra keeps them: per (user, client),
 * accumulated across sign-ins, independent of any one session or refresh token. The consent page
 * adds to it; a refresh may use any scope in it and nothing else (grants.ts).
 */
import { APIS } from './config.js';
import { allScopesOf, apiOfScope } from './dialect.js';

/** Consented API scopes (prefixed, `api://orders/Orders.Read`) per user and client. */
export class ConsentBook {
  readonly #granted = new Map<string, Set<string>>();

  /** Records the API scopes accepted on the consent page (`.default` means all of that API's scopes). */
  record(accountId: string, clientId: string, scopes: readonly string[]): void {
    const key = `${accountId} ${clientId}`;
    const set = this.#granted.get(key) ?? new Set<string>();
    for (const apiScopes of consentedByApi(scopes).values()) for (const s of apiScopes) set.add(s);
    this.#granted.set(key, set);
  }

  /** What the user consented to for this client, per API (each list includes `api/.default`). */
  byApi(accountId: string, clientId: string): Map<string, string[]> {
    const named = [...(this.#granted.get(`${accountId} ${clientId}`) ?? [])].filter((s) => !s.endsWith('/.default'));
    return consentedByApi(named); // no `.default` in `named`: nothing widens to all scopes here
  }

  /** True when the user consented to `scope` (prefixed) for this client. */
  has(accountId: string, clientId: string, scope: string): boolean {
    return this.#granted.get(`${accountId} ${clientId}`)?.has(scope) ?? false;
  }
}

/**
 * Consent per API for a list of scopes: the API scopes named, plus `.default` (so a later
 * `.default` request resolves to what was consented), or every scope of the API when `.default`
 * itself was named (Entra: all of its statically configured permissions).
 */
export function consentedByApi(scopes: readonly string[]): Map<string, string[]> {
  const byApi = new Map<string, Set<string>>();
  for (const s of scopes) {
    const api = apiOfScope(s, APIS);
    if (api) byApi.set(api, (byApi.get(api) ?? new Set<string>()).add(s));
  }
  return new Map([...byApi].map(([api, asked]) => [api, asked.has(`${api}/.default`)
    ? allScopesOf(api, APIS)
    : [...asked, `${api}/.default`]]));
}
