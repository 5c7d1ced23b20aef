/**
 * Back-channel logout, one suite for every web adapter: the dev OP, told the app's real address,
 * posts a logout token when alice signs out at the OP; the app verifies it and ends her session
 * (in the Redis session store, under the id given at sign-in) and its token cache; a token naming
 * an OP session ends that one only. Forged or malformed logout tokens are refused and end nothing,
 * never with a stack trace or a reset connection.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPair, SignJWT } from 'jose';
import request from 'supertest';
import type { Redis } from 'ioredis';
import type { ConfidentialClient } from '../../src/index.js';
import { startDevOp, type DevOp } from '../helpers/op.js';
import { connectRedis, deleteKeys, uniquePrefix } from '../helpers/redis.js';
import type { WebAdapterUnderTest } from './webSuite.js';
import { postRaw } from '../helpers/postRaw.js';

export function backchannelSuite(adapter: WebAdapterUnderTest): void {
  describe(`back-channel logout: authflow/${adapter.name}`, () => {
    let server: Server;
    let port: number;
    let op: DevOp;
    let redis: Redis;
    let prefix: string;
    let t: { handler: RequestListener; client: ConfidentialClient };

    before(async () => {
      server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      ({ port } = server.address() as AddressInfo);
      op = await startDevOp({ webApp: { backchannelLogoutUri: `http://127.0.0.1:${port}/backchannel-logout` } });
      redis = await connectRedis();
      prefix = uniquePrefix(`bcl-${adapter.name}`);
      t = adapter.build(op, { redis, prefix });
      server.on('request', t.handler);
    });
    after(async () => {
      await deleteKeys(redis, prefix);
      redis.disconnect();
      await op.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    const sessionIdSet = (response: request.Response): string | undefined => {
      const value = ([] as string[]).concat(response.headers['set-cookie'] ?? []).find((c) => c.startsWith('authflow.sid='))?.split(';')[0]!.slice('authflow.sid='.length);
      return value === undefined ? undefined : adapter.sessionIdOf(value);
    };

    /** Alice signed in to the app, with the OP's browser session in `jar`; and her app session id. */
    async function signIn(jar: Map<string, string>) {
      const agent = request.agent(server);
      const login = await agent.get('/login');
      const callback = new URL(await op.signIn(login.headers.location!, { username: 'alice', jar }));
      const done = await agent.get(`${callback.pathname}${callback.search}`);
      assert.equal(done.status, 302);
      assert.equal((await agent.get('/profile')).status, 200);
      const sessionId = sessionIdSet(done);
      assert.ok(sessionId);
      assert.equal(await redis.exists(`${prefix}sess:${sessionId}`), 1);
      return { agent, sessionId };
    }


    it('ends the app session and its token cache when the user signs out at the OP', async () => {
      const jar = new Map<string, string>();
      const { agent, sessionId } = await signIn(jar);
      const cachesBefore = await redis.keys(`${prefix}tc:*`);
      const sessionsBefore = await redis.keys(`${prefix}sess:*`);
      const endSession = new URL((await t.client.discover()).endSessionEndpoint!);
      endSession.searchParams.set('client_id', op.clients.webApp.clientId);
      await op.signOut(endSession.href, { jar });

      assert.equal(await redis.exists(`${prefix}sess:${sessionId}`), 0, 'her session (the id given at sign-in) is gone from the store');
      assert.equal((await agent.get('/profile')).status, 302, 'the app session has ended');
      assert.equal((await redis.keys(`${prefix}tc:*`)).length, cachesBefore.length - 1, 'its token cache is gone');
      assert.equal((await redis.keys(`${prefix}sess:*`)).length, sessionsBefore.length - 1, 'its session is gone from the store');
    });

    // A logout token with a sid ends that OP session only (Back-Channel Logout 1.0 §2.4); src/web's
    // backchannelLogout also takes the `sub:` index key, so every session of the user ends.
    it('ends only the OP session the logout token names, not the user\'s other sessions', async () => {
      const jar = new Map<string, string>();
      const { agent } = await signIn(jar);
      const other = await signIn(new Map());
      const endSession = new URL((await t.client.discover()).endSessionEndpoint!);
      endSession.searchParams.set('client_id', op.clients.webApp.clientId);
      await op.signOut(endSession.href, { jar });
      assert.equal((await agent.get('/profile')).status, 302, 'the named session has ended');
      assert.equal(await redis.exists(`${prefix}sess:${other.sessionId}`), 1, 'alice\'s other OP session keeps its app session');
      assert.equal((await other.agent.get('/profile')).status, 200);
    });

    it('refuses a forged or malformed logout token and ends nothing', async () => {
      const { agent, sessionId } = await signIn(new Map());
      const caches = (await redis.keys(`${prefix}tc:*`)).sort();
      const { privateKey } = await generateKeyPair('RS256');
      const forged = await new SignJWT({ sub: op.users.alice.oid, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } })
        .setProtectedHeader({ alg: 'RS256', kid: 'forged' })
        .setIssuer(op.issuer).setAudience(op.clients.webApp.clientId).setIssuedAt().setJti('j1').sign(privateKey);
      const bodies: Array<Record<string, string | string[]>> = [
        { logout_token: forged }, { logout_token: 'a.b' }, {}, { logout_token: [forged, forged] }, { logout_token: 'x'.repeat(20_000) },
      ];
      for (const body of bodies) {
        const refused = await request(server).post('/backchannel-logout').type('form').send(body);
        const tooLarge = JSON.stringify(body).length > 16_384;
        assert.equal(refused.status, tooLarge ? 413 : 400, JSON.stringify(Object.keys(body)));
        assert.doesNotMatch(refused.text, /at .*\.(js|ts):\d+/, 'no stack trace');
        assert.doesNotMatch(refused.text, /AuthError|node_modules/);
        assert.equal(refused.headers['cache-control'], 'no-store');
      }
      for (const json of [false, true]) {
        const notForm = await request(server).post('/backchannel-logout').set('accept', json ? 'application/json' : 'text/html').type('json').send({ logout_token: forged });
        assert.equal(notForm.status, 400, 'a JSON body carries no logout token');
        if (json) assert.equal(notForm.body.error, 'invalid_request');
      }
      const big = await postRaw(port, '/backchannel-logout', Buffer.from(`logout_token=${'x'.repeat(2_000_000)}`));
      assert.equal(big.status, 413, 'a body far over the limit gets a 413, not a reset connection');
      assert.doesNotMatch(big.text, /at .*\.(js|ts):\d+/);

      assert.equal((await agent.get('/profile')).status, 200, 'still signed in');
      assert.equal(await redis.exists(`${prefix}sess:${sessionId}`), 1);
      assert.deepEqual((await redis.keys(`${prefix}tc:*`)).sort(), caches, 'no token cache cleared');
    });

    it('answers GET on the back-channel route as a normal request, not a logout', async () => {
      const { agent } = await signIn(new Map());
      assert.equal((await request(server).get('/backchannel-logout')).status, 404);
      assert.equal((await agent.get('/profile')).status, 200);
    });
  });
}
