/**
 * Finding 9: cookieless `GET /login` filled the session store with 8-hour sessions. A session
 * holding only sign-ins in flight now lives as long as a flow; a completed sign-in gets the full
 * lifetime. Real Redis: connect-redis 8 + ioredis (Express, Fastify), redisSessionStore (Koa, Hono).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Redis } from 'ioredis';
import { buildExpressApp } from '../helpers/expressApp.js';
import { buildKoaApp } from '../helpers/koaApp.js';
import { buildFastifyApp } from '../helpers/fastifyApp.js';
import { buildHonoApp } from '../helpers/honoApp.js';
import { startDevOp, type DevOp } from '../helpers/op.js';
import { connectRedis, deleteKeys, uniquePrefix } from '../helpers/redis.js';

const COOKIELESS_LOGINS = 50;
const FULL_LIFETIME_S = 8 * 3600;

describe('finding 9: sessions of sign-ins in flight expire with the flow', () => {
  let op: DevOp;
  let redis: Redis;
  let prefix: string;

  before(async () => {
    op = await startDevOp();
    redis = await connectRedis();
    prefix = uniquePrefix('secweb-ttl');
  });
  after(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await op.close();
  });

  async function ttls(sessionPrefix: string): Promise<number[]> {
    const keys = await redis.keys(`${sessionPrefix}*`);
    return Promise.all(keys.map((key) => redis.ttl(key)));
  }

  const adapters = [
    // koa-session stores each session 10 s longer than its cookie ("ensure store expired after cookie").
    { name: 'express', slack: 0, build: (p: string) => buildExpressApp(op, { redis, prefix: p }).app },
    { name: 'koa', slack: 10, build: (p: string) => buildKoaApp(op, { redis, prefix: p }).app.callback() },
    { name: 'fastify', slack: 0, build: (p: string) => buildFastifyApp(op, { redis, prefix: p }).handler },
    { name: 'hono', slack: 0, build: (p: string) => buildHonoApp(op, { redis, prefix: p }).handler },
  ] as const;

  for (const adapter of adapters) {
    it(`finding 9: ${COOKIELESS_LOGINS} cookieless GET /login leave sessions no longer-lived than a flow; a sign-in gets the full lifetime (${adapter.name})`, async () => {
      const appPrefix = `${prefix}${adapter.name}:`;
      const app = adapter.build(appPrefix);
      const flowLifetime = buildExpressApp(op).client.config.flowLifetimeSeconds;
      for (let i = 0; i < COOKIELESS_LOGINS; i++) assert.equal((await request(app).get('/login')).status, 302);
      const inFlight = await ttls(`${appPrefix}sess:`);
      assert.equal(inFlight.length, COOKIELESS_LOGINS, 'one session per cookieless /login');
      const longest = Math.max(...inFlight);
      assert.ok(longest > 0 && longest <= flowLifetime + adapter.slack, `the longest TTL is ${longest} s; the flow lifetime is ${flowLifetime} s`);

      const agent = request.agent(app);
      const login = await agent.get('/login');
      const callback = new URL(await op.signIn(login.headers.location!, { username: 'alice' }));
      assert.equal((await agent.get(`${callback.pathname}${callback.search}`)).status, 302);
      const after = await ttls(`${appPrefix}sess:`);
      const signedIn = after.filter((ttl) => ttl > flowLifetime + adapter.slack);
      assert.equal(signedIn.length, 1, 'the signed-in session');
      assert.ok(signedIn[0]! >= FULL_LIFETIME_S - 60 && signedIn[0]! <= FULL_LIFETIME_S + adapter.slack, `full lifetime: ${signedIn[0]} s`);
      assert.equal((await agent.get('/profile')).status, 200, 'and it works');
    });
  }
});
