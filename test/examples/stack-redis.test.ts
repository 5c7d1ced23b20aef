/**
 * The example stack on Redis (`REDIS_URL`, as in docker-compose): a real sign-in and an API call,
 * then every value the token caches wrote to Redis is read back raw — all of them encrypted
 * (security review, finding 8: the example used to keep refresh tokens in clear text).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startStack, type Stack } from '../../examples/stack.js';
import { Browser } from '../helpers/browser.js';
import { connectRedis, redisUrl } from '../helpers/redis.js';

describe('the example stack on Redis', () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack({ ports: { app: 0, op: 0, orders: 0, inventory: 0 }, redisUrl: await redisUrl(), cacheKey: randomBytes(32).toString('base64') });
  });
  after(() => stack.close());

  it('encrypts every token cache value it writes (no refresh or access token in clear text)', async () => {
    const browser = new Browser(stack.appUrl);
    const toOp = await browser.get('/login?returnTo=%2Fprofile');
    const profile = await browser.get(await stack.op.signIn(toOp.location!, { username: 'alice' }));
    assert.equal(profile.status, 200);
    assert.equal((await browser.get('/call-api')).status, 200, 'the web app, orders and inventory all cached tokens');

    const redis = await connectRedis();
    try {
      const values: string[] = [];
      const keys = (await Promise.all(['webApp', 'orders', 'inventory'].map((name) => redis.keys(`authflow:${name}:*`)))).flat();
      try {
        for (const key of keys) {
          if ((await redis.type(key)) === 'hash') values.push(...Object.values(await redis.hgetall(key)));
        }
      } finally {
        if (keys.length > 0) await redis.del(...keys);
      }
      assert.ok(values.length >= 4, `token cache entries found in Redis (${values.length})`);
      for (const value of values) {
        assert.match(value, /^af1\.example\./, 'stored encrypted with the stack\'s key');
        assert.doesNotMatch(value, /secret|eyJ/, 'no token or entity JSON in clear text');
      }
    } finally {
      redis.disconnect();
    }
  });
});
