/**
 * authflow/koa where Koa differs from Express (the shared behaviour is test/adapters/webSuite.ts):
 * middleware above auth() reads who is signed in after the response (logout included), an
 * unreadable stored session starts afresh, errors that are not authflow's are left to Koa, and
 * the app's own keys are left alone. Dev OP, Redis, real HTTP (supertest).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Koa from 'koa';
import request from 'supertest';
import type { Redis } from 'ioredis';
import { auth, authSession } from '../../src/koa/index.js';
import { buildKoaApp, type KoaTestApp } from '../helpers/koaApp.js';
import { startDevOp, type DevOp } from '../helpers/op.js';
import { connectRedis, deleteKeys, uniquePrefix } from '../helpers/redis.js';

type Agent = ReturnType<typeof request.agent>;

describe('authflow/koa: where Koa differs', () => {
  let op: DevOp;
  let redis: Redis;
  let prefix: string;
  let t: KoaTestApp;
  let handler: ReturnType<KoaTestApp['app']['callback']>;

  before(async () => {
    op = await startDevOp();
    redis = await connectRedis();
    prefix = uniquePrefix('koa');
    t = buildKoaApp(op, { redis, prefix });
    handler = t.app.callback();
  });
  after(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await op.close();
  });

  /** The session id (koa-session's external key) a response sets, if any. */
  const sessionIdSet = (response: request.Response): string | undefined =>
    ([] as string[]).concat(response.headers['set-cookie'] ?? []).find((c) => c.startsWith('authflow.sid='))?.split(';')[0]!.slice('authflow.sid='.length).split('.')[0];

  async function signIn(agent: Agent, loginPath = '/login'): Promise<request.Response> {
    const login = await agent.get(loginPath);
    assert.equal(login.status, 302, login.text);
    const callback = new URL(await op.signIn(login.headers.location!, { username: 'alice' }));
    return agent.get(`${callback.pathname}${callback.search}`);
  }

  it('middleware above auth() can still ask who is signed in, after logout too', async () => {
    const agent = request.agent(handler);
    const signedIn = await signIn(agent);
    assert.equal(signedIn.headers['x-signed-in'], 'yes');
    const out = await agent.post('/logout');
    assert.equal(out.status, 302);
    assert.equal(out.headers['x-signed-in'], 'no');
  });

  it('ctx.state.account and .user are plain values a template engine copies, before and after sign-in', async () => {
    const agent = request.agent(handler);
    assert.deepEqual((await agent.get('/state-copy')).body, { username: null });
    await signIn(agent);
    assert.deepEqual((await agent.get('/state-copy')).body, { username: 'alice' });
  });

  it('starts a fresh session when the stored one is unreadable, not a 5xx', async () => {
    const agent = request.agent(handler);
    const sessionId = sessionIdSet(await signIn(agent))!;
    await redis.set(`${prefix}sess:${sessionId}`, '{not json', 'PX', 60_000);
    const page = await agent.get('/profile');
    assert.equal(page.status, 302);
    assert.equal(page.headers.location, '/login?returnTo=%2Fprofile');
    const done = await signIn(agent, page.headers.location!);
    assert.equal(done.headers.location, 'http://localhost:3000/profile');
    assert.equal((await agent.get('/profile')).status, 200);
  });

  it('leaves errors that are not authflow\'s to Koa (500, no stack trace) and makes a getToken() without a user a sign-in', async () => {
    const app = new Koa();
    app.silent = true;
    app.use(authSession(app, { baseUrl: 'http://localhost:3000' }));
    app.use(auth({ client: t.client, baseUrl: 'http://localhost:3000' }));
    app.use(async (ctx) => {
      if (ctx.path === '/boom') throw new Error('boom at secret place');
      await ctx.getToken(['api://orders/Orders.Read']);
    });
    const boom = await request(app.callback()).get('/boom');
    assert.equal(boom.status, 500);
    assert.doesNotMatch(boom.text, /boom|at .*\.(js|ts):\d+/);
    const anonymous = await request(app.callback()).get('/anything?x=1');
    assert.equal(anonymous.status, 302, 'a getToken() without a user is a sign-in');
    assert.equal(anonymous.headers.location, '/login?returnTo=%2Fanything%3Fx%3D1');
  });

  it('leaves the app\'s own keys alone (authflow signs its cookie with its own secret)', () => {
    const keep = new Koa();
    keep.keys = ['app-key'];
    authSession(keep, { baseUrl: 'http://localhost:3000', secret: 'session-secret' });
    assert.deepEqual(keep.keys, ['app-key']);
    const bare = new Koa();
    authSession(bare, { baseUrl: 'http://localhost:3000' });
    assert.equal(bare.keys, undefined);
  });
});
