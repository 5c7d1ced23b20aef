/**
 * Concurrent cache lookups of one partition share one store read (issue 17: a refresh storm and a
 * page's parallel calls read Redis once per process, not once per call), on a real Redis with
 * `localCacheSeconds: 0`; reads are counted on the ioredis connection the store uses. Reads that do
 * not overlap are not shared, and a write here makes the next lookup read again.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { RedisTokenCacheStore } from '../../src/index.js';
import { SingleFlight } from '../../src/util/concurrency.js';
import { clientFor, expireAccessTokens, signIn, startDevOp, tokenRequests, type DevOp } from '../helpers/op.js';
import { connectRedis, deleteKeys, uniquePrefix } from '../helpers/redis.js';

const ORDERS = ['api://orders/Orders.Read'];

/** Counts the HGETALLs (partition reads) sent on `redis`. */
function countReads(redis: Redis): { readonly reads: number } {
  const counter = { reads: 0 };
  const target = redis as unknown as { sendCommand: (command: { name: string }, ...rest: unknown[]) => unknown };
  const original = target.sendCommand.bind(redis);
  target.sendCommand = (command, ...rest) => {
    if (command.name === 'hgetall') counter.reads += 1;
    return original(command, ...rest);
  };
  return counter;
}

describe('shared store reads', () => {
  let op: DevOp;
  let redis: Redis;
  const prefix = uniquePrefix('reads');

  before(async () => {
    op = await startDevOp();
    redis = await connectRedis();
  });
  after(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await op.close();
  });

  it('20 concurrent lookups of one partition: one HGETALL; sequential lookups: one each', async () => {
    const client = clientFor(op, 'webApp', { cacheStore: new RedisTokenCacheStore({ client: redis, prefix }), localCacheSeconds: 0 });
    const { account } = await signIn(op, client, { partition: 'page' });
    const counter = countReads(redis);
    const results = await Promise.all(Array.from({ length: 20 }, () => client.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'page' })));
    assert.ok(results.every((r) => r.fromCache), 'all cache hits');
    assert.equal(new Set(results.map((r) => r.accessToken)).size, 1);
    assert.equal(counter.reads, 1, 'one read shared by the 20 lookups');
    for (let i = 0; i < 3; i++) await client.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'page' });
    assert.equal(counter.reads, 4, 'lookups that do not overlap read again (localCacheSeconds: 0 means every hit sees the store)');
  });

  it('a storm on expired tokens: one shared lookup read, one refresh under the lock (which reads again)', async () => {
    const client = clientFor(op, 'webApp', { cacheStore: new RedisTokenCacheStore({ client: redis, prefix }), localCacheSeconds: 0 });
    const { account } = await signIn(op, client, { partition: 'storm' });
    await expireAccessTokens(client, 'storm');
    const refreshesBefore = tokenRequests(op, 'refresh_token');
    const counter = countReads(redis);
    const results = await Promise.all(Array.from({ length: 30 }, () => client.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'storm' })));
    assert.equal(new Set(results.map((r) => r.accessToken)).size, 1, 'every caller got the refreshed token');
    assert.equal(tokenRequests(op, 'refresh_token') - refreshesBefore, 1);
    assert.equal(counter.reads, 2, 'the shared lookup read, then the read under the lock (never shared)');
  });

  it('a read that began before a write is not handed to a caller who comes after it', async () => {
    const flight = new SingleFlight<string>();
    let finishEarly!: (value: string) => void;
    let finishLate!: (value: string) => void;
    const early = flight.run('p', () => new Promise<string>((resolve) => { finishEarly = resolve; }));
    flight.forget('p'); // what writePartition does
    const late = flight.run('p', () => new Promise<string>((resolve) => { finishLate = resolve; }));
    finishEarly('before the write');
    assert.equal(await early, 'before the write');
    // The early read settling must not free the key while the late one runs: a newcomer joins the late read.
    const joiner = flight.run('p', async () => 'a third read');
    finishLate('after the write');
    assert.equal(await late, 'after the write');
    assert.equal(await joiner, 'after the write');
  });
});
