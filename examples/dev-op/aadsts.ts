/**
 * The AADSTS errors apps actually meet, answered with Entra's body: `error`, `error_description`
 * starting with the AADSTS code, `error_codes`, `timestamp`, `trace_id`, `correlation_id`, and
 * `suberror` / `claims` where Entra sends them.
 *
 * Real triggers where the dev OP can produce the condition: a wrong client secret (7000215), an
 * unknown client id (700016), an unknown tenant in the path (90002), a refresh token past its
 * lifetime (700082, with `startDevOp({ refreshTokenTtl })`), a refresh after `op.revoke(user)`
 * (50173, cae.ts) and a refresh asking for never-consented scopes (65001, grants.ts). Fault
 * injection for the rest (`op.faults.set({ aadsts: { code } })`): MFA (50076, 50079), sign-in
 * frequency (70043), a user not in the tenant (50020), and any of the above on demand.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/reference-error-codes
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import { entraErrorFields } from './dialect.js';

/** The AADSTS codes the dev OP can answer. */
export type AadstsCode = 50076 | 50079 | 65001 | 700082 | 70043 | 50173 | 50020 | 7000215 | 700016 | 90002;

/** An injected AADSTS answer at the token endpoint (see {@link DevOpFaults}). */
export interface AadstsFault {
  code: AadstsCode;
  /** Only requests of this grant type (e.g. `refresh_token`); default every grant. */
  grantType?: string;
  /** The claims challenge (JSON) sent with 50076/50079; default Entra's `capolids` shape. */
  claims?: string;
}

/** What the description's placeholders are filled with. */
export interface AadstsContext {
  clientId: string;
  tenantId: string;
  /** The user's username, for 50020. */
  username?: string;
  /** The API the request was for, for 50076/50079. */
  resource?: string;
  /** When the grant was issued (epoch seconds), for 700082/70043/50173. */
  issuedAt?: number;
  /** The user's TokensValidFrom (epoch seconds), for 50173. */
  validFrom?: number;
}

/** Entra's answer for one code: HTTP status and body fields. */
interface AadstsEntry {
  status: number;
  error: string;
  suberror?: string;
  /** Carries a claims challenge (Conditional Access). */
  claims?: boolean;
  text(c: AadstsContext): string;
}

const iso = (seconds: number | undefined): string => new Date((seconds ?? Math.floor(Date.now() / 1000)) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

/** Entra's texts (shortened where they only add links), per code. */
export const AADSTS: Readonly<Record<AadstsCode, AadstsEntry>> = {
  50076: {
    status: 400, error: 'interaction_required', suberror: 'basic_action', claims: true,
    text: (c) => `Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '${c.resource ?? c.clientId}'.`,
  },
  50079: {
    status: 400, error: 'interaction_required', suberror: 'additional_action', claims: true,
    text: (c) => `Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access '${c.resource ?? c.clientId}'.`,
  },
  65001: {
    status: 400, error: 'invalid_grant', suberror: 'consent_required',
    text: (c) => `The user or administrator has not consented to use the application with ID '${c.clientId}'. Send an interactive authorization request for this user and resource.`,
  },
  700082: {
    status: 400, error: 'invalid_grant',
    text: (c) => `The refresh token has expired due to inactivity. The token was issued on ${iso(c.issuedAt)} and was inactive for the maximum allowed time.`,
  },
  70043: {
    status: 400, error: 'invalid_grant',
    text: (c) => `The refresh token has expired or is invalid due to sign-in frequency checks by conditional access. The token was issued on ${iso(c.issuedAt)} and the maximum allowed lifetime for this request is 3600.`,
  },
  50173: {
    status: 400, error: 'invalid_grant',
    text: (c) => `The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '${iso(c.issuedAt)}' and the TokensValidFrom date (before which tokens are not valid) for this user is '${iso(c.validFrom)}'.`,
  },
  50020: {
    status: 400, error: 'invalid_grant',
    text: (c) => `User account '${c.username ?? 'unknown'}' from identity provider 'live.com' does not exist in tenant '${c.tenantId}' and cannot access the application '${c.clientId}' in that tenant. The account needs to be added as an external user in the tenant first. Sign out and sign in again with a different Azure Active Directory user account.`,
  },
  7000215: {
    status: 401, error: 'invalid_client',
    text: (c) => `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${c.clientId}'.`,
  },
  700016: {
    status: 400, error: 'unauthorized_client',
    text: (c) => `Application with identifier '${c.clientId}' was not found in the directory '${c.tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
  },
  90002: {
    status: 400, error: 'invalid_request',
    text: (c) => `Tenant '${c.tenantId}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  },
};

/** The claims challenge Entra sends with an MFA answer: the Conditional Access policy ids to satisfy. */
export const MFA_CLAIMS_CHALLENGE = '{"access_token":{"capolids":{"essential":true,"values":["c0a1b2c3-0000-4000-8000-00000000ca01"]}}}';

/** Entra's error body for `code` (and its HTTP status). */
export function aadstsAnswer(code: AadstsCode, c: AadstsContext, claims?: string): { status: number; body: Record<string, unknown> } {
  const entry = AADSTS[code];
  const description = `AADSTS${code}: ${entry.text(c)}`;
  const fields = entraErrorFields(description);
  return {
    status: entry.status,
    body: {
      error: entry.error,
      // Entra ends the description with the ids and time, on lines of their own.
      error_description: `${description}\r\nTrace ID: ${String(fields['trace_id'])}\r\nCorrelation ID: ${String(fields['correlation_id'])}\r\nTimestamp: ${String(fields['timestamp'])}`,
      ...(entry.suberror ? { suberror: entry.suberror } : {}),
      ...(entry.claims ? { claims: claims ?? MFA_CLAIMS_CHALLENGE } : {}),
      ...fields,
    },
  };
}

/** Answers a token request on `ctx` with `code` (and reports it as a grant error, as the provider does). */
export function answerAadsts(provider: Provider, ctx: KoaContextWithOIDC, code: AadstsCode, c: AadstsContext, claims?: string): void {
  const { status, body } = aadstsAnswer(code, c, claims);
  ctx.status = status;
  ctx.body = body;
  const description = String(body['error_description']);
  provider.emit('grant.error', ctx, Object.assign(new Error(description), { error: body['error'], error_description: description }));
}

/** True when an injected fault applies to this token request. */
export function faultApplies(fault: AadstsFault | undefined, grantType: unknown): fault is AadstsFault {
  return fault !== undefined && (fault.grantType === undefined || fault.grantType === grantType);
}

/**
 * Remembers why oidc-provider refused a client (its `error_detail`, which it does not send), so
 * the answer can be reshaped into Entra's: 700016 for an unknown client, 7000215 for a wrong secret.
 */
export function rememberClientAuthFailures(provider: Provider): void {
  provider.on('grant.error', (ctx: KoaContextWithOIDC, err: { error?: string; error_detail?: string }) => {
    if (err?.error === 'invalid_client' && typeof err.error_detail === 'string') clientAuthDetails.set(ctx, err.error_detail);
  });
}

/** oidc-provider's hidden `error_detail` of a refused client, per request. */
const clientAuthDetails = new WeakMap<KoaContextWithOIDC, string>();

/** Reshapes oidc-provider's `invalid_client` answer into Entra's (700016 / 7000215); true when it did. */
export function entraClientAuthError(ctx: KoaContextWithOIDC, body: Record<string, unknown>, tenantId: string): boolean {
  if (body['error'] !== 'invalid_client' || String(body['error_description'] ?? '').startsWith('AADSTS')) return false;
  const detail = clientAuthDetails.get(ctx);
  const clientId = clientIdOf(ctx);
  const code: AadstsCode | undefined = detail === 'client not found' ? 700016 : detail === 'invalid secret provided' ? 7000215 : undefined;
  if (!code || !clientId) return false;
  const answer = aadstsAnswer(code, { clientId, tenantId });
  ctx.status = answer.status;
  for (const key of Object.keys(body)) delete body[key];
  Object.assign(body, answer.body);
  return true;
}

/** The client id a token request named (body, else HTTP Basic); never the secret. */
function clientIdOf(ctx: KoaContextWithOIDC): string | undefined {
  const fromBody = ctx.oidc?.body?.['client_id'];
  if (typeof fromBody === 'string' && fromBody) return fromBody.slice(0, 200);
  const basic = /^Basic +([A-Za-z0-9+/=]+)$/i.exec(ctx.get('authorization'));
  if (!basic) return undefined;
  const [id] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
  return id ? decodeURIComponent(id).slice(0, 200) : undefined;
}

/**
 * A request for a tenant the OP does not have (`/<tenant>/v2.0/...`, `/<tenant>/oauth2/...`):
 * Entra's AADSTS90002 — `invalid_tenant` for the discovery document, `invalid_request` elsewhere.
 * Returns false for paths that name no tenant (the caller answers 404).
 */
export function answerUnknownTenant(req: IncomingMessage, res: ServerResponse, pathname: string): boolean {
  const match = /^\/([^/]{1,100})\/(v2\.0|oauth2|discovery)(\/|$)/.exec(pathname);
  if (!match) return false;
  const tenant = decodeURIComponent(match[1]!).replace(/[^\w.-]/g, '?');
  const { body } = aadstsAnswer(90002, { clientId: '', tenantId: tenant });
  if (pathname.includes('/.well-known/')) body['error'] = 'invalid_tenant';
  res.writeHead(400, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
  void req;
  return true;
}
