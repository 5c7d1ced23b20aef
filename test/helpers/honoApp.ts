/**
 * A small Hono app wired like the README says, for the web-layer tests: authSession with a Redis
 * session store (redisSessionStore), auth, requireAuth, routes that call c.var.getToken, authErrors
 * as the app's onError. Redis holds sessions, token caches and the back-channel logout index.
 */
import type { RequestListener } from 'node:http';
import { Hono } from 'hono';
import { getRequestListener } from '@hono/node-server';
import type { Redis } from 'ioredis';
import { decodeJwt } from 'jose';
import { RedisTokenCacheStore, RedisSessionIndex, type ConfidentialClient } from '../../src/index.js';
import { auth, authErrors, authSession, redisSessionStore, requireAuth, type AuthEnv } from '../../src/hono/index.js';
import { clientFor, type DevOp } from './op.js';
import { BASE_URL, GRAPH, INVENTORY, ORDERS, type AppOptions } from './expressApp.js';

export interface HonoTestApp {
  app: Hono<AuthEnv>;
  /** The app as a Node request listener (for supertest), through @hono/node-server. */
  handler: RequestListener;
  client: ConfidentialClient;
  tokenStore: RedisTokenCacheStore;
}

/** A Hono app as a Node request listener, as `serve()` of @hono/node-server runs it. */
export const listenerOf = (app: Hono<AuthEnv>): RequestListener => getRequestListener(app.fetch) as unknown as RequestListener;

export function buildHonoApp(op: DevOp, options: AppOptions & { redis: Redis; prefix: string }): HonoTestApp {
  const { redis, prefix } = options;
  const tokenStore = new RedisTokenCacheStore({ client: redis, prefix: `${prefix}tc:` });
  // A one-second local copy (the default is 30 s), so the flushed-cache test need not wait long.
  const client = clientFor(op, 'webApp', { cacheStore: tokenStore, localCacheSeconds: 1, ...options.clientOptions });
  const baseUrl = options.baseUrl ?? BASE_URL;
  const app = new Hono<AuthEnv>();
  app.use(authSession({ baseUrl, ...(options.sessionSecret ? { secret: options.sessionSecret } : {}), store: redisSessionStore({ client: redis, prefix: `${prefix}sess:` }) }));
  app.use(auth({
    client,
    baseUrl,
    scopes: ORDERS,
    routes: { backchannelLogout: '/backchannel-logout' },
    ...(options.idpLogout ? { idpLogout: true } : {}),
    sessionIndex: new RedisSessionIndex({ client: redis, prefix: `${prefix}sx:` }),
  }));
  app.get('/', (c) => c.json({ signedIn: Boolean(c.var.account) }));
  app.get('/profile', requireAuth(), (c) => c.json({ name: c.var.user?.name, username: c.var.account?.username }));
  app.get('/orders', requireAuth(), async (c) => c.json({ aud: decodeJwt(await c.var.getToken(ORDERS)).aud }));
  app.get('/inventory', requireAuth(), async (c) => c.json({ aud: decodeJwt(await c.var.getToken(INVENTORY)).aud }));
  app.get('/graph', requireAuth(), async (c) => c.json({ aud: decodeJwt(await c.var.getToken(GRAPH)).aud }));
  app.onError(authErrors());
  return { app, handler: listenerOf(app), client, tokenStore };
}
