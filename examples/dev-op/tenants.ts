/**
 * The dev OP's directory as Entra has it: two tenants (contoso, fabrikam), people with a home
 * identity in one tenant, and guest identities in others (alice of contoso invited into fabrikam).
 *
 * An identity is a user object in one tenant: its own `oid`, and for a guest the home account it
 * stands for (`homeOid`/`homeTid`, what `client_info` carries) and `idp` (the home tenant's v1
 * issuer, as Entra writes it in a guest's tokens). oidc-provider's accountId is the identity's oid.
 */

/** A tenant: fixed GUID (`tid`), short name and verified domain. */
export interface DevOpTenant { id: string; name: string; domain: string }

/** contoso keeps the single-tenant dev OP's GUID, so `op.tenantId` and `op.issuer` stay what they were. */
export const TENANTS = {
  contoso: { id: '7d1f0a3e-2c4b-4e8a-9f61-5a0c3b2d1e47', name: 'contoso', domain: 'contoso.onmicrosoft.com' },
  fabrikam: { id: 'f4b21c6e-8d3a-4b7f-a2e9-3c1d5e7f9a0b', name: 'fabrikam', domain: 'fabrikam.onmicrosoft.com' },
} as const satisfies Record<string, DevOpTenant>;

/** A tenant's key in {@link TENANTS}. */
export type TenantName = keyof typeof TENANTS;

/** The multi-tenant authorities (Entra's `/organizations` and `/common`). */
export const MULTI_TENANT_AUTHORITIES: ReadonlySet<string> = new Set(['organizations', 'common']);

/** A user object in one tenant. */
export interface Identity {
  /** The object id in this tenant (`oid`, `sub`, oidc-provider's accountId). */
  oid: string;
  tid: string;
  /** The home account (what `client_info` names): the same as oid/tid for a member. */
  homeOid: string;
  homeTid: string;
  /** Login name (the home UPN; a guest signs in with its home name). */
  username: string;
  name: string;
  email: string;
  /** Set for guests: the home tenant's v1 issuer, as Entra writes `idp`. */
  idp?: string;
}

const v1IssuerOf = (tid: string): string => `https://sts.windows.net/${tid}/`;

const member = (oid: string, tenant: DevOpTenant, username: string, name: string, email: string): Identity => ({
  oid, tid: tenant.id, homeOid: oid, homeTid: tenant.id, username, name, email,
});

/**
 * Every identity, by oid. alice and bob are contoso members (their login names stay `alice` and
 * `bob`); frank is a fabrikam member; alice is also a guest in fabrikam (another oid there).
 */
export const IDENTITIES: Readonly<Record<string, Identity>> = Object.fromEntries([
  member('a11ce000-0000-4000-8000-00000000a11c', TENANTS.contoso, 'alice', 'Alice Example', 'alice@example.com'),
  member('b0b00000-0000-4000-8000-000000000b0b', TENANTS.contoso, 'bob', 'Bob Example', 'bob@example.com'),
  member('f4a2c000-0000-4000-8000-0000000f4a2c', TENANTS.fabrikam, 'frank', 'Frank Fabrikam', 'frank@fabrikam.example'),
  {
    oid: '9e57a11c-0000-4000-8000-00000009e57a', tid: TENANTS.fabrikam.id,
    homeOid: 'a11ce000-0000-4000-8000-00000000a11c', homeTid: TENANTS.contoso.id,
    username: 'alice', name: 'Alice Example', email: 'alice@example.com', idp: v1IssuerOf(TENANTS.contoso.id),
  },
].map((i) => [i.oid, i]));

/** The identities of the person who signs in as `username` (home first). */
export function identitiesOf(username: string | null | undefined): Identity[] {
  const all = Object.values(IDENTITIES).filter((i) => i.username === username);
  return all.sort((a, b) => Number(b.oid === b.homeOid) - Number(a.oid === a.homeOid));
}

/** The home identity of `username`, if that person exists. */
export function homeIdentity(username: string | null | undefined): Identity | undefined {
  return identitiesOf(username).find((i) => i.oid === i.homeOid);
}

/** The same person's identity in tenant `tid` (a member's own, or the guest one), if any. */
export function identityIn(identity: Identity, tid: string): Identity | undefined {
  return Object.values(IDENTITIES).find((i) => i.homeOid === identity.homeOid && i.homeTid === identity.homeTid && i.tid === tid);
}

/** A tenant named by GUID, short name or domain (case-insensitive), as `domain_hint` or a path may name it. */
export function findTenant(value: string | null | undefined): DevOpTenant | undefined {
  const v = value?.toLowerCase();
  if (!v) return undefined;
  return Object.values(TENANTS).find((t) => t.id === v || t.name === v || t.domain === v);
}

/** Claims every token of an identity carries (`tid`, `oid`, and `idp` for a guest). */
export function identityClaims(identity: Identity): Record<string, string> {
  return { oid: identity.oid, tid: identity.tid, ...(identity.idp ? { idp: identity.idp } : {}) };
}

/**
 * The tenant a multi-tenant authority (`/organizations`, `/common`) signs a user in to:
 * the tenant `domain_hint` names (a guest choosing the tenant it was invited to), else the home
 * tenant of the user `login_hint` names; undefined when neither says (the OP then asks for the
 * username first: home realm discovery).
 */
export function tenantForSignIn(params: URLSearchParams): DevOpTenant | undefined {
  const hinted = findTenant(params.get('domain_hint'));
  if (hinted) return hinted;
  const home = homeIdentity(params.get('login_hint'));
  return home ? findTenant(home.tid) : undefined;
}

/** Entra's AADSTS50020 sentence: the user has no identity in the tenant. */
export function userNotInTenant(username: string, tenant: DevOpTenant): string {
  return `AADSTS50020: User account '${username}' from identity provider 'https://sts.windows.net/' does not exist in tenant '${tenant.name}' and cannot access the application in that tenant. The account needs to be added as an external user in the tenant first.`;
}
