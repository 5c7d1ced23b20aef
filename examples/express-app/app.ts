/**
 * The example web app: a home page, sign-in through the OP, a profile page with the signed-in
 * user's name and claims, a button that calls the orders API with a token from `req.getToken`
 * (the orders API calls the inventory API on the user's behalf), and sign-out.
 */
import express, { type Express } from 'express';
import type { Store } from 'express-session';
import type { ConfidentialClient, SessionIndex } from '../../src/index.js';
import { auth, authErrors, authSession, requireAuth } from '../../src/express/index.js';

export interface ExampleAppOptions {
  client: ConfidentialClient;
  /** The app's public URL, e.g. http://localhost:3000. */
  baseUrl: string;
  /** Base URL of the orders API. */
  ordersUrl: string;
  /** Session store (connect-redis with REDIS_URL); in memory when absent. */
  sessionStore?: Store;
  sessionIndex?: SessionIndex;
  sessionSecret?: string;
  /**
   * Multi-tenant sign-in (a client on `/organizations`): a second link signs in at this tenant's
   * own authority (`/login?tenant=<id>`), as a guest invited there does.
   */
  guestTenant?: { label: string; tenantId: string };
}

const ORDERS_SCOPE = 'api://orders/Orders.Read';

export function createExampleApp(options: ExampleAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(authSession({
    baseUrl: options.baseUrl,
    ...(options.sessionSecret ? { secret: options.sessionSecret } : {}),
    ...(options.sessionStore ? { store: options.sessionStore } : {}),
  }));
  app.use(auth({
    client: options.client,
    baseUrl: options.baseUrl,
    scopes: [ORDERS_SCOPE],
    idpLogout: true,
    routes: { backchannelLogout: '/backchannel-logout' },
    ...(options.sessionIndex ? { sessionIndex: options.sessionIndex } : {}),
  }));

  app.get('/', (req, res) => {
    const name = req.user?.name;
    res.type('html').send(page('authflow example', name
      ? `<p>Signed in as <strong id="user-name">${escapeHtml(String(name))}</strong>.</p>
         <p><a href="/profile">Profile</a> · <form method="post" action="/logout" style="display:inline"><button type="submit">Sign out</button></form></p>`
      : `<p>You are not signed in.</p><p><a id="sign-in" href="/login?returnTo=%2Fprofile">Sign in</a></p>${options.guestTenant
        ? `<p><a id="sign-in-guest" href="/login?returnTo=%2Fprofile&amp;tenant=${encodeURIComponent(options.guestTenant.tenantId)}">Sign in as a ${escapeHtml(options.guestTenant.label)} guest</a></p>`
        : ''}`));
  });

  app.get('/profile', requireAuth(), (req, res) => {
    const claims = Object.entries(req.user ?? {})
      .map(([name, value]) => `<tr><th>${escapeHtml(name)}</th><td>${escapeHtml(JSON.stringify(value))}</td></tr>`)
      .join('');
    res.type('html').send(page('Profile', `
      <p>Hello, <strong id="user-name">${escapeHtml(String(req.user?.name ?? req.account?.username ?? ''))}</strong>.</p>
      <form method="get" action="/call-api"><button id="call-api" type="submit">Call the orders API</button></form>
      <h2>ID token claims</h2><table id="claims">${claims}</table>
      <p><a href="/">Home</a> · <form method="post" action="/logout" style="display:inline"><button id="sign-out" type="submit">Sign out</button></form></p>`));
  });

  // `.catch(next)`: a token that needs a new sign-in goes to authErrors(), on Express 4 too.
  app.get('/call-api', requireAuth(), (req, res, next) => void (async () => {
    const token = await req.getToken([ORDERS_SCOPE]);
    const answer = await fetch(`${options.ordersUrl}/orders`, { headers: { authorization: `Bearer ${token}` } });
    const result = await answer.json() as unknown;
    res.type('html').send(page('Orders', `
      <p>The orders API answered ${answer.status}; it called the inventory API on your behalf:</p>
      <pre id="api-result">${escapeHtml(JSON.stringify(result, null, 2))}</pre>
      <p><a href="/profile">Back to the profile</a></p>`));
  })().catch(next));

  app.use(authErrors());
  return app;
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem}th{text-align:left;padding-right:1rem}pre{background:#f4f4f4;padding:1rem}</style>
</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
