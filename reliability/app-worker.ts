/**
 * One app instance for the reliability suite, in its own process: the README's Express wiring
 * with Redis sessions (connect-redis) and the Redis token cache, listening on a free port.
 * Routes: /token (requireAuth + req.getToken; answers a hash and the expiry of the token, never
 * the token), /health (memory and queued Redis commands). Prints `listening <port>` when ready.
 * Config from the environment: ISSUER, CLIENT_ID, CLIENT_SECRET, REDIS_URL, PREFIX, RENEWAL_OFFSET;
 * instead of REDIS_URL, REDIS_CLUSTER (`host:port,...` seeds) or REDIS_SENTINELS (`host:port,...`)
 * with REDIS_SENTINEL_NAME, connected with the README's Cluster / Sentinel settings.
 */
import { createHash } from 'node:crypto';
import express from 'express';
import { RedisStore } from 'connect-redis';
import { Cluster, Redis } from 'ioredis';
import { decodeJwt } from 'jose';
import { ConfidentialClient, RedisTokenCacheStore } from '../src/index.js';
import { auth, authErrors, authSession, requireAuth } from '../src/express/index.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`app-worker needs ${name}`);
  return value;
};
const prefix = env('PREFIX');
const baseUrl = 'http://localhost:3000';

const seeds = (list: string) => list.split(',').map((address) => ({ host: address.split(':')[0]!, port: Number(address.split(':')[1]) }));
// Bounded everywhere: no offline queue, one retry, quick reconnects (the README's advice).
const redis: Redis | Cluster = process.env.REDIS_CLUSTER
  ? new Cluster(seeds(process.env.REDIS_CLUSTER), {
    scaleReads: 'master',
    enableOfflineQueue: false,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    clusterRetryStrategy: (times) => Math.min(100 * times, 1000),
    slotsRefreshTimeout: 1000,
    redisOptions: { maxRetriesPerRequest: 1, connectTimeout: 1000 },
  })
  : process.env.REDIS_SENTINELS
    ? new Redis({
      sentinels: seeds(process.env.REDIS_SENTINELS),
      name: env('REDIS_SENTINEL_NAME'),
      // failoverDetector: true ends a client for good when +switch-master arrives while it is
      // reconnecting (seen in the Sentinel soak: one instance in four, status 'end'); without it the
      // client reconnects through the sentinels, and READONLY (a demoted master) reconnects too.
      failoverDetector: false,
      reconnectOnError: (err) => err.message.startsWith('READONLY'),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 1000,
      retryStrategy: () => 200,
      sentinelRetryStrategy: () => 200,
    })
    : new Redis(env('REDIS_URL'), { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 1000, retryStrategy: () => 200 });
redis.on('error', () => {});
redis.on('node error', () => {});
await new Promise<void>((resolve) => redis.once('ready', () => resolve()));

const client = new ConfidentialClient({
  clientId: env('CLIENT_ID'),
  authority: env('ISSUER'),
  credential: { secret: env('CLIENT_SECRET') },
  allowInsecureRequests: true,
  authorityType: 'entra',
  timeoutMs: Number(process.env.OP_TIMEOUT_MS ?? 2000),
  tokenRenewalOffsetSeconds: Number(process.env.RENEWAL_OFFSET ?? 300),
  cacheStore: new RedisTokenCacheStore({ client: redis, prefix: `${prefix}tc:`, commandTimeoutMs: 1000 }),
});

const app = express();
app.use(authSession({ baseUrl, secret: 'reliability-suite-session-secret-0123456789', store: new RedisStore({ client: redis, prefix: `${prefix}sess:` }) }));
app.use(auth({ client, baseUrl, scopes: ['api://orders/Orders.Read'] }));
app.get('/token', requireAuth(), async (req, res) => {
  const token = await req.getToken(['api://orders/Orders.Read']);
  res.json({ hash: createHash('sha256').update(token).digest('base64url').slice(0, 16), exp: decodeJwt(token).exp });
});
app.get('/health', (_req, res) => {
  res.json({ rss: process.memoryUsage().rss, queued: (redis as unknown as { offlineQueue?: { length: number } }).offlineQueue?.length ?? 0, redis: redis.status, port: (redis as unknown as { stream?: { remotePort?: number } }).stream?.remotePort ?? 0 });
});
app.use(authErrors());

const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  redis.disconnect();
  process.exit(0);
});
