/**
 * Refresh storms without polling (issue 17 part 3): a waiter for a partition's refresh lock is
 * woken by the holder's release (PUBLISH from the release script, heard on the store's subscriber
 * connection), and still gets the lock by polling when the message is lost. Real Redis; each store
 * has its own ioredis client, as two processes would.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { RedisTokenCacheStore } from '../../src/index.js';
import { connectRedis, deleteKeys, uniquePrefix } from '../helpers/redis.js';
import { clientFor, expireAccessTokens, signIn, startDevOp, tokenRequests, type DevOp } from '../helpers/op.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('RedisTokenCacheStore: lock waiters are woken on release', () => {
  const prefix = uniquePrefix('lockwake');
  const clients: Redis[] = [];
  const connect = async (): Promise<Redis> => {
    const client = await connectRedis();
    clients.push(client);
    return client;
  };
  let admin: Redis;

  before(async () => {
    admin = await connect();
  });
  /**
   * Until a waiter listens for `partition`'s release (its subscriber connection is made on demand,
   * slow under load), then 50 ms for its next attempt at the lock to fail and its wait to begin.
   */
  const listening = async (store: RedisTokenCacheStore, partition: string): Promise<void> => {
    const channel = `${store.keyOf(partition)}:lock:released`;
    while (Number(((await admin.call('PUBSUB', 'NUMSUB', channel)) as [string, number])[1]) < 1) await sleep(5);
    await sleep(50);
  };
  after(async () => {
    await deleteKeys(admin, prefix);
    for (const client of clients) await client.quit().catch(() => undefined);
  });

  it('a waiter on another client gets the lock within 15 ms of the release (polling would take 100+ ms)', async () => {
    const holder = new RedisTokenCacheStore({ client: await connect(), prefix });
    const waiter = new RedisTokenCacheStore({ client: await connect(), prefix });
    const release = await holder.lock('p1');
    const waiting = waiter.lock('p1').then((r) => ({ release: r, at: performance.now() }));
    await sleep(50); // the holder's refresh
    await release();
    const releasedAt = performance.now();
    const got = await waiting;
    const delay = got.at - releasedAt;
    // The waiter's first fallback poll is 100-250 ms after its last attempt (made ~50 ms before the release).
    assert.ok(delay < 15, `woken ${delay.toFixed(1)} ms after the release`);
    await got.release();
  });

  it('in this process, a waiter on the same store is woken directly by the release', async () => {
    const store = new RedisTokenCacheStore({ client: await connect(), prefix });
    const release = await store.lock('p2');
    const waiting = store.lock('p2').then((r) => ({ release: r, at: performance.now() }));
    await sleep(50);
    await release();
    const releasedAt = performance.now();
    const got = await waiting;
    assert.ok(got.at - releasedAt < 15, `woken ${(got.at - releasedAt).toFixed(1)} ms after the release`);
    await got.release();
  });

  it('a lost release message still ends the wait: the waiter polls (subscriber connection cut)', async () => {
    // The fault: the message never reaches the waiter. A real Redis cannot be told to drop one
    // PUBLISH, so the waiter's subscriber connection (made by client.duplicate(), captured here)
    // is disconnected, without reconnecting, while it waits: what a dropped connection or a
    // failover between SUBSCRIBE and PUBLISH does to a real subscriber.
    const waiterClient = await connect();
    const duplicate = waiterClient.duplicate.bind(waiterClient);
    let subscriber: Redis | undefined;
    waiterClient.duplicate = ((...args: Parameters<Redis['duplicate']>) => (subscriber = duplicate(...args))) as Redis['duplicate'];
    const holder = new RedisTokenCacheStore({ client: await connect(), prefix });
    const waiter = new RedisTokenCacheStore({ client: waiterClient, prefix });
    const release = await holder.lock('p3');
    const waiting = waiter.lock('p3').then((r) => ({ release: r, at: performance.now() }));
    await sleep(30);
    assert.ok(subscriber, 'the waiter subscribed through a duplicate of its client');
    subscriber.disconnect(false);
    await sleep(30);
    await release();
    const releasedAt = performance.now();
    const got = await waiting;
    const delay = got.at - releasedAt;
    assert.ok(delay > 15, `took the lock ${delay.toFixed(1)} ms after the release: the message was not lost?`);
    assert.ok(delay < 300, `polling took ${delay.toFixed(1)} ms`);
    await got.release();
    // The next wait works with a new subscriber connection.
    const again = await holder.lock('p3');
    const waitingAgain = waiter.lock('p3').then((r) => ({ release: r, at: performance.now() }));
    await sleep(30);
    await again();
    const at = performance.now();
    const second = await waitingAgain;
    assert.ok(second.at - at < 15, `woken ${(second.at - at).toFixed(1)} ms after the release`);
    await second.release();
  });

  it('a storm: 20 waiters across 4 clients take the lock one after another, never two at once', async () => {
    const stores = await Promise.all(Array.from({ length: 4 }, async () => new RedisTokenCacheStore({ client: await connect(), prefix })));
    let inside = 0;
    let most = 0;
    await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      const release = await stores[i % 4]!.lock('p4');
      inside += 1;
      most = Math.max(most, inside);
      await sleep(2);
      inside -= 1;
      await release();
    }));
    // Wakeups (several waiters woken by one release) must not let two in: the lock is still SET NX.
    assert.equal(most, 1);
  });

  it('the subscriber connection closes when no one waits (the process can exit)', async () => {
    const client = await connect();
    const duplicate = client.duplicate.bind(client);
    let subscriber: Redis | undefined;
    client.duplicate = ((...args: Parameters<Redis['duplicate']>) => (subscriber = duplicate(...args))) as Redis['duplicate'];
    const holder = new RedisTokenCacheStore({ client: await connect(), prefix });
    const store = new RedisTokenCacheStore({ client, prefix });
    const release = await holder.lock('p5');
    const waiting = store.lock('p5');
    await sleep(20);
    await release();
    await (await waiting)();
    assert.ok(subscriber);
    await sleep(1_300);
    assert.equal(subscriber.status, 'end');
  });

  it('a waiter whose work the holder did (doneWhileWaiting) returns without taking the lock', async () => {
    const holder = new RedisTokenCacheStore({ client: await connect(), prefix });
    const waiter = new RedisTokenCacheStore({ client: await connect(), prefix });
    const release = await holder.lock('p6');
    let asked = 0;
    const waiting = waiter.lock('p6', { doneWhileWaiting: async () => ++asked > 0 });
    await listening(waiter, 'p6');
    assert.equal(asked, 0, 'not asked before a wait ended');
    await release();
    assert.equal(await waiting, undefined, 'nothing held');
    assert.equal(asked, 1);
    // The lock is free: nobody took it on the waiter's behalf.
    const again = await holder.lock('p6', { doneWhileWaiting: async () => false });
    assert.ok(again, 'taken at once');
    await again();
  });
});

describe('a refresh storm across processes: the waiters read the refreshed token without taking the lock in turn', () => {
  const prefix = uniquePrefix('lockdone');
  const clients: Redis[] = [];
  let op: DevOp;

  before(async () => {
    op = await startDevOp();
  });
  after(async () => {
    await deleteKeys(clients[0]!, prefix);
    for (const client of clients) await client.quit().catch(() => undefined);
    await op.close();
  });

  it('3 clients (as 3 processes) on one expired partition: one refresh, one lock taken and released', async () => {
    const stores = await Promise.all(Array.from({ length: 3 }, async () => {
      const client = await connectRedis();
      clients.push(client);
      return { client, store: new RedisTokenCacheStore({ client, prefix }) };
    }));
    const apps = stores.map(({ store }) => clientFor(op, 'webApp', { cacheStore: store, localCacheSeconds: 0 }));
    const { account } = await signIn(op, apps[0]!, { partition: 'storm' });
    await expireAccessTokens(apps[0]!, 'storm');
    // Lock releases (the release script) across the three connections: one per lock taken.
    let releases = 0;
    for (const { client } of stores) {
      const target = client as unknown as { sendCommand: (command: { name: string }, ...rest: unknown[]) => unknown };
      const original = target.sendCommand.bind(client);
      target.sendCommand = (command, ...rest) => {
        if (command.name === 'eval' || command.name === 'evalsha') releases += 1;
        return original(command, ...rest);
      };
    }
    const refreshesBefore = tokenRequests(op, 'refresh_token');
    // A slow token endpoint keeps the first refresh under its lock while the others arrive and wait.
    op.faults.set({ tokenEndpoint: 'slow', slowMs: 300 });
    try {
      const results = await Promise.all(apps.map((app) => app.acquireTokenSilent({ scopes: ['api://orders/Orders.Read'], account: account!, partition: 'storm' })));
      assert.equal(new Set(results.map((r) => r.accessToken)).size, 1, 'one token for all');
      assert.equal(results.filter((r) => r.fromCache).length, 2, 'the two waiters read it from the cache');
    } finally {
      op.faults.clear();
    }
    assert.equal(tokenRequests(op, 'refresh_token') - refreshesBefore, 1);
    assert.equal(releases, 1, 'only the refreshing client took (and released) the lock');
  });
});
