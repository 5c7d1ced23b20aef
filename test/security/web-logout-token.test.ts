/**
 * Finding 5: back-channel logout tokens were replayable and ageless. Tokens are signed by a small
 * OP of our own (test/bearer/keyServer.ts: discovery and JWKS for a key the test holds) so each
 * one can differ from a valid token in one claim; the last test replays a genuine logout token
 * that the dev OP sent. Every refusal is a 400 `invalid_request`, on the memory and the Redis index.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import type { Redis } from 'ioredis';
import { ConfidentialClient, MemorySessionIndex, RedisSessionIndex, type SessionIndex } from '../../src/index.js';
import { auth, authSession } from '../../src/express/index.js';
import { startKeyServer, type KeyServer } from '../bearer/keyServer.js';
import { buildExpressApp } from '../helpers/expressApp.js';
import { startDevOp, type DevOp } from '../helpers/op.js';
import { connectRedis, deleteKeys, uniquePrefix } from '../helpers/redis.js';

const EVENT = { 'http://schemas.openid.net/event/backchannel-logout': {} };
const CLIENT_ID = 'secweb-app';
const now = (): number => Math.floor(Date.now() / 1000);

describe('finding 5: back-channel logout tokens are fresh and used once', () => {
  let keys: KeyServer;
  let redis: Redis;
  let prefix: string;

  before(async () => {
    keys = await startKeyServer();
    redis = await connectRedis();
    prefix = uniquePrefix('secweb-lt');
  });
  after(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await keys.close();
  });

  /** An app whose OP is the key server, with back-channel logout on and this index. */
  function appWith(sessionIndex: SessionIndex): express.Express {
    const client = new ConfidentialClient({ clientId: CLIENT_ID, authority: keys.issuer, credential: { secret: 'not-used-here' }, allowInsecureRequests: true, authorityType: 'oidc' });
    const app = express();
    app.use(authSession({ baseUrl: 'http://localhost:3000' }));
    app.use(auth({ client, baseUrl: 'http://localhost:3000', routes: { backchannelLogout: '/backchannel-logout' }, sessionIndex }));
    return app;
  }
  const mint = (claims: Record<string, unknown>): Promise<string> =>
    keys.mint({ iss: keys.issuer, aud: CLIENT_ID, jti: randomUUID(), sid: `sid-${randomUUID()}`, events: EVENT, ...claims });
  const post = (app: express.Express, token: string) =>
    request(app).post('/backchannel-logout').set('accept', 'application/json').type('form').send({ logout_token: token });
  const assertRefused = (response: request.Response, why: string): void => {
    assert.equal(response.status, 400, `${why}: ${response.text}`);
    assert.equal(response.body.error, 'invalid_request', why);
  };

  const indexes: Array<[string, () => SessionIndex]> = [
    ['memory', () => new MemorySessionIndex()],
    ['redis', () => new RedisSessionIndex({ client: redis, prefix: `${prefix}sx:` })],
  ];
  for (const [name, makeIndex] of indexes) {
    it(`finding 5: a replayed logout token (same jti) is refused (${name} index)`, async () => {
      const app = appWith(makeIndex());
      const token = await mint({ iat: now(), exp: now() + 120 });
      assert.equal((await post(app, token)).status, 200, 'the first delivery is accepted');
      assertRefused(await post(app, token), 'the replay');
      // The same jti in a freshly signed token is a replay too.
      const { jti } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string };
      assertRefused(await post(app, await mint({ iat: now(), jti })), 'the same jti re-signed');
      if (name === 'redis') {
        const ttl = await redis.ttl(`${prefix}sx:seen:${keys.issuer}|${jti}`);
        assert.ok(ttl > 0 && ttl <= 181 + 1, `the jti is remembered in Redis for the token's life (ttl ${ttl})`);
      }
    });

    it(`finding 5: a logout token without exp and an iat a year old is refused (${name} index)`, async () => {
      const app = appWith(makeIndex());
      assert.equal((await post(app, await mint({ iat: now() - 30 }))).status, 200, 'a fresh token without exp is accepted');
      assertRefused(await post(app, await mint({ iat: now() - 365 * 24 * 3600 })), 'no exp, iat a year old');
      assertRefused(await post(app, await mint({ iat: now() - 10 * 60 })), 'no exp, iat ten minutes old');
      assertRefused(await post(app, await mint({ iat: now() - 365 * 24 * 3600, exp: now() + 3600 })), 'exp ahead but iat a year old');
    });

    it(`finding 5: a logout token issued a day in the future is refused (${name} index)`, async () => {
      const app = appWith(makeIndex());
      assertRefused(await post(app, await mint({ iat: now() + 24 * 3600 })), 'iat a day ahead');
      assertRefused(await post(app, await mint({ iat: now() + 24 * 3600, exp: now() + 48 * 3600 })), 'iat and exp a day ahead');
    });
  }
});

describe('finding 5: a genuine logout token from the dev OP, replayed', () => {
  let server: Server;
  let op: DevOp;
  let redis: Redis;
  let prefix: string;
  const delivered: string[] = [];

  before(async () => {
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    op = await startDevOp({ webApp: { backchannelLogoutUri: `http://127.0.0.1:${port}/backchannel-logout` } });
    redis = await connectRedis();
    prefix = uniquePrefix('secweb-ltop');
    const { app } = buildExpressApp(op, { redis, prefix });
    // Keeps a copy of what the OP posts (the raw form), then lets the app answer it.
    const outer = express();
    outer.use('/backchannel-logout', express.urlencoded({ extended: false }), (req, _res, next) => {
      delivered.push(String((req.body as Record<string, unknown>).logout_token));
      next();
    });
    outer.use(app);
    server.on('request', outer);
  });
  after(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await op.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('finding 5: the OP\'s logout token ends the session once; posted again it is refused (400 invalid_request)', async () => {
    const jar = new Map<string, string>();
    const agent = request.agent(server);
    const login = await agent.get('/login');
    const callback = new URL(await op.signIn(login.headers.location!, { username: 'alice', jar }));
    await agent.get(`${callback.pathname}${callback.search}`);
    assert.equal((await agent.get('/profile')).status, 200);
    const endSession = new URL(`${op.issuer}/oauth2/v2.0/logout`);
    endSession.searchParams.set('client_id', op.clients.webApp.clientId);
    await op.signOut(endSession.href, { jar });
    for (let i = 0; i < 50 && delivered.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(delivered.length, 1, 'the OP delivered one logout token');
    assert.equal((await agent.get('/profile')).status, 302, 'the first delivery ended the session');

    const replay = await request(server).post('/backchannel-logout').set('accept', 'application/json').type('form').send({ logout_token: delivered[0] });
    assert.equal(replay.status, 400, replay.text);
    assert.equal(replay.body.error, 'invalid_request');
  });
});
