/**
 * The example web app: a home page, sign-in through the OP, a profile page with the signed-in
 * user's name and claims, a button that calls the orders API with a token from `req.getToken`
 * (the orders API calls the inventory API on the user's behalf), and sign-out.
 */
import express, { type Express } from 'express';
import type { Store } from 'express-session';
import type { ConfidentialClient, SessionIndex } from '../../src/index.js';
import { auth, authErrors, authSession, requireAuth } from '../../src/express/index.js';
import { homePage, ordersPage, profilePage } from '../pages.js';
import { callOrders } from '../apis/callOrders.js';
import { exampleAuthOptions } from '../exampleAuth.js';

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

export function createExampleApp(options: ExampleAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(authSession({
    baseUrl: options.baseUrl,
    ...(options.sessionSecret ? { secret: options.sessionSecret } : {}),
    ...(options.sessionStore ? { store: options.sessionStore } : {}),
  }));
  app.use(auth(exampleAuthOptions(options)));

  app.get('/', (req, res) => {
    res.type('html').send(homePage(req.user?.name, options.guestTenant));
  });

  app.get('/profile', requireAuth(), (req, res) => {
    res.type('html').send(profilePage(String(req.user?.name ?? req.account?.username ?? ''), req.user));
  });

  // `.catch(next)`: a token that needs a new sign-in goes to authErrors(), on Express 4 too.
  app.get('/call-api', requireAuth(), (req, res, next) => void (async () => {
    const { status, result } = await callOrders(options.ordersUrl, (scopes, getOptions) => req.getToken(scopes, getOptions));
    res.type('html').send(ordersPage(status, result));
  })().catch(next));

  app.use(authErrors());
  return app;
}
