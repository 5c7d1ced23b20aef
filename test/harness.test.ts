/**
 * The test harness itself: Redis found or started (never faked), per-test key prefixes, and the
 * cookie-jar browser, each against real servers on loopback.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { connectRedis, deleteKeys, startRedisServer, uniquePrefix } from './helpers/redis.js';
import { Browser } from './helpers/browser.js';

describe('Redis for tests', () => {
  it('connects to the Redis the harness found, and keeps tests apart by prefix', async () => {
    const redis = await connectRedis();
    try {
      assert.equal(await redis.ping(), 'PONG');
      const [a, b] = [uniquePrefix(), uniquePrefix()];
      assert.notEqual(a, b);
      await redis.set(`${a}k`, '1');
      await redis.set(`${b}k`, '2');
      await deleteKeys(redis, a);
      assert.equal(await redis.get(`${a}k`), null);
      assert.equal(await redis.get(`${b}k`), '2');
      await deleteKeys(redis, b);
    } finally {
      redis.disconnect();
    }
  });

  it('starts a private redis-server on a free port and stops it', async () => {
    const server = await startRedisServer();
    const redis = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    await redis.connect();
    assert.equal(await redis.ping(), 'PONG');
    redis.disconnect();
    await server.stop();
    const gone = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    gone.on('error', () => {});
    await assert.rejects(gone.connect());
    assert.notEqual(gone.status, 'ready');
    gone.disconnect();
  });
});

describe('cookie-jar browser', () => {
  let server: Server;
  let base: string;

  before(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/set') {
        res.writeHead(302, { location: '/show', 'set-cookie': ['sid=abc; HttpOnly; Path=/', 'theme=dark; Path=/'] });
      } else if (url.pathname === '/clear') {
        res.writeHead(302, { location: '/show', 'set-cookie': ['theme=; Max-Age=0; Path=/'] });
      } else if (url.pathname === '/away') {
        res.writeHead(302, { location: 'http://127.0.0.1:9/authorize?x=1' });
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write(req.headers.cookie ?? '');
      }
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('keeps cookies across redirects on the app\'s origin and drops expired ones', async () => {
    const browser = new Browser(base);
    const page = await browser.get('/set');
    assert.equal(page.status, 200);
    assert.equal(page.body, 'sid=abc; theme=dark');
    const cleared = await browser.get('/clear');
    assert.equal(cleared.body, 'sid=abc');
  });

  it('stops at a redirect that leaves the app and reports where it points', async () => {
    const page = await new Browser(base).get('/away');
    assert.equal(page.status, 302);
    assert.equal(page.location, 'http://127.0.0.1:9/authorize?x=1');
  });
});
