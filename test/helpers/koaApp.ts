/**
 * A small Koa app wired like the README says, for the web-layer tests: authSession with a Redis
 * session store, auth, requireAuth, routes that call ctx.getToken. Redis holds sessions, token
 * caches and the back-channel logout index. No router package: a tiny `get()` helper routes by
 * method and path.
 */
import Koa from 'koa';
import type { Context, Middleware, Next } from 'koa';
import type { Redis } from 'ioredis';
import { decodeJwt } from 'jose';
import { RedisTokenCacheStore, RedisSessionIndex, type ConfidentialClient, type ConfidentialClientOptions } from '../../src/index.js';
import { auth, authSession, redisSessionStore, requireAuth } from '../../src/koa/index.js';
import { clientFor, type DevOp } from './op.js';
import { GRAPH, type AppOptions } from './expressApp.js';

export const BASE_URL = 'http://localhost:3000';
export const ORDERS = ['api://orders/Orders.Read'];
export const INVENTORY = ['api://inventory/Inventory.Read'];

export interface KoaTestApp {
  app: Koa;
  client: ConfidentialClient;
  tokenStore: RedisTokenCacheStore;
}

/** `GET path` through `handlers` (koa-compose style); other requests go on. */
function get(path: string, ...handlers: Middleware[]): Middleware {
  return async (ctx: Context, next: Next) => {
    if (ctx.method !== 'GET' || ctx.path !== path) return next();
    const run = async (i: number): Promise<void> => {
      const handler = handlers[i];
      if (handler) await handler(ctx, () => run(i + 1));
    };
    await run(0);
  };
}

export function buildKoaApp(op: DevOp, options: AppOptions & { redis: Redis; prefix: string }): KoaTestApp {
  const { redis, prefix } = options;
  const tokenStore = new RedisTokenCacheStore({ client: redis, prefix: `${prefix}tc:` });
  // A one-second local copy (the default is 30 s), so the flushed-cache test need not wait long.
  const client = clientFor(op, 'webApp', { cacheStore: tokenStore, localCacheSeconds: 1, ...options.clientOptions });
  const baseUrl = options.baseUrl ?? BASE_URL;
  const app = new Koa();
  app.silent = true;
  // An access log of the usual Koa shape: reads who is signed in after the rest has run (logout included).
  app.use(async (ctx, next) => {
    await next();
    ctx.set('x-signed-in', ctx.state.account ? 'yes' : 'no');
  });
  app.use(authSession(app, { baseUrl, ...(options.sessionSecret ? { secret: options.sessionSecret } : {}), store: redisSessionStore({ client: redis, prefix: `${prefix}sess:` }) }));
  app.use(auth({
    client,
    baseUrl,
    scopes: ORDERS,
    routes: { backchannelLogout: '/backchannel-logout' },
    ...(options.idpLogout ? { idpLogout: true } : {}),
    sessionIndex: new RedisSessionIndex({ client: redis, prefix: `${prefix}sx:` }),
  }));
  app.use(get('/', (ctx) => {
    ctx.body = { signedIn: Boolean(ctx.state.account) };
  }));
  // What a template engine gets as locals (koa-views: Object.assign({}, ctx.state, locals)).
  app.use(get('/state-copy', (ctx) => {
    ctx.body = { username: (Object.assign({}, ctx.state) as { account?: { username?: string } }).account?.username ?? null };
  }));
  app.use(get('/profile', requireAuth(), (ctx) => {
    ctx.body = { name: ctx.state.user?.name, username: ctx.state.account?.username };
  }));
  app.use(get('/orders', requireAuth(), async (ctx) => {
    ctx.body = { aud: decodeJwt(await ctx.getToken(ORDERS)).aud };
  }));
  app.use(get('/inventory', requireAuth(), async (ctx) => {
    ctx.body = { aud: decodeJwt(await ctx.getToken(INVENTORY)).aud };
  }));
  app.use(get('/graph', requireAuth(), async (ctx) => {
    ctx.body = { aud: decodeJwt(await ctx.getToken(GRAPH)).aud };
  }));
  return { app, client, tokenStore };
}
