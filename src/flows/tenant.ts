import { AuthError } from '../errors.js';
import type { FlowContext } from './context.js';

/**
 * What authflow checks on an ID token beyond openid-client (signature, iss, aud, exp, nonce):
 * `iat` not in the future, then the tenant allow-list. Every grant that returns an ID token
 * (auth code, refresh, device code, password) goes through here before anything is cached.
 */
export function checkIdTokenClaims(ctx: FlowContext, idTokenClaims: Record<string, unknown>): void {
  checkIssuedAt(ctx, idTokenClaims);
  checkTenant(ctx, idTokenClaims);
}

/**
 * OIDC Core §3.1.3.7 (10) lets the client refuse tokens issued too far from now; oauth4webapi
 * refuses an `iat` over an hour old but not one in the future, which no honest OP's clock gives.
 */
function checkIssuedAt(ctx: FlowContext, idTokenClaims: Record<string, unknown>): void {
  const { iat } = idTokenClaims;
  if (typeof iat === 'number' && iat > Date.now() / 1000 + ctx.config.clockToleranceSeconds) {
    throw new AuthError('id_token_invalid', { description: 'ID token refused: it is issued in the future ("iat")' });
  }
}

/**
 * The tenant allow-list: with `allowedTenants` set (required for Entra `/common` and
 * `/organizations`, whose issuer template accepts any tenant), an ID token's `tid` must be listed.
 */
export function checkTenant(ctx: FlowContext, idTokenClaims: Record<string, unknown>): void {
  const allowed = ctx.config.allowedTenants;
  if (!allowed) return;
  const tid = idTokenClaims.tid;
  if (typeof tid !== 'string' || !allowed.has(tid.toLowerCase())) {
    throw new AuthError('tenant_not_allowed', {
      description: typeof tid === 'string'
        ? `accounts of the organization (tenant ${tid.slice(0, 64)}) cannot sign in to this app: that tenant is not in allowedTenants`
        : 'the ID token names no tenant (tid) and allowedTenants is set',
    });
  }
}
