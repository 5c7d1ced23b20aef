/**
 * The whole example, in one process: the dev OP, the inventory and orders APIs, and the web app.
 * In-memory stores by default; with a Redis URL, sessions (connect-redis) and token caches
 * (RedisTokenCacheStore) live in Redis. Used by `npm start` and by the browser test.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RedisStore } from 'connect-redis';
import { Redis } from 'ioredis';
import type { Express } from 'express';
import { ConfidentialClient, RedisSessionIndex, RedisTokenCacheStore, type TokenCacheStore } from '../src/index.js';
import { startDevOp, type DevOp } from './dev-op/index.js';
import { createExampleApp } from './express-app/app.js';
import { createInventoryApi } from './apis/inventory.js';
import { createOrdersApi } from './apis/orders.js';

export interface StackOptions {
  host?: string;
  /** 0 picks free ports. */
  ports?: { op?: number; app?: number; orders?: number; inventory?: number };
  redisUrl?: string;
  sessionSecret?: string;
}

export interface Stack {
  op: DevOp;
  appUrl: string;
  ordersUrl: string;
  inventoryUrl: string;
  close(): Promise<void>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const host = options.host ?? '127.0.0.1';
  const ports = { op: 0, app: 0, orders: 0, inventory: 0, ...options.ports };
  // Bounded: no offline queue (fail at once while Redis is away), one retry per command.
  const redis = options.redisUrl ? new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 }) : undefined;
  if (redis) await new Promise<void>((resolve, reject) => redis.once('ready', resolve).once('error', reject));
  // The web app's port must be known before the OP registers its redirect URI.
  const appServer = await listen(undefined, host, ports.app);
  const appUrl = `http://localhost:${(appServer.address() as AddressInfo).port}`;
  const op = await startDevOp({
    port: ports.op,
    host,
    webApp: {
      redirectUris: [`${appUrl}/callback`],
      postLogoutRedirectUris: [`${appUrl}/`],
      backchannelLogoutUri: `http://127.0.0.1:${(appServer.address() as AddressInfo).port}/backchannel-logout`,
    },
  });
  const cacheStore = (prefix: string): TokenCacheStore | undefined => (redis ? new RedisTokenCacheStore({ client: redis, prefix }) : undefined);
  const clientOf = (name: 'webApp' | 'orders' | 'inventory'): ConfidentialClient => new ConfidentialClient({
    clientId: op.clients[name].clientId,
    authority: op.issuer,
    credential: { secret: op.clients[name].clientSecret! },
    allowInsecureRequests: true,
    authorityType: 'entra',
    ...(cacheStore(`authflow:${name}:`) ? { cacheStore: cacheStore(`authflow:${name}:`)! } : {}),
  });

  const inventoryServer = await listen(createInventoryApi(clientOf('inventory')), host, ports.inventory);
  const inventoryUrl = `http://127.0.0.1:${(inventoryServer.address() as AddressInfo).port}`;
  const ordersServer = await listen(createOrdersApi({ client: clientOf('orders'), inventoryUrl }), host, ports.orders);
  const ordersUrl = `http://127.0.0.1:${(ordersServer.address() as AddressInfo).port}`;
  const app = createExampleApp({
    client: clientOf('webApp'),
    baseUrl: appUrl,
    ordersUrl,
    ...(options.sessionSecret ? { sessionSecret: options.sessionSecret } : {}),
    ...(redis ? { sessionStore: new RedisStore({ client: redis, prefix: 'authflow:sess:' }), sessionIndex: new RedisSessionIndex({ client: redis }) } : {}),
  });
  appServer.on('request', app);

  return {
    op,
    appUrl,
    ordersUrl,
    inventoryUrl,
    async close() {
      for (const server of [appServer, ordersServer, inventoryServer]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      await op.close();
      redis?.disconnect();
    },
  };
}

async function listen(app: Express | undefined, host: string, port: number): Promise<Server> {
  const { createServer } = await import('node:http');
  const server = app ? createServer(app) : createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return server;
}
