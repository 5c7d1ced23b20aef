/**
 * A Redis client used the moment it is built (every app start, every script): the token cache
 * store, the session index, Koa's session store and Express's session store guard wait for its
 * first connection (within their timeout) instead of failing with "Redis connection is connecting".
 * `enableOfflineQueue: false` is what the README recommends: without the wait, ioredis refuses
 * every command until the connection is ready.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { RedisStore } from 'connect-redis';
import { Redis } from 'ioredis';
import { RedisSessionIndex, RedisTokenCacheStore } from '../../src/index.js';
import { auth, authErrors, authSession } from '../../src/express/index.js';
import { redisSessionStore } from '../../src/koa/index.js';
import { BASE_URL } from '../helpers/expressApp.js';
import { clientFor, refusedWith, startDevOp, type DevOp } from '../helpers/op.js';
import { connectRedis, deleteKeys, freePort, redisUrl, uniquePrefix } from '../helpers/redis.js';

describe('a Redis client still connecting', () => {
  let url: string;
  let admin: Redis;
  let op: DevOp;
  const prefix = uniquePrefix('connecting');
  const clients: Redis[] = [];
  /** A client as an app builds it at start, not yet connected when it is first used. */
  const fresh = (target = url): Redis => {
    const client = new Redis(target, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 200 });
    client.on('error', () => {});
    clients.push(client);
    assert.equal(client.status, 'connecting');
    return client;
  };

  before(async () => {
    url = await redisUrl();
    admin = await connectRedis();
    op = await startDevOp();
  });
  after(async () => {
    for (const client of clients) client.disconnect();
    await deleteKeys(admin, prefix);
    admin.disconnect();
    await op.close();
  });

  it('the token cache store waits for it', async () => {
    const store = new RedisTokenCacheStore({ client: fresh(), prefix: `${prefix}tc:` });
    await store.write('p1', { set: { 'k-1': { credential_type: 'AccessToken', secret: 'x' } as never }, remove: [] });
    assert.deepEqual(Object.keys(await new RedisTokenCacheStore({ client: fresh(), prefix: `${prefix}tc:` }).read('p1')), ['k-1']);
  });

  it('the session index waits for it', async () => {
    await new RedisSessionIndex({ client: fresh(), prefix: `${prefix}sx:` }).add(['sid-1'], 'entry', 60);
    assert.deepEqual(await new RedisSessionIndex({ client: fresh(), prefix: `${prefix}sx:` }).take('sid-1'), ['entry']);
  });

  it('Koa\'s Redis session store waits for it', async () => {
    await redisSessionStore({ client: fresh(), prefix: `${prefix}ks:` }).set('s1', { a: 1 }, 60_000);
    assert.deepEqual(await redisSessionStore({ client: fresh(), prefix: `${prefix}ks:` }).get('s1'), { a: 1 });
  });

  it('Express\'s session store guard waits for it: a returning browser\'s session is read, /login goes to the OP', async () => {
    const secret = 'a-session-secret';
    const app = express();
    const redis = fresh();
    app.use(authSession({ baseUrl: BASE_URL, secret, store: new RedisStore({ client: redis, prefix: `${prefix}es:` }), redis }));
    app.use(auth({ client: clientFor(op, 'webApp'), baseUrl: BASE_URL }));
    app.get('/', (req, res) => res.json({ signedIn: Boolean(req.account) }));
    app.use(authErrors());
    // A browser with a session cookie from before the restart: express-session reads the store at once.
    const id = 'returning-browser';
    const signed = `s:${id}.${createHmac('sha256', secret).update(id).digest('base64').replace(/=+$/, '')}`;
    const home = await request(app).get('/').set('cookie', `authflow.sid=${encodeURIComponent(signed)}`);
    assert.equal(home.status, 200, home.text);
    const login = await request(app).get('/login');
    assert.equal(login.status, 302, login.text);
    assert.ok(login.headers.location?.startsWith(op.issuer));
    assert.equal((await admin.keys(`${prefix}es:*`)).length, 1, 'the session with the sign-in in flight is stored');
  });

  it('a Redis that is not there still fails at once, not after the timeout', async () => {
    const store = new RedisTokenCacheStore({ client: fresh(`redis://127.0.0.1:${await freePort()}`), prefix: `${prefix}tc:`, commandTimeoutMs: 5_000 });
    const started = Date.now();
    await assert.rejects(store.read('p1'), refusedWith('store_unavailable'));
    assert.ok(Date.now() - started < 2_000, `failed after ${Date.now() - started} ms`);
  });
});
