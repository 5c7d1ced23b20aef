/**
 * Entra ID v2 dialect helpers: prefixed scopes (`api://orders/Orders.Read`) <-> resources,
 * `.default` expansion, `client_info`, and Entra-shaped error bodies. Pure functions over the
 * API registry, so config.ts, the grants and the HTTP layer share one definition.
 */
import { randomUUID } from 'node:crypto';

/** One protected API (a resource server): its scopes (delegated) and app roles (application). */
export interface ApiDefinition {
  /** Delegated permission names, unprefixed (`Orders.Read`). */
  scopes: readonly string[];
  /** App role values that can be assigned to clients (`Inventory.Read.All`). */
  appRoles: readonly string[];
  /** Key in the client registry of the app that owns (exposes) this API. */
  owner: string;
  /**
   * The manifest's `accessTokenAcceptedVersion`: 2 (default here) issues v2 tokens; 1 issues v1
   * tokens (`ver: "1.0"`, iss `https://sts.windows.net/<tid>/`, `appid`, `upn`/`unique_name`), as
   * Entra does for an API whose manifest leaves it null or 1.
   */
  accessTokenVersion?: 1 | 2;
}

/** The OIDC scopes the OP knows; anything else must carry an API prefix. */
export const OIDC_SCOPES: ReadonlySet<string> = new Set(['openid', 'profile', 'email', 'offline_access']);

/** Splits a space-delimited scope string (tolerates undefined and extra spaces). */
export function splitScopes(scope: unknown): string[] {
  return typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
}

/** The API (`api://orders`) a prefixed scope belongs to, or undefined for OIDC/unknown scopes. */
export function apiOfScope(scope: string, apis: Readonly<Record<string, ApiDefinition>>): string | undefined {
  if (OIDC_SCOPES.has(scope)) return undefined;
  const slash = scope.lastIndexOf('/');
  if (slash <= 0) return undefined;
  const api = scope.slice(0, slash);
  return api in apis ? api : undefined;
}

/** The APIs named by the scopes, in first-mention order, without duplicates. */
export function apisInScopes(scopes: readonly string[], apis: Readonly<Record<string, ApiDefinition>>): string[] {
  const out: string[] = [];
  for (const s of scopes) {
    const api = apiOfScope(s, apis);
    if (api && !out.includes(api)) out.push(api);
  }
  return out;
}

/** Every prefixed scope of an API, `.default` included (what the consent page grants). */
export function allScopesOf(api: string, apis: Readonly<Record<string, ApiDefinition>>): string[] {
  const def = apis[api];
  return def ? [...def.scopes.map((s) => `${api}/${s}`), `${api}/.default`] : [];
}

/**
 * Expands `api://x/.default` into the scopes of that API found in `granted` (prefixed),
 * keeping explicit scopes; the result never contains `.default`.
 */
export function expandDefault(scopes: readonly string[], granted: readonly string[]): string[] {
  const out: string[] = [];
  for (const s of scopes) {
    const items = s.endsWith('/.default')
      ? granted.filter((g) => g.startsWith(s.slice(0, -'.default'.length)) && !g.endsWith('/.default'))
      : [s];
    for (const item of items) if (!out.includes(item)) out.push(item);
  }
  return out;
}

/** Entra's `client_info`: base64url of `{"uid": oid, "utid": tid}`. */
export function clientInfo(oid: string, tenantId: string): string {
  return Buffer.from(JSON.stringify({ uid: oid, utid: tenantId })).toString('base64url');
}

/** Fields Entra adds to every error body (`error_codes`, `timestamp`, `trace_id`, `correlation_id`). */
export function entraErrorFields(description: unknown): Record<string, unknown> {
  const code = typeof description === 'string' ? /^AADSTS(\d+)/.exec(description)?.[1] : undefined;
  return {
    ...(code ? { error_codes: [Number(code)] } : {}),
    timestamp: new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    trace_id: randomUUID(),
    correlation_id: randomUUID(),
  };
}

/** Escapes text for HTML element content and attribute values. */
export function html(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
