/**
 * A small Express app wired like the README says, for the web-layer tests: authSession, auth,
 * requireAuth, routes that call req.getToken, authErrors. Redis for sessions and token caches
 * when a client is given, in-memory stores otherwise.
 */
import express, { type Express } from 'express';
import { RedisStore } from 'connect-redis';
import type { Redis } from 'ioredis';
import { decodeJwt } from 'jose';
import { RedisTokenCacheStore, RedisSessionIndex, type ConfidentialClient, type ConfidentialClientOptions } from '../../src/index.js';
import { auth, authErrors, authSession, requireAuth } from '../../src/express/index.js';
import { clientFor, type DevOp } from './op.js';

export const BASE_URL = 'http://localhost:3000';
export const ORDERS = ['api://orders/Orders.Read'];
export const INVENTORY = ['api://inventory/Inventory.Read'];
/** A scope the dev OP never grants (it drops it at sign-in, refuses it at refresh: AADSTS65001). */
export const GRAPH = ['https://graph.microsoft.com/User.Read'];

export interface AppOptions {
  redis?: Redis;
  prefix?: string;
  baseUrl?: string;
  idpLogout?: boolean;
  /** Overrides of the web app's client options (a wrong secret, another authority, a logger). */
  clientOptions?: Partial<ConfidentialClientOptions>;
  /** The session secret (required when NODE_ENV=production). */
  sessionSecret?: string;
}

export interface TestApp {
  app: Express;
  client: ConfidentialClient;
  tokenStore: RedisTokenCacheStore | undefined;
}

export function buildExpressApp(op: DevOp, options: AppOptions = {}): TestApp {
  const { redis, prefix = 'authflow-test:' } = options;
  const tokenStore = redis ? new RedisTokenCacheStore({ client: redis, prefix: `${prefix}tc:` }) : undefined;
  // A one-second local copy (the default is 30 s), so the flushed-cache tests need not wait long.
  const client = clientFor(op, 'webApp', { localCacheSeconds: 1, ...(tokenStore ? { cacheStore: tokenStore } : {}), ...options.clientOptions });
  const baseUrl = options.baseUrl ?? BASE_URL;
  const app = express();
  app.use(authSession({ baseUrl, ...(options.sessionSecret ? { secret: options.sessionSecret } : {}), ...(redis ? { store: new RedisStore({ client: redis, prefix: `${prefix}sess:` }) } : {}) }));
  app.use(auth({
    client,
    baseUrl,
    scopes: ORDERS,
    routes: { backchannelLogout: '/backchannel-logout' },
    ...(options.idpLogout ? { idpLogout: true } : {}),
    ...(redis ? { sessionIndex: new RedisSessionIndex({ client: redis, prefix: `${prefix}sx:` }) } : {}),
  }));
  app.get('/', (req, res) => res.json({ signedIn: Boolean(req.account) }));
  app.get('/profile', requireAuth(), (req, res) => res.json({ name: req.user?.name, username: req.account?.username }));
  // Rejections go to next() by hand: Express 4 does not do it for async handlers (Express 5 does).
  app.get('/orders', requireAuth(), (req, res, next) => {
    req.getToken(ORDERS).then((token) => res.json({ aud: decodeJwt(token).aud }), next);
  });
  app.get('/inventory', requireAuth(), (req, res, next) => {
    req.getToken(INVENTORY).then((token) => res.json({ aud: decodeJwt(token).aud }), next);
  });
  app.get('/graph', requireAuth(), (req, res, next) => {
    req.getToken(GRAPH).then((token) => res.json({ aud: decodeJwt(token).aud }), next);
  });
  app.use(authErrors());
  return { app, client, tokenStore };
}
