/**
 * authflow/hono where Hono differs (the shared behaviour is test/adapters/): its session is
 * authflow's own (src/web/serverSession.ts), so the cookie signature, secret rotation, the
 * production rules, the default memory store and a save failing at the end of a request are pinned
 * here; and errors reach authflow only through `app.onError(authErrors())`. Dev OP, Redis, real
 * HTTP (supertest through @hono/node-server's request listener).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import request from 'supertest';
import type { Redis } from 'ioredis';
import { auth, authErrors, authSession, memorySessionStore, redisSessionStore, requireAuth, type AuthEnv } from '../../src/hono/index.js';
import { signId } from '../../src/web/signedId.js';
import { GRAPH } from '../helpers/expressApp.js';
import { buildHonoApp, listenerOf, type HonoTestApp } from '../helpers/honoApp.js';
import { clientFor, startDevOp, type DevOp } from '../helpers/op.js';
import { connectRedis, deleteKeys, uniquePrefix } from '../helpers/redis.js';

type Agent = ReturnType<typeof request.agent>;
const BASE_URL = 'http://localhost:3000';

describe('authflow/hono: where Hono differs', () => {
  let op: DevOp;
  let redis: Redis;
  let prefix: string;
  let t: HonoTestApp;

  before(async () => {
    op = await startDevOp();
    redis = await connectRedis();
    prefix = uniquePrefix('hono');
    t = buildHonoApp(op, { redis, prefix, sessionSecret: 'first-secret' });
  });
  after(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await op.close();
  });

  const cookieOf = (response: request.Response): string | undefined =>
    ([] as string[]).concat(response.headers['set-cookie'] ?? []).find((c) => c.startsWith('authflow.sid='))?.split(';')[0]!.slice('authflow.sid='.length);

  async function signIn(agent: Agent, loginPath = '/login'): Promise<request.Response> {
    const login = await agent.get(loginPath);
    assert.equal(login.status, 302, login.text);
    const callback = new URL(await op.signIn(login.headers.location!, { username: 'alice' }));
    return agent.get(`${callback.pathname}${callback.search}`);
  }

  /** A small app on authflow/hono with the given session options and an in-memory store by default. */
  function app(session: Partial<Parameters<typeof authSession>[0]> = {}): Hono<AuthEnv> {
    const a = new Hono<AuthEnv>();
    a.use(async (c, next) => {
      await next();
      c.header('x-signed-in', c.var.account ? 'yes' : 'no');
    });
    a.use(authSession({ baseUrl: BASE_URL, ...session }));
    a.use(auth({ client: t.client, baseUrl: BASE_URL }));
    a.get('/profile', requireAuth(), (c) => c.json({ username: c.var.account?.username }));
    a.get('/boom', () => {
      throw new Error('boom at secret place');
    });
    a.get('/teapot', () => {
      throw new HTTPException(418, { message: 'short and stout' });
    });
    a.get('/graph', async (c) => c.text(String((await c.var.getToken(GRAPH)).length)));
    a.get('/token', async (c) => c.text(String((await c.var.getToken(['api://orders/Orders.Read'])).length)));
    a.onError(authErrors());
    return a;
  }

  it('refuses a session cookie not signed with its secret (a forged id is a new, empty session)', async () => {
    const agent = request.agent(t.handler);
    const id = cookieOf(await signIn(agent))!.split('.')[0]!;
    assert.equal((await agent.get('/profile')).status, 200);
    for (const forged of [id, `${id}.`, `${id}.${'A'.repeat(43)}`, signId(id, ['another-secret']), `${signId(id, ['first-secret'])}x`]) {
      const page = await request(t.handler).get('/profile').set('cookie', `authflow.sid=${forged}`);
      assert.equal(page.status, 302, `refused: ${forged.slice(id.length)}`);
      assert.equal(page.headers.location, '/login?returnTo=%2Fprofile');
    }
    const genuine = await request(t.handler).get('/profile').set('cookie', `authflow.sid=${signId(id, ['first-secret'])}`);
    assert.equal(genuine.status, 200, 'the same id signed with the secret is accepted');
  });

  it('verifies with every secret and signs with the first (rotation)', async () => {
    const agent = request.agent(t.handler);
    const value = cookieOf(await signIn(agent))!;
    const rotated = buildHonoApp(op, { redis, prefix, sessionSecret: 'first-secret' });
    const rotatedApp = new Hono<AuthEnv>();
    rotatedApp.use(authSession({ baseUrl: BASE_URL, secret: ['second-secret', 'first-secret'], store: redisSessionStore({ client: redis, prefix: `${prefix}sess:` }) }));
    rotatedApp.use(auth({ client: rotated.client, baseUrl: BASE_URL }));
    rotatedApp.get('/who', (c) => c.json({ username: c.var.account?.username ?? null }));
    const who = await request(listenerOf(rotatedApp)).get('/who').set('cookie', `authflow.sid=${value}`);
    assert.deepEqual(who.body, { username: op.users.alice.username }, 'the old secret still verifies');
    const onlyNew = new Hono<AuthEnv>();
    onlyNew.use(authSession({ baseUrl: BASE_URL, secret: 'second-secret', store: redisSessionStore({ client: redis, prefix: `${prefix}sess:` }) }));
    onlyNew.use(auth({ client: rotated.client, baseUrl: BASE_URL }));
    onlyNew.get('/who', (c) => c.json({ username: c.var.account?.username ?? null }));
    assert.deepEqual((await request(listenerOf(onlyNew)).get('/who').set('cookie', `authflow.sid=${value}`)).body, { username: null }, 'a dropped secret no longer does');
  });

  it('follows the production rules of authSession(): a secret of 32+ characters, a Secure cookie off localhost', async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      assert.throws(() => authSession({ baseUrl: 'https://app.example.com' }), (e: Error & { code?: string }) => e.code === 'invalid_config' && /secret/.test(e.message));
      assert.throws(() => authSession({ baseUrl: 'https://app.example.com', secret: 'short' }), /at least 32 characters/);
    } finally {
      process.env.NODE_ENV = previous;
    }
    assert.throws(() => authSession({ baseUrl: BASE_URL, store: {} as never }), /store/);
    assert.throws(() => authSession({ baseUrl: BASE_URL, storeTimeoutMs: -1 }), /storeTimeoutMs/);
    const secure = app({ baseUrl: 'https://app.example.com', secret: 'x'.repeat(32) });
    const login = await request(listenerOf(secure)).get('/login');
    assert.equal(login.status, 302);
    assert.match(([] as string[]).concat(login.headers['set-cookie'] ?? []).join('\n'), /authflow\.sid=[^;]+;.*Secure/i);
  });

  it('keeps sessions in memory by default, sets no cookie for an anonymous page, and clears it at logout', async () => {
    const handler = listenerOf(app({ store: memorySessionStore({ maxSessions: 10 }) }));
    const anonymous = await request(handler).get('/profile').set('accept', 'application/json');
    assert.equal(anonymous.status, 401);
    assert.equal(cookieOf(anonymous), undefined, 'no session for a request that stored nothing');
    const agent = request.agent(handler);
    const signedIn = await signIn(agent);
    assert.equal(signedIn.headers['x-signed-in'], 'yes', 'middleware above auth() sees the user signed in by the callback');
    assert.equal((await agent.get('/profile')).body.username, op.users.alice.username);
    const out = await agent.post('/logout');
    assert.equal(out.status, 302);
    assert.equal(out.headers['x-signed-in'], 'no', 'and signed out by logout');
    assert.equal(cookieOf(out), '', 'the cookie is cleared');
  });

  it('answers 503 when the store fails to save at the end of the request', async () => {
    // A store whose writes fail on demand (a fault Redis cannot produce on demand).
    const data = new Map<string, Record<string, unknown>>();
    let failWrites = false;
    const store = {
      get: async (key: string) => data.get(key),
      set: async (key: string, value: Record<string, unknown>) => {
        if (failWrites) throw new Error('store down');
        data.set(key, value);
      },
      destroy: async (key: string) => void data.delete(key),
    };
    const handler = listenerOf(app({ store }));
    const agent = request.agent(handler);
    await signIn(agent);
    failWrites = true;
    const login = await agent.get('/login').set('accept', 'application/json');
    assert.equal(login.status, 503, 'the sign-in saves its flow before leaving for the OP');
    assert.equal(login.body.error, 'store_unavailable');
    // The consent needed for a scope the OP never grants is written at the end of the request: that write fails.
    const stored = structuredClone([...data.values()]);
    const graph = await agent.get('/graph');
    assert.equal(graph.status, 503, graph.text);
    assert.match(graph.text, /id="error-code">store_unavailable</);
    assert.deepEqual([...data.values()], stored, 'the store hands out its own records: a write that was never saved leaves them as they were');
    failWrites = false;
    const retried = await agent.get('/graph');
    assert.equal(retried.status, 302, 'the store back: the sign-in for the missing scope');
    assert.match(retried.headers.location!, /^\/login\?/);
  });

  it('leaves errors that are not authflow\'s to Hono (an HTTPException\'s own answer, else 500 without a stack) and makes a getToken() without a user a sign-in', async () => {
    const handler = listenerOf(app());
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void errors.push(args[0]);
    try {
      const boom = await request(handler).get('/boom');
      assert.equal(boom.status, 500);
      assert.doesNotMatch(boom.text, /boom|at .*\.(js|ts):\d+/);
      assert.equal(errors.length, 1, 'logged as Hono logs it');
    } finally {
      console.error = original;
    }
    const teapot = await request(handler).get('/teapot');
    assert.equal(teapot.status, 418);
    assert.equal(teapot.text, 'short and stout');
    const anonymous = await request(handler).get('/token?x=1');
    assert.equal(anonymous.status, 302, 'a getToken() without a user is a sign-in');
    assert.equal(anonymous.headers.location, '/login?returnTo=%2Ftoken%3Fx%3D1');
  });

  it('answers HEAD on authflow\'s GET routes as an unknown route (no sign-in started, no session), as Express and Koa do', async () => {
    const head = await request(listenerOf(app())).head('/login');
    assert.equal(head.status, 404);
    assert.equal(cookieOf(head), undefined);
  });

  it('names the mistake when requireAuth() or getToken run without auth() / authSession()', async () => {
    const noAuth = new Hono<AuthEnv>();
    noAuth.get('/profile', requireAuth(), (c) => c.text('never'));
    noAuth.onError(authErrors());
    const page = await request(listenerOf(noAuth)).get('/profile').set('accept', 'application/json');
    assert.equal(page.status, 500);
    assert.equal(page.body.error, 'invalid_config');
    const noSession = new Hono<AuthEnv>();
    noSession.use(auth({ client: clientFor(op, 'webApp'), baseUrl: BASE_URL }));
    noSession.onError(authErrors());
    const login = await request(listenerOf(noSession)).get('/login').set('accept', 'application/json');
    assert.equal(login.status, 500);
    assert.equal(login.body.error, 'invalid_config');
  });
});
