/**
 * Login and consent interactions, served on the OP's HTTP server under
 * `${mountPath}/interaction/:uid` (GET shows the page, POST `/login` or `/consent` submits it).
 *
 * Consent is per scope, as in Entra: accepting grants the requested OIDC scopes and exactly the
 * API scopes asked for (`api://x/.default` grants all of that API's scopes), added to what the
 * user consented to for this client before (consents.ts). A later silent
 * refresh gets only what was consented (grants.ts refuses the rest with AADSTS65001), so
 * incremental consent is real locally. Cancelling ends the authorization with `access_denied`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Provider } from 'oidc-provider';
import { APIS, SINGLE_TENANT_APPS, USERS } from './config.js';
import { findTenant, identitiesOf, userNotInTenant, type DevOpTenant } from './tenants.js';
import type { ConsentBook } from './consents.js';
import { OIDC_SCOPES, splitScopes } from './dialect.js';
import { consentPage, loginPage } from './pages.js';

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(body);
}

/**
 * Handles a request under `${mountPath}/interaction/`; `rel` is the path after the mount.
 * `onError` records failures (they are also answered with a small error page).
 */
export async function handleInteraction(
  provider: Provider, tenant: DevOpTenant, mountPath: string, rel: string, req: IncomingMessage, res: ServerResponse,
  onError: (event: string, err: unknown) => void,
  consents: ConsentBook,
  onConsent?: (grantId: string, params: Record<string, unknown>) => void,
): Promise<void> {
  const match = /^\/interaction\/([\w-]+)(?:\/(login|consent))?$/.exec(rel);
  if (!match) return send(res, 404, 'not found');
  const [, uid, action] = match;
  try {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) return send(res, 400, 'interaction mismatch');
    const { prompt, params } = details;
    const clientId = String(params.client_id);
    const base = `${mountPath}/interaction/${uid}`;

    if (req.method === 'GET' && !action) {
      if (prompt.name === 'login') return send(res, 200, loginPage(`${base}/login`, clientId, params.login_hint));
      const scopes = splitScopes(params.scope);
      return send(res, 200, consentPage(`${base}/consent`, clientId, scopes.length ? scopes : ['openid']));
    }
    if (req.method !== 'POST') return send(res, 405, 'method not allowed');
    const form = await readForm(req);

    if (action === 'login') {
      const username = form.get('username') ?? '';
      const user = Object.values(USERS).find((u) => u.username === username);
      if (!user || user.password !== form.get('password')) {
        return send(res, 200, loginPage(`${base}/login`, clientId, username || undefined,
          'AADSTS50126: Error validating credentials due to invalid username or password.'));
      }
      // The user's object in this tenant (home or guest); none, or a single-tenant app of another
      // tenant: Entra's AADSTS50020, returned to the app as access_denied.
      const identity = identitiesOf(username).find((i) => i.tid === tenant.id);
      const appTenant = SINGLE_TENANT_APPS[clientId];
      if (!identity || (appTenant !== undefined && appTenant !== tenant.id)) {
        const description = userNotInTenant(username, (identity && appTenant !== undefined ? findTenant(appTenant) : undefined) ?? tenant);
        return await provider.interactionFinished(req, res, { error: 'access_denied', error_description: description }, { mergeWithLastSubmission: false });
      }
      return await provider.interactionFinished(req, res, { login: { accountId: identity.oid } }, { mergeWithLastSubmission: false });
    }

    if (action === 'consent') {
      if (form.get('decision') !== 'allow') {
        return await provider.interactionFinished(req, res, {
          error: 'access_denied',
          error_description: 'AADSTS65004: User declined to consent to access the app.',
        }, { mergeWithLastSubmission: false });
      }
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId });
      const requested = splitScopes(params.scope);
      const oidc = requested.filter((s) => OIDC_SCOPES.has(s));
      if (oidc.length) grant.addOIDCScope(oidc.join(' '));
      if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
      // This consent adds to what the user granted this client before (in any session).
      const missing = Object.values(prompt.details.missingResourceScopes ?? {}) as string[][];
      consents.record(grant.accountId, clientId, [...requested, ...missing.flat()]);
      for (const [api, scopes] of consents.byApi(grant.accountId, clientId)) grant.addResourceScope(api, scopes.join(' '));
      const grantId: string = await grant.save();
      onConsent?.(grantId, params);
      return await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    }
    return send(res, 404, 'not found');
  } catch (err) {
    onError('interaction.error', err);
    if (!res.headersSent) send(res, 400, `<p id="error">interaction failed: ${String((err as Error).message).replace(/[<>&]/g, '')}</p>`);
  }
}
