/**
 * A small Fastify app wired like the README says, for the web-layer tests: authSession with a
 * Redis session store (connect-redis), auth, requireAuth, routes that call request.getToken.
 * Redis holds sessions, token caches and the back-channel logout index.
 */
import type { RequestListener } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { RedisStore } from 'connect-redis';
import type { Redis } from 'ioredis';
import { decodeJwt } from 'jose';
import { RedisTokenCacheStore, RedisSessionIndex, type ConfidentialClient } from '../../src/index.js';
import { auth, authSession, requireAuth } from '../../src/fastify/index.js';
import { clientFor, type DevOp } from './op.js';
import { BASE_URL, GRAPH, INVENTORY, ORDERS, type AppOptions } from './expressApp.js';

export interface FastifyTestApp {
  app: FastifyInstance;
  /** The app as a Node request listener (for supertest), answering once the plugins are loaded. */
  handler: RequestListener;
  client: ConfidentialClient;
  tokenStore: RedisTokenCacheStore;
}

/** A Fastify app as a Node request listener: requests wait for `ready()`, then go to Fastify's router. */
export function listenerOf(app: FastifyInstance): RequestListener {
  const ready = app.ready();
  // A plugin that failed to load answers every request with its error (a test fails, none hangs).
  return (req, res) => void ready.then(() => app.routing(req, res), (err: unknown) => res.writeHead(500).end(String(err)));
}

export function buildFastifyApp(op: DevOp, options: AppOptions & { redis: Redis; prefix: string }): FastifyTestApp {
  const { redis, prefix } = options;
  const tokenStore = new RedisTokenCacheStore({ client: redis, prefix: `${prefix}tc:` });
  // A one-second local copy (the default is 30 s), so the flushed-cache test need not wait long.
  const client = clientFor(op, 'webApp', { cacheStore: tokenStore, localCacheSeconds: 1, ...options.clientOptions });
  const baseUrl = options.baseUrl ?? BASE_URL;
  const app = Fastify();
  app.register(authSession, { baseUrl, ...(options.sessionSecret ? { secret: options.sessionSecret } : {}), store: new RedisStore({ client: redis, prefix: `${prefix}sess:` }) });
  app.register(auth, {
    client,
    baseUrl,
    scopes: ORDERS,
    routes: { backchannelLogout: '/backchannel-logout' },
    ...(options.idpLogout ? { idpLogout: true } : {}),
    sessionIndex: new RedisSessionIndex({ client: redis, prefix: `${prefix}sx:` }),
  });
  app.register(async (routes) => {
    routes.get('/', async (request) => ({ signedIn: Boolean(request.account) }));
    routes.get('/profile', { preHandler: requireAuth() }, async (request) => ({ name: request.user?.name, username: request.account?.username }));
    routes.get('/orders', { preHandler: requireAuth() }, async (request) => ({ aud: decodeJwt(await request.getToken(ORDERS)).aud }));
    routes.get('/inventory', { preHandler: requireAuth() }, async (request) => ({ aud: decodeJwt(await request.getToken(INVENTORY)).aud }));
    routes.get('/graph', { preHandler: requireAuth() }, async (request) => ({ aud: decodeJwt(await request.getToken(GRAPH)).aud }));
  });
  return { app, handler: listenerOf(app), client, tokenStore };
}
