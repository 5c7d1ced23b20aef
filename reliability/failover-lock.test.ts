/**
 * A refresh lock that survives a failover, on a Cluster of 3 masters + 3 replicas
 * (reliability/topology.ts): instance A takes the partition's lock and is at the OP (the dev OP's
 * token endpoint held back) when the master serving the partition is SIGKILLed; its replica is
 * promoted; instance B then wants a token for the same partition. With `durability: 'replica'` the
 * lock was on the replica before A redeemed the refresh token, so B waits, re-reads the partition
 * under the lock and serves A's token: one refresh at the OP, no `invalid_grant`, the rotated
 * refresh token kept. The control: a lock that never reached the replica (durability 'none', the
 * replica cut off with CLIENT PAUSE while A locks) is gone after the failover and B redeems the
 * same refresh token again, which the OP refuses (rotation reuse). And a refresh-token write sent
 * to a master SIGSTOPped past `cluster-node-timeout`: the woken master applies it, learns it was
 * replaced and drops it; with durability 'replica' the unacknowledged write is sent again and lands
 * on the promoted replica (the control, durability 'none', loses it).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from 'ioredis';
import { RedisTokenCacheStore, type ConfidentialClient, type TokenResult } from '../src/index.js';
import { cachedRefreshToken, clientFor, expireAccessTokens, signIn, startDevOp, tokenRequests, type DevOp } from '../test/helpers/op.js';
import { onNode, partitionReplica, startCluster, type ClusterTopology } from './topology.js';
import { report } from './harness.js';

const ORDERS = ['api://orders/Orders.Read'];
const OP_DELAY_MS = 4000;

describe('refresh lock across a Cluster failover', () => {
  let op: DevOp;
  let topology: ClusterTopology;
  const connections: Cluster[] = [];

  before(async () => {
    op = await startDevOp();
    topology = await startCluster();
  });
  after(async () => {
    for (const c of connections) c.disconnect();
    await topology?.stop();
    await op?.close();
  });

  async function instance(durability: 'replica' | 'none'): Promise<{ client: ConfidentialClient; store: RedisTokenCacheStore; cluster: Cluster }> {
    const cluster = new Cluster(topology.seeds, { enableOfflineQueue: false, redisOptions: { maxRetriesPerRequest: 1, connectTimeout: 500 }, retryDelayOnFailover: 100 });
    cluster.on('error', () => undefined);
    connections.push(cluster);
    await new Promise<void>((resolve) => cluster.once('ready', () => resolve()));
    const store = new RedisTokenCacheStore({ client: cluster, prefix: `lock-${durability}:`, durability, lockTtlMs: 15_000 });
    return { client: clientFor(op, 'webApp', { cacheStore: store, timeoutMs: OP_DELAY_MS + 4000 }), store, cluster };
  }

  /** Kills the master serving `key`, waits for its replica's promotion, restarts it (as a replica); ms to promotion. */
  async function failOver(key: string, during: () => Promise<void> = async () => undefined): Promise<number> {
    const slot = Number(await onNode(topology.replicas[0]!, (r) => r.call('CLUSTER', 'KEYSLOT', key)));
    const old = await topology.masterOf(slot);
    const victim = topology.masters.concat(topology.replicas).find((n) => n.key === old)!;
    await during();
    const killed = Date.now();
    await victim.kill();
    for (;;) {
      const now = await topology.masterOf(slot).catch(() => old);
      if (now !== old) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const promotedAfter = Date.now() - killed;
    await victim.restart();
    return promotedAfter;
  }

  async function scenario(durability: 'replica' | 'none', partition: string) {
    const a = await instance(durability);
    const b = await instance(durability);
    const { account } = await signIn(op, a.client, { partition });
    await expireAccessTokens(a.client, partition);
    const refreshTokenBefore = await cachedRefreshToken(a.client, partition);
    op.resetStats();
    op.faults.set({ tokenEndpoint: 'slow', slowMs: OP_DELAY_MS });
    const key = a.store.keyOf(partition);
    const lockKey = `${key}:lock`;
    // durability 'none': the replica is cut off while A locks, so the lock exists on the master only.
    const cutOff = durability === 'none'
      ? async () => {
        const slot = Number(await onNode(topology.replicas[0]!, (r) => r.call('CLUSTER', 'KEYSLOT', key)));
        const master = await topology.masterOf(slot);
        const index = topology.masters.concat(topology.replicas).findIndex((n) => n.key === master);
        const replica = [...topology.replicas, ...topology.masters][index]!;
        await partitionReplica(replica, 3000);
      }
      : async () => undefined;
    let aResult: Promise<TokenResult> | undefined;
    const promotedAfter = await failOver(key, async () => {
      await cutOff();
      aResult = a.client.acquireTokenSilent({ scopes: ORDERS, account: account!, partition });
      // A holds the lock and is at the OP before the master dies.
      for (let i = 0; i < 40 && !(await a.cluster.exists(lockKey).catch(() => 0)); i++) await new Promise((resolve) => setTimeout(resolve, 25));
      await new Promise((resolve) => setTimeout(resolve, 300));
    });
    op.faults.clear();
    const bStarted = Date.now();
    const [fromA, fromB] = await Promise.allSettled([aResult!, (async () => {
      // B asks once the slot has its new master (a request before that gets a quick 503, by design).
      for (;;) {
        try {
          return await b.client.acquireTokenSilent({ scopes: ORDERS, account: account!, partition });
        } catch (err) {
          if ((err as { code?: string }).code !== 'store_unavailable' || Date.now() - bStarted > 10_000) throw err;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    })()]);
    await topology.healthy();
    return {
      fromA, fromB, promotedAfter,
      refreshes: tokenRequests(op, 'refresh_token'),
      invalidGrants: op.lastErrors().filter((e) => e.error === 'invalid_grant').length,
      rotated: (await cachedRefreshToken(b.client, partition)) !== refreshTokenBefore,
    };
  }

  it('with durability replica: B waits for A, one refresh, no invalid_grant, the rotated refresh token kept', { timeout: 90_000 }, async () => {
    const result = await scenario('replica', 'lock-durable');
    assert.equal(result.fromA.status, 'fulfilled', `A: ${result.fromA.status === 'rejected' ? String(result.fromA.reason) : ''}`);
    assert.equal(result.fromB.status, 'fulfilled', `B: ${result.fromB.status === 'rejected' ? String(result.fromB.reason) : ''}`);
    const tokenA = (result.fromA as PromiseFulfilledResult<TokenResult>).value.accessToken;
    const tokenB = (result.fromB as PromiseFulfilledResult<TokenResult>).value.accessToken;
    report('failover-lock (Cluster)', {
      promotedAfterMs: result.promotedAfter, refreshesAtOp: result.refreshes, invalidGrantAtOp: result.invalidGrants,
      sameTokenForBoth: tokenA === tokenB, rotatedRefreshTokenKept: result.rotated,
    });
    assert.equal(result.refreshes, 1, 'B did not redeem the refresh token A was redeeming');
    assert.equal(result.invalidGrants, 0);
    assert.equal(tokenA, tokenB, 'B served the token A fetched');
    assert.ok(result.rotated, 'the rotated refresh token is in the cache');
  });

  for (const durability of ['replica', 'none'] as const) {
    it(`a refresh-token write to a master paused past its failover is ${durability === 'replica' ? 'kept' : 'lost (control: durability none)'}`, { timeout: 60_000 }, async () => {
      const { store, cluster } = await instance(durability);
      const partition = `paused-${durability}`;
      const rt = (secret: string) => ({ home_account_id: 'h', environment: 'e', credential_type: 'RefreshToken', client_id: 'c', secret });
      await store.write(partition, { set: { rt: rt('before') }, remove: [] });
      const slot = Number(await cluster.call('CLUSTER', 'KEYSLOT', store.keyOf(partition)));
      const master = await topology.masterOf(slot);
      const paused = [...topology.masters, ...topology.replicas].find((n) => n.key === master)!.pause(4 * 1000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const written = await store.write(partition, { set: { rt: rt('rotated') }, remove: [] }).then(() => true, () => false);
      await paused;
      await topology.healthy();
      assert.notEqual(await topology.masterOf(slot), master, 'the paused master was replaced');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const kept = (await store.read(partition)).rt?.['secret' as keyof object] === 'rotated';
      if (durability === 'replica') {
        assert.ok(written, 'the write call succeeded');
        assert.ok(kept, 'the rotated refresh token is on the new master');
      } else {
        assert.ok(!(written && kept), 'without durability the write failed or was lost');
      }
    });
  }

  it('control, a lock no replica had: the failover loses it and B spends the same refresh token again', { timeout: 90_000 }, async () => {
    const result = await scenario('none', 'lock-lost');
    assert.equal(result.refreshes, 2, 'B redeemed the refresh token while A was at the OP');
    assert.ok(result.invalidGrants >= 1, 'the OP refused the reused refresh token');
  });
});
