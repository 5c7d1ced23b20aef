/**
 * The example stack on Redis (`REDIS_URL`, as in docker-compose): a real sign-in and an API call,
 * then every value the token caches wrote to Redis is read back raw — all of them encrypted
 * (security review, finding 8: the example used to keep refresh tokens in clear text).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startStack, type Stack } from '../../examples/stack.js';
import { Browser } from '../helpers/browser.js';
import { connectRedis, redisUrl } from '../helpers/redis.js';

/**
 * Why a stored token cache value would reveal a token or an entity, or undefined when it is an
 * `af1.<keyId>.<iv>.<ciphertext>.<tag>` envelope (base64url parts) hiding neither: no clear JSON or
 * JWT, and no entity JSON under a mere base64url encoding. Random ciphertext may contain any
 * three letters ("eyJ" in about 1% of 3 KB values), so nothing is searched for in it as text.
 */
function revealed(value: string): string | undefined {
  if (!/^af1\.example\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(value)) return 'not an af1 envelope of the stack\'s key (clear text?)';
  const decoded = value.split('.').slice(2).map((part) => Buffer.from(part, 'base64url').toString('latin1')).join('\n');
  if (/"(secret|credential_type|home_account_id)"/.test(decoded)) return 'entity JSON under a base64url encoding';
  if (/eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\./.test(decoded)) return 'a JWT under a base64url encoding';
  return undefined;
}

describe('stored token cache values: what counts as clear text', () => {
  const b64 = (text: string): string => Buffer.from(text).toString('base64url');
  const entity = '{"credential_type":"RefreshToken","secret":"0.AXo-refresh","home_account_id":"uid.utid"}';
  const jwt = `${b64('{"alg":"RS256"}')}.${b64('{"sub":"alice"}')}.c2ln`;

  it('accepts real ciphertext, even one containing "eyJ" by chance (a CI run failed on this value with a text search)', () => {
    const value = readFileSync(new URL('../fixtures/ciphertext-containing-eyJ.txt', import.meta.url), 'utf8').trim();
    assert.match(value, /eyJ/, 'the fixture holds the letters a text search refused');
    assert.equal(revealed(value), undefined);
  });

  it('refuses clear JSON, a clear JWT, and either under base64url in the envelope\'s shape', () => {
    assert.match(revealed(entity) ?? '', /not an af1 envelope/);
    assert.match(revealed(jwt) ?? '', /not an af1 envelope/);
    assert.match(revealed(`af1.example.${b64('iv')}.${b64(entity)}.${b64('tag')}`) ?? '', /entity JSON/);
    assert.match(revealed(`af1.example.${b64('iv')}.${b64(`{"x":"${jwt}"}`)}.${b64('tag')}`) ?? '', /a JWT/);
    assert.match(revealed(`af1.other.${b64('iv')}.${b64('x')}.${b64('tag')}`) ?? '', /not an af1 envelope/, 'another key id');
  });
});

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
      for (const value of values) assert.equal(revealed(value), undefined, 'stored encrypted with the stack\'s key, no token or entity JSON in clear text');
    } finally {
      redis.disconnect();
    }
  });
});
