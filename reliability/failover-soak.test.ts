/**
 * The 4-instance soak (50 users, FAILOVER_SECONDS, default 30 s) on a Redis Cluster of 3 masters
 * + 3 replicas and on Sentinel (1 master, 2 replicas, 3 sentinels), one master SIGKILLed a third
 * of the way in (reliability/soak.ts). Answers may fail (503) only while the master is down; no
 * session is lost, the OP sees no invalid_grant and no refresh token is redeemed twice.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDevOp, type DevOp } from '../test/helpers/op.js';
import { failoverSoak, SECONDS, TOKEN_LIFETIME, type Failover, type SoakFigures } from './soak.js';
import { startCluster, startSentinel, type ClusterTopology, type Node, type SentinelTopology } from './topology.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function check(figures: SoakFigures): void {
  assert.equal(figures.sessionsLost, 0, 'every session still refreshes after the failover');
  assert.equal(figures.invalidGrantAtOp, 0, 'no refresh token was refused by the OP');
  assert.equal(figures.duplicateRefreshes, 0, 'no expiry was refreshed twice');
  assert.equal(figures.errorsOutsideWindow, 0, 'errors only while the master was failing over');
  assert.match(figures.errorStatusesInWindow, /^(none|((503|0)x\d+ ?)+)$/, 'a failing store answers 503 (or the request times out), never a 500 or a sign-in');
  assert.ok(figures.timeToRecoverMs < 15_000, `recovered within 15 s (${figures.timeToRecoverMs} ms)`);
  assert.ok(figures.refreshesAtOp >= 50 * Math.floor(SECONDS / TOKEN_LIFETIME) * 0.5, `tokens were renewed (${figures.refreshesAtOp} refreshes)`);
  assert.ok(figures.workersAlive, 'every instance is still running');
}

describe('failover soak on Redis Cluster (3 masters + 3 replicas)', () => {
  let op: DevOp;
  let topology: ClusterTopology;

  before(async () => {
    op = await startDevOp({ accessTokenTtl: TOKEN_LIFETIME });
    topology = await startCluster();
  });
  after(async () => {
    await topology?.stop();
    await op?.close();
  });

  it(`50 users, 4 instances, ${SECONDS} s, a master killed: nothing lost`, { timeout: (SECONDS + 180) * 1000 }, async () => {
    let victim: Node | undefined;
    let oldMaster = '';
    const failover: Failover = {
      async kill() {
        // The master serving slot 0: a third of the partitions.
        oldMaster = await topology.masterOf(0);
        victim = [...topology.masters, ...topology.replicas].find((n) => n.key === oldMaster)!;
        await victim.kill();
      },
      async promoted() {
        while ((await topology.masterOf(0).catch(() => oldMaster)) === oldMaster) await sleep(50);
      },
      restart: () => victim!.restart(),
    };
    const figures = await failoverSoak('cluster', op, { REDIS_CLUSTER: topology.seeds.map((s) => `${s.host}:${s.port}`).join(',') }, failover);
    check(figures);
  });
});

describe('failover soak on Redis Sentinel (1 master, 2 replicas, 3 sentinels)', () => {
  let op: DevOp;
  let topology: SentinelTopology;

  before(async () => {
    op = await startDevOp({ accessTokenTtl: TOKEN_LIFETIME });
    topology = await startSentinel();
  });
  after(async () => {
    await topology?.stop();
    await op?.close();
  });

  it(`50 users, 4 instances, ${SECONDS} s, the master killed: nothing lost`, { timeout: (SECONDS + 180) * 1000 }, async () => {
    let victim: Node | undefined;
    const failover: Failover = {
      async kill() {
        victim = await topology.masterNode();
        await victim.kill();
      },
      async promoted() {
        while ((await topology.master().catch(() => victim!.key)) === victim!.key) await sleep(50);
      },
      restart: () => victim!.restart(),
    };
    const figures = await failoverSoak('sentinel', op, {
      REDIS_SENTINELS: topology.sentinels.map((s) => s.key).join(','),
      REDIS_SENTINEL_NAME: topology.name,
    }, failover);
    check(figures);
  });
});
