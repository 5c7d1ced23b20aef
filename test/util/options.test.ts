/**
 * Every constructor validates its options through src/util/options.ts: a table of bad options,
 * each refused when the object is built with `invalid_config` naming the option. Includes those
 * that validated nothing before (MemorySessionIndex maxKeys, RedisSessionIndex, Koa's
 * redisSessionStore / memorySessionStore).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Koa from 'koa';
import { AuthError, ConfidentialClient, MemorySessionIndex, MemoryTokenCacheStore, RedisSessionIndex, RedisTokenCacheStore, FileTokenCacheStore, createBearerValidator } from '../../src/index.js';
import * as express from '../../src/express/index.js';
import * as koa from '../../src/koa/index.js';
import { appUrl, isLoopback, num } from '../../src/util/options.js';

const authority = 'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0';
const client = new ConfidentialClient({ clientId: 'app', authority, credential: { secret: 's' } });
/** Enough of an ioredis client for the constructors' checks (no command is sent). */
const redis = { status: 'ready', get() {}, set() {}, del() {}, sadd() {}, srem() {}, multi() {}, hgetall() {}, once() {}, off() {} } as never;
const base = { client, baseUrl: 'https://app.example' };

const table: Array<[string, () => unknown, string]> = [
  ['ConfidentialClient timeoutMs', () => new ConfidentialClient({ clientId: 'a', authority, credential: { secret: 's' }, timeoutMs: 0 }), 'timeoutMs'],
  ['ConfidentialClient logger', () => new ConfidentialClient({ clientId: 'a', authority, credential: { secret: 's' }, logger: {} as never }), 'logger'],
  ['ConfidentialClient allowedTenants', () => new ConfidentialClient({ clientId: 'a', authority, credential: { secret: 's' }, allowedTenants: [] }), 'allowedTenants'],
  ['createBearerValidator clockToleranceSeconds', () => createBearerValidator({ authority, audience: 'api://x', clockToleranceSeconds: -1 }), 'clockToleranceSeconds'],
  ['createBearerValidator acceptV1Issuer', () => createBearerValidator({ authority, audience: 'api://x', acceptV1Issuer: 'yes' as never }), 'acceptV1Issuer'],
  ['auth() baseUrl', () => express.auth({ ...base, baseUrl: 'http://app.example' }), 'baseUrl'],
  ['auth() maxSignIns', () => koa.auth({ ...base, maxSignIns: 21 }), 'maxSignIns'],
  ['requireBearer options', () => express.requireBearer(null as never), 'options'],
  ['authSession baseUrl with a query', () => express.authSession({ baseUrl: 'https://app.example/?x=1' }), 'baseUrl'],
  ['authSession maxAgeMs', () => express.authSession({ baseUrl: 'https://app.example', maxAgeMs: 1.5 }), 'maxAgeMs'],
  ['authSession name', () => koa.authSession(new Koa(), { baseUrl: 'https://app.example', name: 'a b' }), 'name'],
  ['Express authSession storeTimeoutMs', () => express.authSession({ baseUrl: 'https://app.example', storeTimeoutMs: 0 }), 'storeTimeoutMs'],
  ['Express authSession store', () => express.authSession({ baseUrl: 'https://app.example', store: {} as never }), 'store'],
  ['Express authSession redis', () => express.authSession({ baseUrl: 'https://app.example', redis: {} as never }), 'redis'],
  ['Koa authSession store', () => koa.authSession(new Koa(), { baseUrl: 'https://app.example', store: {} as never }), 'store'],
  ['MemorySessionIndex maxKeys', () => new MemorySessionIndex({ maxKeys: -1 }), 'maxKeys'],
  ['RedisSessionIndex client', () => new RedisSessionIndex({ client: {} as never }), 'client'],
  ['RedisSessionIndex prefix', () => new RedisSessionIndex({ client: redis, prefix: '{x}' }), 'prefix'],
  ['RedisSessionIndex connectTimeoutMs', () => new RedisSessionIndex({ client: redis, connectTimeoutMs: 0 }), 'connectTimeoutMs'],
  ['redisSessionStore client', () => koa.redisSessionStore({ client: undefined as never }), 'client'],
  ['redisSessionStore prefix', () => koa.redisSessionStore({ client: redis, prefix: 1 as never }), 'prefix'],
  ['redisSessionStore connectTimeoutMs', () => koa.redisSessionStore({ client: redis, connectTimeoutMs: 'x' as never }), 'connectTimeoutMs'],
  ['memorySessionStore maxSessions', () => koa.memorySessionStore({ maxSessions: 0 }), 'maxSessions'],
  ['RedisTokenCacheStore lockTtlMs', () => new RedisTokenCacheStore({ client: redis, encryption: 'off', lockTtlMs: 0.5 }), 'lockTtlMs'],
  ['RedisTokenCacheStore logger', () => new RedisTokenCacheStore({ client: redis, encryption: 'off', logger: 1 as never }), 'logger'],
  ['MemoryTokenCacheStore maxPartitions', () => new MemoryTokenCacheStore({ maxPartitions: 0 }), 'maxPartitions'],
  ['MemoryTokenCacheStore ttlSeconds', () => new MemoryTokenCacheStore({ ttlSeconds: -5 }), 'ttlSeconds'],
  ['FileTokenCacheStore logger', () => new FileTokenCacheStore('/tmp/x.json', { logger: {} as never }), 'logger'],
];

describe('options: each bad option refused by name', () => {
  for (const [name, build, option] of table) {
    it(name, () => {
      assert.throws(build, (err: unknown) => {
        assert.ok(err instanceof AuthError, String(err));
        assert.equal(err.code, 'invalid_config');
        assert.ok(err.description.startsWith(`option "${option}" `), err.description);
        return true;
      });
    });
  }
});

describe('options helpers', () => {
  it('isLoopback: plain http on localhost, 127.0.0.1 and [::1] only', () => {
    const cases: Array<[string, boolean]> = [
      ['http://localhost:3000', true], ['http://127.0.0.1', true], ['http://[::1]:8080/', true],
      ['https://localhost', false], ['http://127.0.0.2', false], ['http://localhost.example', false],
    ];
    for (const [url, loopback] of cases) assert.equal(isLoopback(new URL(url)), loopback, url);
  });
  it('appUrl accepts https and loopback http, refuses the rest', () => {
    assert.equal(appUrl('https://app.example/base').pathname, '/base');
    for (const bad of [undefined, 'nope', 'http://app.example', 'https://u:p@app.example', 'https://app.example/#x']) {
      assert.throws(() => appUrl(bad), /option "baseUrl"/);
    }
  });
  it('num: messages say the rule', () => {
    assert.throws(() => num('n', 0, 1), /must be a positive number/);
    assert.throws(() => num('n', 1.5, 1, { integer: true }), /must be a positive integer/);
    assert.throws(() => num('n', -1, 1, { min: 0 }), /must be a number >= 0/);
    assert.throws(() => num('n', 21, 1, { integer: true, min: 1, max: 20 }), /must be an integer from 1 to 20/);
    assert.equal(num('n', undefined, 7), 7);
  });
});
