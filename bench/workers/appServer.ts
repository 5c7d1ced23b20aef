/**
 * (1) and (3): two Express 5 apps in one child process, each with its own ioredis connection (so
 * that Redis commands can be told apart by client address):
 *
 * - authflow: `authSession` over connect-redis, `auth()`, `GET /data` = `requireAuth()` +
 *   `await req.getToken(['api://orders/Orders.Read'])` answering a small JSON; token caches in
 *   Redis (RedisTokenCacheStore).
 * - floor: express-session + connect-redis with the same session settings, `GET /data` reading
 *   authflow's session data (copied from a signed-in authflow session) and answering the same JSON.
 *
 * connect-redis runs with `disableTouch: true` in both (express-session would otherwise EXPIRE the
 * session on every unmodified request). Prints one JSON line `{ authflowPort, floorPort,
 * authflowAddr, floorAddr }`; exits when stdin ends.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { RedisTokenCacheStore } from '../../src/index.js';
import { auth, authErrors, authSession, requireAuth } from '../../src/express/index.js';
import { BASE_URL, ORDERS, SESSION_SECRET, clientFromEnv, connectRedis, env, stdinLines } from '../common.js';

// (10): the same apps with the OpenTelemetry SDK registered (in-memory exporter, always-on sampler).
if (process.env.OTEL_SDK === 'memory') (await import('../otelSdk.js')).registerSdk();

const prefix = env('APP_PREFIX');
const redisA = await connectRedis('bench-app-authflow');
const redisF = await connectRedis('bench-app-floor');

const client = clientFromEnv({ cacheStore: new RedisTokenCacheStore({ client: redisA, prefix: `${prefix}tc:` }) });

/** authflow's session data, copied from a signed-in session into the floor's. */
let copied: unknown;

const authflowApp = express();
authflowApp.disable('x-powered-by');
authflowApp.use(authSession({ baseUrl: BASE_URL, secret: SESSION_SECRET, store: new RedisStore({ client: redisA, prefix: `${prefix}sess:`, disableTouch: true }) }));
authflowApp.use(auth({ client, baseUrl: BASE_URL, scopes: ORDERS }));
authflowApp.get('/data', requireAuth(), async (req, res) => {
  const token = await req.getToken(ORDERS);
  res.json({ ok: true, n: token.length });
});
// Diagnostic: the same route without req.getToken (authflow's session and adapter cost only).
authflowApp.get('/no-token', requireAuth(), (req, res) => {
  res.json({ ok: true, n: (req.account?.homeAccountId.length ?? 0) * 20 });
});
authflowApp.get('/copy-session', requireAuth(), (req, res) => {
  copied = structuredClone((req.session as unknown as Record<string, unknown>).authflow);
  res.json({ ok: true });
});
authflowApp.use(authErrors());

const floorApp = express();
floorApp.disable('x-powered-by');
floorApp.use(session({
  name: 'authflow.sid',
  secret: SESSION_SECRET,
  store: new RedisStore({ client: redisF, prefix: `${prefix}fsess:`, disableTouch: true }),
  resave: false,
  saveUninitialized: false,
  rolling: false,
  cookie: { httpOnly: true, sameSite: 'lax', secure: false, path: '/', maxAge: 8 * 3600 * 1000 },
}));
floorApp.get('/init', (req, res) => {
  if (!copied) return void res.status(409).json({ ok: false });
  (req.session as unknown as Record<string, unknown>).authflow = copied;
  res.json({ ok: true });
});
floorApp.get('/data', (req, res) => {
  const data = (req.session as unknown as Record<string, { user?: { partition: string } } | undefined>).authflow;
  if (!data?.user) return void res.status(401).json({ ok: false });
  res.json({ ok: true, n: data.user.partition.length * 41 });
});

const listen = (app: express.Express): Promise<Server> => new Promise((resolve) => {
  const server = app.listen(0, '127.0.0.1', () => resolve(server));
});
const [a, f] = await Promise.all([listen(authflowApp), listen(floorApp)]);
const addrOf = async (redis: typeof redisA): Promise<string> => /addr=(\S+)/.exec(String(await redis.call('CLIENT', 'INFO')))?.[1] ?? '';
process.stdout.write(`${JSON.stringify({
  authflowPort: (a.address() as AddressInfo).port,
  floorPort: (f.address() as AddressInfo).port,
  authflowAddr: await addrOf(redisA),
  floorAddr: await addrOf(redisF),
})}\n`);

for await (const _ of stdinLines()) { /* runs until the parent closes stdin */ }
a.closeAllConnections();
f.closeAllConnections();
a.close();
f.close();
redisA.disconnect();
redisF.disconnect();
