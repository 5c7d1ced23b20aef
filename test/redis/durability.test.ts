/**
 * RedisTokenCacheStore's `durability` on a real Redis Cluster of 3 masters + 3 replicas
 * (reliability/topology.ts, loopback, torn down here): a write storing a refresh token, and a lock
 * taken, send `WAIT 1` to the master serving the key's slot (counted in each master's
 * commandstats), never to another node; access-token-only writes send none; a replica cut off with
 * CLIENT PAUSE leaves the write done and a warning that counts partitions without naming them.
 * The slot function against Redis' own CLUSTER KEYSLOT, and the option refusals. On Sentinel
 * (1 master, 2 replicas, 3 sentinels): the default is 'replica' and WAIT goes to the master.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, Redis } from 'ioredis';
import { AuthError, RedisTokenCacheStore, type Logger } from '../../src/index.js';
import { durabilityOf, keySlot } from '../../src/stores/redisDurability.js';
import { onNode, partitionReplica, startCluster, startSentinel, type ClusterTopology, type SentinelTopology } from '../../reliability/topology.js';

const refreshToken = (partition: string) => ({
  home_account_id: `uid-${partition}`, environment: 'login.example', credential_type: 'RefreshToken', client_id: 'app', secret: `rt-${partition}`,
});
const accessToken = (partition: string) => ({
  home_account_id: `uid-${partition}`, environment: 'login.example', credential_type: 'AccessToken', client_id: 'app', realm: 't',
  target: 'api://orders/orders.read', secret: `at-${partition}`, cached_at: '1', expires_on: '9999999999',
});

function recordingLogger(): Logger & { warnings: { obj: Record<string, unknown>; msg?: string }[] } {
  const warnings: { obj: Record<string, unknown>; msg?: string }[] = [];
  const noop = () => undefined;
  return { warnings, debug: noop, info: noop, error: noop, warn: (obj, msg) => void warnings.push({ obj, ...(msg ? { msg } : {}) }) };
}

describe('keySlot', () => {
  it('maps keys to slots as Redis Cluster does (hash tags included)', () => {
    // Expected values are Redis 7's own CLUSTER KEYSLOT answers.
    const table: [string, number][] = [
      ['foo', 12182], ['a{x}', 16287], ['authflow:tc:{session-1}', 15928], ['{}', 15257], ['a{}b{c}', 7353], ['é{ü}', 9552],
    ];
    for (const [key, slot] of table) assert.equal(keySlot(key), slot, key);
  });
});

describe('RedisTokenCacheStore durability on a Cluster with replicas', () => {
  let topology: ClusterTopology;
  let cluster: Cluster;

  before(async () => {
    topology = await startCluster();
    cluster = new Cluster(topology.seeds, { enableOfflineQueue: false, redisOptions: { maxRetriesPerRequest: 1 } });
    await new Promise<void>((resolve, reject) => {
      cluster.once('ready', () => resolve());
      cluster.once('error', reject);
    });
    // The client connects to each master on first use: every master connection is ready before a test counts WAITs on it.
    await Promise.all(cluster.nodes('master').map((node) => node.ping()));
  });
  after(async () => {
    cluster?.disconnect();
    await topology?.stop();
  });

  const waitCalls = () => Promise.all(topology.masters.map((m) => onNode(m, async (r) => Number(/cmdstat_wait:calls=(\d+)/.exec(await r.info('commandstats'))?.[1] ?? 0))));
  /** Which of the three masters serves `key` (asked of the cluster, not computed here). */
  const masterIndex = async (key: string) => topology.masters.map((m) => m.key).indexOf(await topology.masterOf(Number(await cluster.call('CLUSTER', 'KEYSLOT', key))));

  it('computes the same slot as the cluster for partition keys', async () => {
    const store = new RedisTokenCacheStore({ client: cluster });
    for (let i = 0; i < 30; i++) {
      const key = store.keyOf(`session-${i}`);
      assert.equal(keySlot(key), Number(await cluster.call('CLUSTER', 'KEYSLOT', key)), key);
    }
  });

  it('defaults to replica on a Cluster and to none on a single Redis; refuses anything else', () => {
    assert.equal(durabilityOf(undefined, cluster), 'replica');
    const single = new Redis({ lazyConnect: true });
    const sentinel = new Redis({ lazyConnect: true, sentinels: [{ host: '127.0.0.1', port: 1 }], name: 'x' });
    try {
      assert.equal(durabilityOf(undefined, single), 'none');
      assert.equal(durabilityOf(undefined, sentinel), 'replica');
      assert.equal(durabilityOf('replica', single), 'replica');
      for (const durability of ['majority', 'all', '', 1, true, null]) {
        assert.throws(() => new RedisTokenCacheStore({ client: cluster, durability: durability as never }), (err: AuthError) => err.code === 'invalid_config' && /durability/.test(err.description ?? ''), String(durability));
      }
      for (const durabilityTimeoutMs of [0, -1, 1.5, 60_001, '500']) {
        assert.throws(() => new RedisTokenCacheStore({ client: cluster, durabilityTimeoutMs: durabilityTimeoutMs as never }), (err: AuthError) => err.code === 'invalid_config' && /durabilityTimeoutMs/.test(err.description ?? ''), String(durabilityTimeoutMs));
      }
    } finally {
      single.disconnect();
      sentinel.disconnect();
    }
  });

  it('sends WAIT to the master that took a refresh-token write, none for access tokens or with durability none', async () => {
    const store = new RedisTokenCacheStore({ client: cluster, prefix: 'dur-route:' });
    const none = new RedisTokenCacheStore({ client: cluster, prefix: 'dur-none:', durability: 'none' });
    for (let i = 0; i < 9; i++) {
      const partition = `route-${i}`;
      const target = await masterIndex(store.keyOf(partition));
      const before = await waitCalls();
      await store.write(partition, { set: { at: accessToken(partition) }, remove: [] });
      await none.write(partition, { set: { rt: refreshToken(partition) }, remove: [] });
      assert.deepEqual(await waitCalls(), before, `${partition}: no WAIT for an access token, nor with durability none`);
      await store.write(partition, { set: { rt: refreshToken(partition) }, remove: [] });
      const after = await waitCalls();
      assert.deepEqual(after.map((n, m) => n - before[m]!), [0, 1, 2].map((m) => (m === target ? 1 : 0)), `${partition}: WAIT on master ${target} only`);
      const release = await store.lock(partition);
      assert.deepEqual((await waitCalls()).map((n, m) => n - after[m]!), [0, 1, 2].map((m) => (m === target ? 1 : 0)), `${partition}: the lock waits on master ${target}`);
      await release();
    }
  });

  it('warns, with a count and no partition, when the replica is cut off; the write stands', { timeout: 30_000 }, async () => {
    const logger = recordingLogger();
    const store = new RedisTokenCacheStore({ client: cluster, prefix: 'dur-cut:', durabilityTimeoutMs: 200, logger });
    const partition = 'alice-session-7f3e';
    const target = await masterIndex(store.keyOf(partition));
    // Another master's replica cut off: this write is still acknowledged (WAIT went to the right master).
    await partitionReplica(topology.replicas[(target + 1) % 3]!, 1500);
    await store.write(partition, { set: { rt: refreshToken(partition) }, remove: [] });
    assert.equal(logger.warnings.length, 0, 'acknowledged by its own master\'s replica');
    await partitionReplica(topology.replicas[target]!, 1500);
    const started = performance.now();
    await store.write(partition, { set: { rt2: refreshToken(`${partition}-2`) }, remove: [] });
    const ms = performance.now() - started;
    await store.write(`${partition}-b`, { set: { at: accessToken(partition) }, remove: [] });
    assert.ok(ms >= 150 && ms < 1000, `waited about durabilityTimeoutMs: ${ms.toFixed(0)} ms`);
    assert.equal(logger.warnings.length, 1);
    assert.equal(logger.warnings[0]!.obj.unacknowledgedPartitions, 1);
    assert.doesNotMatch(JSON.stringify(logger.warnings), /alice|7f3e|rt-/, 'the warning names no partition and no token');
    assert.equal(Object.keys(await store.read(partition)).length, 2, 'the write was done');
    await new Promise((resolve) => setTimeout(resolve, 1400));
  });
});

describe('RedisTokenCacheStore durability through Sentinel', () => {
  let topology: SentinelTopology;
  let redis: Redis;

  before(async () => {
    topology = await startSentinel();
    redis = new Redis({ sentinels: topology.sentinels.map((n) => ({ host: '127.0.0.1', port: n.port })), name: topology.name, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    await new Promise<void>((resolve, reject) => {
      redis.once('ready', () => resolve());
      redis.once('error', reject);
    });
  });
  after(async () => {
    redis?.disconnect();
    await topology?.stop();
  });

  it('waits on the master for a refresh-token write; warns when both replicas are cut off', { timeout: 30_000 }, async () => {
    const logger = recordingLogger();
    const store = new RedisTokenCacheStore({ client: redis, prefix: 'dur-sentinel:', durabilityTimeoutMs: 200, logger });
    const master = await topology.masterNode();
    const waits = () => onNode(master, async (r) => Number(/cmdstat_wait:calls=(\d+)/.exec(await r.info('commandstats'))?.[1] ?? 0));
    const before = await waits();
    await store.write('s1', { set: { rt: refreshToken('s1') }, remove: [] });
    assert.equal(await waits(), before + 1, 'one WAIT on the master');
    assert.equal(logger.warnings.length, 0);
    await Promise.all(topology.servers.filter((s) => s !== master).map((replica) => partitionReplica(replica, 1200)));
    await store.write('s2', { set: { rt: refreshToken('s2') }, remove: [] });
    assert.equal(logger.warnings.length, 1);
    assert.equal(logger.warnings[0]!.obj.unacknowledgedPartitions, 1);
    await new Promise((resolve) => setTimeout(resolve, 1300));
  });
});
