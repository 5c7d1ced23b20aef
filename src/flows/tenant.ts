import { AuthError } from '../errors.js';
import type { FlowContext } from './context.js';

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
      description: typeof tid === 'string' ? `tenant ${tid.slice(0, 64)} is not in allowedTenants` : 'the ID token names no tenant (tid) and allowedTenants is set',
    });
  }
}
