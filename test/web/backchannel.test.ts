/**
 * Back-channel logout through authflow/express: the dev OP, told the app's real address, posts a
 * logout token when alice signs out at the OP; the app verifies it and ends her session and its
 * token cache. Forged or malformed logout tokens are refused and end nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPair, SignJWT } from 'jose';
import request from 'supertest';
import type { Redis } from 'ioredis';
import { buildExpressApp, type TestApp } from '../helpers/expressApp.js';
import { startDevOp, type DevOp } from '../helpers/op.js';
import { connectRedis, deleteKeys, uniquePrefix } from '../helpers/redis.js';

describe('back-channel logout (authflow/express)', () => {
  let server: Server;
  let op: DevOp;
  let redis: Redis;
  let prefix: string;
  let t: TestApp;

  before(async () => {
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    op = await startDevOp({ webApp: { backchannelLogoutUri: `http://127.0.0.1:${port}/backchannel-logout` } });
    redis = await connectRedis();
    prefix = uniquePrefix('bcl');
    t = buildExpressApp(op, { redis, prefix });
    server.on('request', t.app);
  });
  after(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await op.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** Alice signed in to the app, with the OP's browser session in `jar`. */
  async function signIn(jar: Map<string, string>) {
    const agent = request.agent(server);
    const login = await agent.get('/login');
    const callback = new URL(await op.signIn(login.headers.location!, { username: 'alice', jar }));
    assert.equal((await agent.get(`${callback.pathname}${callback.search}`)).status, 302);
    assert.equal((await agent.get('/profile')).status, 200);
    return agent;
  }

  it('ends the app session and its token cache when the user signs out at the OP', async () => {
    const jar = new Map<string, string>();
    const agent = await signIn(jar);
    const cachesBefore = await redis.keys(`${prefix}tc:*`);
    const sessionsBefore = await redis.keys(`${prefix}sess:*`);
    const endSession = new URL((await t.client.discover()).endSessionEndpoint!);
    endSession.searchParams.set('client_id', op.clients.webApp.clientId);
    await op.signOut(endSession.href, { jar });

    assert.equal((await agent.get('/profile')).status, 302, 'the app session has ended');
    assert.equal((await redis.keys(`${prefix}tc:*`)).length, cachesBefore.length - 1, 'its token cache is gone');
    assert.equal((await redis.keys(`${prefix}sess:*`)).length, sessionsBefore.length - 1, 'its session is gone from the store');
  });

  it('refuses a forged or malformed logout token and ends nothing', async () => {
    const agent = await signIn(new Map());
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ sub: op.users.alice.oid, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } })
      .setProtectedHeader({ alg: 'RS256', kid: 'forged' })
      .setIssuer(op.issuer).setAudience(op.clients.webApp.clientId).setIssuedAt().setJti('j1').sign(privateKey);
    for (const body of [{ logout_token: forged }, { logout_token: 'a.b' }, {}, { logout_token: 'x'.repeat(20_000) }]) {
      const refused = await request(server).post('/backchannel-logout').type('form').send(body);
      const tooLarge = JSON.stringify(body).length > 16_384;
      assert.equal(refused.status, tooLarge ? 413 : 400, JSON.stringify(Object.keys(body)));
      assert.doesNotMatch(refused.text, /at .*\.(js|ts):\d+/, 'no stack trace');
      assert.equal(refused.headers['cache-control'], 'no-store');
    }
    assert.equal((await agent.get('/profile')).status, 200, 'still signed in');
  });
});
