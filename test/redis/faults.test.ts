/**
 * Redis failing under the store, on a redis-server of this test's own (a free port): frozen
 * (SIGSTOP: commands hang) and killed (connections refused). Calls fail fast with
 * `store_unavailable`, and work again when Redis returns, without rebuilding anything.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { AuthError, RedisTokenCacheStore, type ConfidentialClient } from '../../src/index.js';
import { clientFor, signIn, startDevOp, type DevOp } from '../helpers/op.js';
import { startRedisServer, type RedisServer } from '../helpers/redis.js';

const ORDERS = ['api://orders/Orders.Read'];

describe('RedisTokenCacheStore when Redis fails', () => {
  let op: DevOp;
  let server: RedisServer;
  let redis: Redis;
  let client: ConfidentialClient;

  before(async () => {
    op = await startDevOp();
    server = await startRedisServer();
    // What the README recommends: bounded connect and retries, quick reconnects.
    redis = new Redis({ host: '127.0.0.1', port: server.port, connectTimeout: 500, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    redis.on('error', () => {}); // reconnect attempts while Redis is down are expected here
    // The store is under test: no local copy in front of it (with one, cache hits survive the outage).
    client = clientFor(op, 'webApp', { localCacheSeconds: 0, cacheStore: new RedisTokenCacheStore({ client: redis, commandTimeoutMs: 300 }) });
  });
  after(async () => {
    redis.disconnect();
    await server.stop();
    await op.close();
  });

  async function failsFast(call: () => Promise<unknown>, withinMs: number): Promise<void> {
    const started = Date.now();
    await assert.rejects(call(), (err: unknown) => {
      assert.ok(err instanceof AuthError, String(err));
      assert.equal(err.code, 'store_unavailable');
      assert.equal(err.status, 503);
      return true;
    });
    const elapsed = Date.now() - started;
    assert.ok(elapsed < withinMs, `failed after ${elapsed} ms`);
  }

  it('fails within the command timeout while Redis is frozen, and serves the cache once it thaws', async () => {
    const { account, accessToken } = await signIn(op, client, { partition: 'frozen' });
    server.process.kill('SIGSTOP');
    try {
      await failsFast(() => client.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'frozen' }), 800);
    } finally {
      server.process.kill('SIGCONT');
    }
    const hit = await client.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'frozen' });
    assert.equal(hit.accessToken, accessToken);
  });

  it('fails at once while Redis is down, and works again after it restarts (its data gone: sign in again)', async () => {
    const { account } = await signIn(op, client, { partition: 'down' });
    await server.stop();
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (let i = 0; i < 20; i++) {
      await failsFast(() => client.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'down' }), 400);
    }
    server = await startRedisServer(server.port);
    const deadline = Date.now() + 5000;
    while (redis.status !== 'ready' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(redis.status, 'ready', 'the same client reconnected');
    // This throwaway Redis keeps nothing on disk: the old session must sign in again, not crash.
    await assert.rejects(client.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'down' }), { code: 'interaction_required' });
    const again = await signIn(op, client, { partition: 'down' });
    const hit = await client.acquireTokenSilent({ scopes: ORDERS, account: again.account!, partition: 'down' });
    assert.equal(hit.fromCache, true);
  });
});
