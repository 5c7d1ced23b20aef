/**
 * The example web app (examples/express-app/app.ts) on Hono 4: the same pages, sign-in, a call to
 * the orders API with a token from `c.var.getToken`, and sign-out, with authflow/hono's own session
 * (in memory, or in Redis through `redisSessionStore`). `npm start -- --app=hono` runs it.
 */
import { Hono } from 'hono';
import type { ConfidentialClient, SessionIndex } from '../../src/index.js';
import { auth, authErrors, authSession, requireAuth, type AuthEnv, type HonoSessionStore } from '../../src/hono/index.js';
import { homePage, ordersPage, profilePage } from '../pages.js';
import { callOrders } from '../apis/callOrders.js';
import { exampleAuthOptions } from '../exampleAuth.js';

export interface HonoExampleAppOptions {
  client: ConfidentialClient;
  /** The app's public URL, e.g. http://localhost:3000. */
  baseUrl: string;
  /** Base URL of the orders API. */
  ordersUrl: string;
  /** Session store (`redisSessionStore` with REDIS_URL); in memory when absent. */
  sessionStore?: HonoSessionStore;
  sessionIndex?: SessionIndex;
  sessionSecret?: string;
}

export function createHonoExampleApp(options: HonoExampleAppOptions): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  app.use(authSession({
    baseUrl: options.baseUrl,
    ...(options.sessionSecret ? { secret: options.sessionSecret } : {}),
    ...(options.sessionStore ? { store: options.sessionStore } : {}),
  }));
  app.use(auth(exampleAuthOptions(options)));

  app.get('/', (c) => c.html(homePage(c.var.user?.name)));
  app.get('/profile', requireAuth(), (c) => c.html(profilePage(String(c.var.user?.name ?? c.var.account?.username ?? ''), c.var.user)));
  // A token that needs a new sign-in is thrown to app.onError: authErrors() makes it a sign-in.
  app.get('/call-api', requireAuth(), async (c) => {
    const { status, result } = await callOrders(options.ordersUrl, c.var.getToken);
    return c.html(ordersPage(status, result));
  });
  app.onError(authErrors());
  return app;
}
