/**
 * (8) Two apps of one framework (FRAMEWORK = koa, fastify or hono) in one child process, sessions in
 * Redis, as (1) does for Express (bench/workers/appServer.ts):
 *
 * - authflow: the adapter's `authSession` and `auth`, `GET /data` = `requireAuth()` + getToken
 *   (api://orders/Orders.Read) answering a small JSON; token caches in Redis; `GET /no-token` the
 *   same without getToken; `GET /copy-session` hands authflow's session data to the floor.
 * - floor: the framework's own bare session route: Koa with koa-session (signed cookie, a Redis
 *   store), Fastify with @fastify/session + connect-redis (disableTouch), Hono (no session middleware
 *   of its own) with the least a server-side session does: an HMAC-signed id cookie checked, one
 *   Redis GET, JSON.parse. `GET /data` reads authflow's session data and answers the same JSON.
 *
 * Prints one JSON line `{ authflowPort, floorPort }`; exits when stdin ends.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import koaSession from 'koa-session';
import Fastify from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { RedisStore } from 'connect-redis';
import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { getRequestListener } from '@hono/node-server';
import { RedisTokenCacheStore } from '../../src/index.js';
import * as koa from '../../src/koa/index.js';
import * as fst from '../../src/fastify/index.js';
import * as hono from '../../src/hono/index.js';
import { BASE_URL, ORDERS, SESSION_SECRET, clientFromEnv, connectRedis, env, stdinLines } from '../common.js';

const COOKIE = { httpOnly: true, sameSite: 'lax', secure: false, path: '/', maxAge: 8 * 3600 * 1000 } as const;
const framework = env('FRAMEWORK');
const prefix = env('APP_PREFIX');
const redis = await connectRedis(`bench-${framework}`);
const client = clientFromEnv({ cacheStore: new RedisTokenCacheStore({ client: redis, prefix: `${prefix}tc:` }) });
type Data = { user?: { partition: string } } | undefined;
/** authflow's session data, copied from a signed-in session into the floor's. */
let copied: unknown;
const answer = (data: Data): { ok: boolean; n: number } => ({ ok: true, n: (data?.user?.partition.length ?? 0) * 41 });
/** A promise-style session store on the same Redis (what koa-session's floor uses). */
const floorStore = {
  get: async (key: string) => JSON.parse((await redis.get(`${prefix}fsess:${key}`)) ?? 'null') as Record<string, unknown> | undefined,
  set: async (key: string, value: unknown, maxAge: unknown) => void await redis.set(`${prefix}fsess:${key}`, JSON.stringify(value), 'PX', typeof maxAge === 'number' ? maxAge : 86_400_000),
  destroy: async (key: string) => void await redis.del(`${prefix}fsess:${key}`),
};

function koaApps(): [RequestListener, RequestListener] {
  const a = new Koa();
  a.silent = true;
  a.use(koa.authSession(a, { baseUrl: BASE_URL, secret: SESSION_SECRET, store: koa.redisSessionStore({ client: redis, prefix: `${prefix}sess:` }) }));
  a.use(koa.auth({ client, baseUrl: BASE_URL, scopes: ORDERS }));
  const guard = koa.requireAuth();
  a.use((ctx, next) => guard(ctx, async () => {
    if (ctx.path === '/data') ctx.body = { ok: true, n: (await ctx.getToken(ORDERS)).length };
    else if (ctx.path === '/no-token') ctx.body = { ok: true, n: (ctx.state.account?.homeAccountId.length ?? 0) * 20 };
    else if (ctx.path === '/copy-session') ctx.body = { ok: Boolean(copied = structuredClone((ctx.session as unknown as Record<string, unknown>).authflow)) };
    else await next();
  }));
  const f = new Koa();
  f.keys = [SESSION_SECRET];
  f.use(koaSession({ key: 'authflow.sid', ...COOKIE, store: floorStore, rolling: false, renew: false }, f));
  f.use((ctx) => {
    const session = ctx.session as unknown as Record<string, unknown>;
    if (ctx.path === '/init') session.authflow = copied;
    ctx.body = answer(session.authflow as Data);
  });
  return [a.callback(), f.callback()];
}

async function fastifyApps(): Promise<[RequestListener, RequestListener]> {
  const a = Fastify();
  a.register(fst.authSession, { baseUrl: BASE_URL, secret: SESSION_SECRET, store: new RedisStore({ client: redis, prefix: `${prefix}sess:`, disableTouch: true }) });
  a.register(fst.auth, { client, baseUrl: BASE_URL, scopes: ORDERS });
  a.register(async (routes) => {
    routes.get('/data', { preHandler: fst.requireAuth() }, async (request) => ({ ok: true, n: (await request.getToken(ORDERS)).length }));
    routes.get('/no-token', { preHandler: fst.requireAuth() }, async (request) => ({ ok: true, n: (request.account?.homeAccountId.length ?? 0) * 20 }));
    routes.get('/copy-session', { preHandler: fst.requireAuth() }, async (request) => ({ ok: Boolean(copied = structuredClone((request.session as unknown as Record<string, unknown>).authflow)) }));
  });
  const f = Fastify();
  f.register(fastifyCookie);
  f.register(fastifySession, { cookieName: 'authflow.sid', secret: SESSION_SECRET, saveUninitialized: false, rolling: false, store: new RedisStore({ client: redis, prefix: `${prefix}fsess:`, disableTouch: true }), cookie: COOKIE });
  f.get('/init', async (request) => {
    (request.session as unknown as Record<string, unknown>).authflow = copied;
    return answer(copied as Data);
  });
  f.get('/data', async (request) => answer((request.session as unknown as Record<string, unknown>).authflow as Data));
  await Promise.all([a.ready(), f.ready()]);
  return [(req, res) => a.routing(req, res), (req, res) => f.routing(req, res)];
}

function honoApps(): [RequestListener, RequestListener] {
  const a = new Hono<hono.AuthEnv>();
  a.use(hono.authSession({ baseUrl: BASE_URL, secret: SESSION_SECRET, store: hono.redisSessionStore({ client: redis, prefix: `${prefix}sess:` }) }));
  a.use(hono.auth({ client, baseUrl: BASE_URL, scopes: ORDERS }));
  a.get('/data', hono.requireAuth(), async (c) => c.json({ ok: true, n: (await c.var.getToken(ORDERS)).length }));
  a.get('/no-token', hono.requireAuth(), (c) => c.json({ ok: true, n: (c.var.account?.homeAccountId.length ?? 0) * 20 }));
  // The Hono adapter keeps its session to itself: the stored record is read back from Redis.
  a.get('/copy-session', hono.requireAuth(), async (c) => {
    const id = getCookie(c, 'authflow.sid')!.split('.')[0]!;
    copied = (JSON.parse((await redis.get(`${prefix}sess:${id}`))!) as Record<string, unknown>).authflow;
    return c.json({ ok: Boolean(copied) });
  });
  a.onError(hono.authErrors());
  const sign = (id: string): string => createHmac('sha256', SESSION_SECRET).update(id).digest('base64url');
  const f = new Hono();
  f.get('/init', async (c) => {
    const id = randomBytes(24).toString('base64url');
    await redis.set(`${prefix}fsess:${id}`, JSON.stringify({ authflow: copied }), 'PX', COOKIE.maxAge);
    setCookie(c, 'authflow.sid', `${id}.${sign(id)}`, { ...COOKIE, sameSite: 'Lax', maxAge: COOKIE.maxAge / 1000 });
    return c.json(answer(copied as Data));
  });
  f.get('/data', async (c) => {
    const [id = '', mac = ''] = (getCookie(c, 'authflow.sid') ?? '').split('.');
    const expected = Buffer.from(sign(id));
    if (expected.length !== Buffer.byteLength(mac) || !timingSafeEqual(expected, Buffer.from(mac))) return c.json({ ok: false }, 401);
    const stored = JSON.parse((await redis.get(`${prefix}fsess:${id}`)) ?? 'null') as { authflow?: Data } | null;
    return c.json(answer(stored?.authflow));
  });
  const listener = (app: { fetch: (request: Request) => Response | Promise<Response> }): RequestListener => getRequestListener(app.fetch) as unknown as RequestListener;
  return [listener(a), listener(f)];
}

const [authflowListener, floorListener] = framework === 'koa' ? koaApps() : framework === 'fastify' ? await fastifyApps() : framework === 'hono' ? honoApps() : (() => { throw new Error(`FRAMEWORK=${framework}`); })();
const listen = (listener: RequestListener): Promise<Server> => new Promise((resolve) => {
  const server = createServer(listener).listen(0, '127.0.0.1', () => resolve(server));
});
const [a, f] = await Promise.all([listen(authflowListener), listen(floorListener)]);
process.stdout.write(`${JSON.stringify({ authflowPort: (a.address() as AddressInfo).port, floorPort: (f.address() as AddressInfo).port })}\n`);

for await (const _ of stdinLines()) { /* runs until the parent closes stdin */ }
a.closeAllConnections();
f.closeAllConnections();
a.close();
f.close();
redis.disconnect();
