/**
 * RedisTokenCacheStore on a Redis Cluster of 3 masters on loopback ports (redis-servers of this
 * test's own, joined with CLUSTER ADDSLOTSRANGE / MEET), through ioredis `Cluster`: partitions in
 * different slots, MULTI writes and the refresh lock never cross a slot.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { RedisTokenCacheStore, type ConfidentialClient } from '../../src/index.js';
import { clientFor, expireAccessTokens, signIn, startDevOp, tokenRequests, type DevOp } from '../helpers/op.js';
import { startRedisServer, type RedisServer } from '../helpers/redis.js';

const ORDERS = ['api://orders/Orders.Read'];
const SLOTS = 16384;

/** Three empty masters, slots split between them, introduced to each other; resolves when the cluster is ok. */
async function startCluster(dir: string): Promise<RedisServer[]> {
  const servers: RedisServer[] = [];
  for (let i = 0; i < 3; i++) {
    servers.push(await startRedisServer(undefined, ['--cluster-enabled', 'yes', '--dir', dir, '--cluster-config-file', `nodes-${i}.conf`]));
  }
  const admins = servers.map((s) => new Redis({ host: '127.0.0.1', port: s.port }));
  try {
    for (const [i, admin] of admins.entries()) {
      const first = Math.floor((SLOTS * i) / 3);
      const last = Math.floor((SLOTS * (i + 1)) / 3) - 1;
      await admin.call('CLUSTER', 'ADDSLOTSRANGE', String(first), String(last));
    }
    for (const server of servers.slice(1)) await admins[0]!.call('CLUSTER', 'MEET', '127.0.0.1', String(server.port));
    const deadline = Date.now() + 15_000;
    for (const admin of admins) {
      while (!String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok')) {
        if (Date.now() > deadline) throw new Error('the test cluster did not reach cluster_state:ok');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    for (const admin of admins) admin.disconnect();
  }
  return servers;
}

describe('RedisTokenCacheStore on Redis Cluster', () => {
  let op: DevOp;
  let servers: RedisServer[];
  let cluster: Cluster;
  let store: RedisTokenCacheStore;
  let client: ConfidentialClient;
  const dir = mkdtempSync(join(tmpdir(), 'authflow-cluster-'));

  before(async () => {
    op = await startDevOp();
    servers = await startCluster(dir);
    cluster = new Cluster(servers.map((s) => ({ host: '127.0.0.1', port: s.port })), { redisOptions: { maxRetriesPerRequest: 1 } });
    await new Promise<void>((resolve, reject) => {
      cluster.once('ready', () => resolve());
      cluster.once('error', reject);
    });
    store = new RedisTokenCacheStore({ client: cluster });
    client = clientFor(op, 'webApp', { cacheStore: store });
  });
  after(async () => {
    cluster.disconnect();
    for (const server of servers) await server.stop();
    await op.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('spreads partitions over the masters and reads and writes each in its slot', async () => {
    const partitions = Array.from({ length: 60 }, (_, i) => `session-${i}`);
    for (const partition of partitions) {
      await store.write(partition, { set: { [`k-${partition}`]: { client_id: partition, environment: 'e' } }, remove: [] });
    }
    const slots = new Set<number>();
    for (const partition of partitions) {
      assert.deepEqual(await store.read(partition), { [`k-${partition}`]: { client_id: partition, environment: 'e' } });
      slots.add(Number(await cluster.call('CLUSTER', 'KEYSLOT', store.keyOf(partition))));
    }
    assert.ok(slots.size > 3, 'partitions land in different slots');
    const keysPerMaster = await Promise.all(cluster.nodes('master').map((node) => node.dbsize()));
    assert.equal(keysPerMaster.filter((n) => n > 0).length, 3, `every master holds partitions: ${keysPerMaster.join(', ')}`);
    await store.write('session-0', { set: {}, remove: ['k-session-0'] });
    assert.deepEqual(await store.read('session-0'), {});
  });

  it('durability replica on masters without replicas: no WAIT, a warning, the write done', async () => {
    const warnings: Record<string, unknown>[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (obj: Record<string, unknown>) => void warnings.push(obj) };
    const durable = new RedisTokenCacheStore({ client: cluster, prefix: 'no-replica:', logger });
    const started = performance.now();
    await durable.write('p', { set: { rt: { home_account_id: 'h', environment: 'e', credential_type: 'RefreshToken', client_id: 'c', secret: 's' } }, remove: [] });
    await durable.write('q', { set: { rt: { home_account_id: 'h', environment: 'e', credential_type: 'RefreshToken', client_id: 'c', secret: 't' } }, remove: [] });
    const release = await durable.lock('q');
    await release();
    assert.ok(performance.now() - started < 400, 'no WAIT timeout was sat out');
    assert.deepEqual(warnings.map((w) => w.unacknowledgedPartitions), [1], 'reported once, not per refresh');
    assert.equal(Object.keys(await durable.read('p')).length, 1);
  });

  it('signs in, serves from cache and refreshes under the lock through the cluster', async () => {
    const { account, accessToken } = await signIn(op, client, { partition: 'cluster-user' });
    const hit = await client.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'cluster-user' });
    assert.equal(hit.accessToken, accessToken);
    await expireAccessTokens(client, 'cluster-user');
    op.resetStats();
    const results = await Promise.all(Array.from({ length: 10 }, () => client.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'cluster-user' })));
    assert.equal(new Set(results.map((r) => r.accessToken)).size, 1);
    assert.equal(tokenRequests(op, 'refresh_token'), 1);
    assert.equal(await cluster.exists(`${store.keyOf('cluster-user')}:lock`), 0, 'lock released');
  });

  it('wakes a lock waiter on another Cluster client at the release (PUBLISH crosses the nodes)', async () => {
    const other = new Cluster(servers.map((s) => ({ host: '127.0.0.1', port: s.port })), { redisOptions: { maxRetriesPerRequest: 1 } });
    try {
      await new Promise<void>((resolve, reject) => {
        other.once('ready', () => resolve());
        other.once('error', reject);
      });
      const waiterStore = new RedisTokenCacheStore({ client: other });
      // Partitions in slots of different masters: the subscriber sits on one node, the release runs on another.
      const partitions = ['wake-a', 'wake-b', 'wake-c', 'wake-d', 'wake-e', 'wake-f'];
      const masters = new Set<number>();
      for (const partition of partitions) {
        const slot = Number(await cluster.call('CLUSTER', 'KEYSLOT', store.keyOf(partition)));
        masters.add(Math.floor((slot * 3) / SLOTS));
        const release = await store.lock(partition);
        const waiting = waiterStore.lock(partition).then((r) => ({ release: r, at: performance.now() }));
        await new Promise((r) => setTimeout(r, 30));
        await release();
        const releasedAt = performance.now();
        const got = await waiting;
        // The waiter's first fallback poll comes 100+ ms after its last attempt (~30 ms before the
        // release), so under 40 ms is the message; the bound leaves room for a busy shared machine.
        assert.ok(got.at - releasedAt < 40, `${partition}: woken ${(got.at - releasedAt).toFixed(1)} ms after the release`);
        await got.release();
      }
      assert.ok(masters.size > 1, 'the partitions span masters');
    } finally {
      other.disconnect();
    }
  });
});
