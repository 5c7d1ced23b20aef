/**
 * The whole example, in one process: the dev OP, the inventory and orders APIs, and the web app.
 * In-memory stores by default; with a Redis URL, sessions (connect-redis, or authflow/hono's redisSessionStore) and token caches
 * (RedisTokenCacheStore) live in Redis. Used by `npm start` and by the browser test.
 */
import { randomBytes } from 'node:crypto';
import type { RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RedisStore } from 'connect-redis';
import { Redis } from 'ioredis';
import { getRequestListener } from '@hono/node-server';
import { ConfidentialClient, RedisSessionIndex, RedisTokenCacheStore, type TokenCacheStore } from '../src/index.js';
import { startDevOp, type DevOp } from './dev-op/index.js';
import { createExampleApp } from './express-app/app.js';
import { createInventoryApi } from './apis/inventory.js';
import { createOrdersApi } from './apis/orders.js';
import { createFastifyOrdersApi } from './apis/orders-fastify.js';
import { createHonoExampleApp } from './hono-app/app.js';
import { redisSessionStore } from '../src/hono/index.js';
import { createReportsApi } from './apis/reports.js';

/** The stack's four listeners, as named in {@link StackOptions.ports}. */
export type StackService = 'op' | 'app' | 'orders' | 'inventory' | 'reports';

/** The frameworks the example web app comes in. */
export const APP_FRAMEWORKS = ['express', 'hono'] as const;
/** The frameworks the example orders API comes in. */
export const ORDERS_FRAMEWORKS = ['express', 'fastify'] as const;

/** A listener could not bind its port (taken, or privileged): which service, which port, why. */
export class PortUnavailableError extends Error {
  constructor(readonly service: StackService, readonly port: number, readonly reason: 'in use' | 'not permitted') {
    super(`port ${port} (${service}) is ${reason}`);
    this.name = 'PortUnavailableError';
  }
}

/** Redis at `url` did not answer (refused, unknown host, timeout). */
export class RedisUnreachableError extends Error {
  readonly host: string;
  constructor(url: string, cause: Error) {
    super(`cannot reach Redis at ${new URL(url).host}: ${cause.message}`, { cause });
    this.name = 'RedisUnreachableError';
    this.host = new URL(url).host;
  }
}

export interface StackOptions {
  host?: string;
  /** 0 picks free ports. */
  ports?: { op?: number; app?: number; orders?: number; inventory?: number; reports?: number };
  /**
   * Multi-tenant Entra: every client on the dev OP's `/organizations` authority with contoso and
   * fabrikam allowed, the home page offers "Sign in as a fabrikam guest", and the orders API
   * also calls the reports API (v1 tokens). Default false: contoso's authority, as before.
   */
  multiTenant?: boolean;
  redisUrl?: string;
  sessionSecret?: string;
  /** The dev OP's client secret (see `startDevOp({ clientSecret })`); default: its fixed development secrets. */
  opClientSecret?: string;
  /**
   * The token cache's AES-256-GCM key in Redis (32 bytes, base64: `openssl rand -base64 32`).
   * Default: a random key for this run (cached tokens do not outlive a restart; users sign in again).
   */
  cacheKey?: string;
  /** The web app's framework (default express). */
  appFramework?: (typeof APP_FRAMEWORKS)[number];
  /** The orders API's framework (default express). */
  ordersFramework?: (typeof ORDERS_FRAMEWORKS)[number];
}

export interface Stack {
  op: DevOp;
  appUrl: string;
  ordersUrl: string;
  inventoryUrl: string;
  /** The reports API (multi-tenant stack only). */
  reportsUrl?: string;
  close(): Promise<void>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  // What started so far, closed in reverse order by close() or when a later step fails.
  const closers: Array<() => Promise<void> | void> = [];
  const close = async (): Promise<void> => { for (const c of closers.splice(0).reverse()) await c(); };
  try {
    return await assemble(options, closers, close);
  } catch (err) {
    await close();
    throw err;
  }
}

async function assemble(options: StackOptions, closers: Array<() => Promise<void> | void>, close: () => Promise<void>): Promise<Stack> {
  const host = options.host ?? '127.0.0.1';
  const ports = { op: 0, app: 0, orders: 0, inventory: 0, reports: 0, ...options.ports };
  const redis = options.redisUrl ? await connectRedis(options.redisUrl) : undefined;
  if (redis) closers.push(() => redis.disconnect());
  // The web app's port must be known before the OP registers its redirect URI.
  const appServer = await listen('app', undefined, host, ports.app, closers);
  const appUrl = `http://localhost:${(appServer.address() as AddressInfo).port}`;
  const op = await namingThePort('op', ports.op, () => startDevOp({
    port: ports.op,
    host,
    ...(options.opClientSecret ? { clientSecret: options.opClientSecret } : {}),
    webApp: {
      redirectUris: [`${appUrl}/callback`],
      postLogoutRedirectUris: [`${appUrl}/`],
      backchannelLogoutUri: `http://127.0.0.1:${(appServer.address() as AddressInfo).port}/backchannel-logout`,
    },
  }));
  closers.push(() => op.close());
  // Tokens in Redis are always encrypted, as in production (RedisTokenCacheStore refuses clear text there).
  const encryptionKeys = [{ id: 'example', key: options.cacheKey ?? randomBytes(32).toString('base64') }];
  const cacheStore = (prefix: string): TokenCacheStore | undefined => (redis ? new RedisTokenCacheStore({ client: redis, prefix, encryptionKeys }) : undefined);
  const tenants = options.multiTenant ? { authority: op.authority('organizations'), allowedTenants: [op.tenants.contoso.id, op.tenants.fabrikam.id] } : { authority: op.issuer };
  const clientOf = (name: 'webApp' | 'orders' | 'inventory' | 'reports'): ConfidentialClient => new ConfidentialClient({
    clientId: op.clients[name].clientId,
    ...tenants,
    credential: { secret: op.clients[name].clientSecret! },
    allowInsecureRequests: true,
    authorityType: 'entra',
    clientCapabilities: ['CP1'], // CAE: long-lived tokens, revocable with a claims challenge
    ...(cacheStore(`authflow:${name}:`) ? { cacheStore: cacheStore(`authflow:${name}:`)! } : {}),
  });

  const inventoryServer = await listen('inventory', createInventoryApi(clientOf('inventory')), host, ports.inventory, closers);
  const inventoryUrl = `http://127.0.0.1:${(inventoryServer.address() as AddressInfo).port}`;
  const reportsServer = options.multiTenant ? await listen('reports', createReportsApi(clientOf('reports')), host, ports.reports, closers) : undefined;
  const reportsUrl = reportsServer ? `http://127.0.0.1:${(reportsServer.address() as AddressInfo).port}` : undefined;
  const ordersServer = await listen('orders', await ordersListener(options.ordersFramework, {
    client: clientOf('orders'), inventoryUrl, ...(reportsUrl ? { reportsUrl } : {}),
    // The orders API learns of revocations from the OP (in-process here), as Entra's resource providers do.
    tokensValidFrom: (claims) => op.tokensValidFrom(String(claims.oid)),
  }), host, ports.orders, closers);
  const ordersUrl = `http://127.0.0.1:${(ordersServer.address() as AddressInfo).port}`;
  const appOptions = {
    client: clientOf('webApp'),
    baseUrl: appUrl,
    ordersUrl,
    ...(options.multiTenant ? { guestTenant: { label: 'fabrikam', tenantId: op.tenants.fabrikam.id } } : {}),
    ...(options.sessionSecret ? { sessionSecret: options.sessionSecret } : {}),
    ...(redis ? { sessionIndex: new RedisSessionIndex({ client: redis }) } : {}),
  };
  const app: RequestListener = options.appFramework === 'hono'
    ? getRequestListener(createHonoExampleApp({ ...appOptions, ...(redis ? { sessionStore: redisSessionStore({ client: redis, prefix: 'authflow:sess:' }) } : {}) }).fetch) as unknown as RequestListener
    : createExampleApp({ ...appOptions, ...(redis ? { sessionStore: new RedisStore({ client: redis, prefix: 'authflow:sess:' }) } : {}) });
  appServer.on('request', app);

  return { op, appUrl, ordersUrl, inventoryUrl, ...(reportsUrl ? { reportsUrl } : {}), close };
}

/** The orders API in its framework, as a Node request listener (Fastify's once its plugins are loaded). */
async function ordersListener(framework: StackOptions['ordersFramework'], options: Parameters<typeof createOrdersApi>[0]): Promise<RequestListener> {
  if (framework !== 'fastify') return createOrdersApi(options);
  const api = createFastifyOrdersApi(options);
  await api.ready();
  return (req, res) => api.routing(req, res);
}

/** A Redis client once ready; an unreachable Redis is a {@link RedisUnreachableError}, and no client is left retrying. */
async function connectRedis(url: string): Promise<Redis> {
  // Bounded: no offline queue (fail at once while Redis is away), one retry per command.
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 });
  try {
    await new Promise<void>((resolve, reject) => redis.once('ready', resolve).once('error', reject));
    return redis;
  } catch (err) {
    redis.disconnect();
    throw new RedisUnreachableError(url, err as Error);
  }
}

/** An HTTP server listening on `port` (closed by `closers`), or a {@link PortUnavailableError}. */
async function listen(service: StackService, app: RequestListener | undefined, host: string, port: number, closers: Array<() => Promise<void> | void>): Promise<Server> {
  const { createServer } = await import('node:http');
  const server = app ? createServer(app) : createServer();
  await namingThePort(service, port, () => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  }));
  closers.push(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return server;
}

/** Turns a failed bind (EADDRINUSE, EACCES) into a {@link PortUnavailableError} naming the service. */
async function namingThePort<T>(service: StackService, port: number, bind: () => Promise<T>): Promise<T> {
  try {
    return await bind();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.syscall === 'listen' && e.code === 'EADDRINUSE') throw new PortUnavailableError(service, port, 'in use');
    if (e.syscall === 'listen' && e.code === 'EACCES') throw new PortUnavailableError(service, port, 'not permitted');
    throw err;
  }
}
