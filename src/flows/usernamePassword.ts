import * as oidc from 'openid-client';
import { AuthError } from '../errors.js';
import { normalizeScopes, withOidcScopes } from '../cache/scopes.js';
import type { TokenResult } from '../results.js';
import type { FlowContext } from './context.js';
import { storeUserTokens } from './userTokens.js';
import { withClaims } from './claims.js';

/** What {@link PublicClient.acquireTokenByUsernamePassword} needs (ROPC: not recommended). */
export interface UsernamePasswordRequest {
  /** The user's sign-in name. */
  username: string;
  /** The user's password: sent to the OP once, never stored or logged. */
  password: string;
  /** Scopes to ask for; `openid profile offline_access` are added. */
  scopes: readonly string[];
  /** A claims request / challenge (JSON string). */
  claims?: string;
}

/**
 * The resource owner password credentials grant (ROPC, RFC 6749 §4.3). **Not recommended**: the
 * app sees the user's password, and it cannot do MFA, Conditional Access, federation or consent
 * (Entra answers `invalid_grant` / `interaction_required` for such users). The OAuth 2.0 Security
 * BCP forbids it (RFC 9700 §2.4). Use the device-code or interactive flow; keep this for legacy
 * test automation with accounts that have none of the above.
 *
 * A wrong username or password ends in `invalid_grant`. The ID token is verified and the tokens
 * are cached like an interactive sign-in's. The password is never logged or kept.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.3
 */
export async function acquireTokenByUsernamePassword(ctx: FlowContext, request: UsernamePasswordRequest, partition: string): Promise<TokenResult> {
  if (request === null || typeof request !== 'object') throw new AuthError('invalid_argument', { description: 'the request must be an object' });
  const { username, password } = request;
  if (typeof username !== 'string' || username === '') throw new AuthError('invalid_argument', { description: 'username must be a non-empty string' });
  if (typeof password !== 'string' || password === '') throw new AuthError('invalid_argument', { description: 'password must be a non-empty string' });
  const scopes = withOidcScopes(normalizeScopes(request.scopes));
  const parameters: Record<string, string> = { username, password, scope: scopes.join(' ') };
  if (ctx.config.authority.type === 'entra') parameters.client_info = '1';
  withClaims(ctx.config, parameters, request.claims);
  const response = await ctx.op.call((configuration) => oidc.genericGrantRequest(configuration, 'password', parameters));
  return storeUserTokens(ctx, response, scopes, partition);
}
