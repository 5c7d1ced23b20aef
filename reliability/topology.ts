/**
 * Replicated Redis of the failover suites' own, on loopback, in a temp dir, torn down by the test:
 * a Cluster of 3 masters + 3 replicas (ports from 7100) and a Sentinel set-up of 1 master,
 * 2 replicas and 3 sentinels (ports from 7200). Faults: SIGKILL a node, SIGSTOP it (beyond
 * `cluster-node-timeout` / `down-after-milliseconds`), cut a replica off with CLIENT PAUSE, restart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** Failure detection in both set-ups, ms (cluster-node-timeout, down-after-milliseconds). */
export const NODE_TIMEOUT_MS = 1000;
const SLOTS = 16384;
const MASTER_NAME = 'authflow';

/** One redis-server process (a sentinel is redis-server --sentinel: no redis-sentinel package needed). */
export interface Node {
  port: number;
  /** `host:port`, as ioredis and Redis name nodes. */
  key: string;
  process: ChildProcess;
  /** SIGKILL; resolves when the process is gone. */
  kill(): Promise<void>;
  /** SIGSTOP now, SIGCONT after `ms`. */
  pause(ms: number): Promise<void>;
  /** Starts the process again with the same arguments (same port, same dir). */
  restart(): Promise<void>;
  admin(): Redis;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** `count` free consecutive ports from `from` (within 100 of it). */
async function freePorts(from: number, count: number): Promise<number[]> {
  for (let base = from; base + count <= from + 100; base += count) {
    const ports = Array.from({ length: count }, (_, i) => base + i);
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return ports;
  }
  throw new Error(`no ${count} free ports from ${from}`);
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(300, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data: Buffer) => done(data.toString().startsWith('+PONG')));
  });
}

/** Every process started here, killed if the test process exits without tearing down. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

async function startNode(binary: string, port: number, args: string[]): Promise<Node> {
  let child: ChildProcess;
  const launch = async (): Promise<void> => {
    const started = spawn(binary, args, { stdio: 'ignore' });
    child = started;
    running.add(started);
    started.once('exit', () => running.delete(started));
    await until(`${binary} on ${port}`, () => answersPing(port), 10_000);
  };
  await launch();
  const node: Node = {
    port,
    key: `127.0.0.1:${port}`,
    get process() {
      return child;
    },
    kill: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    }),
    async pause(ms) {
      child.kill('SIGSTOP');
      await sleep(ms);
      child.kill('SIGCONT');
    },
    restart: launch,
    admin: () => new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0, connectTimeout: 1000, commandTimeout: 2000, retryStrategy: () => null }),
  };
  return node;
}

/** Runs `work` on a short-lived admin connection to `node`. */
export async function onNode<T>(node: Node, work: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = node.admin();
  redis.on('error', () => undefined);
  try {
    return await work(redis);
  } finally {
    redis.disconnect();
  }
}

/**
 * Cuts `replica` off its master for `ms`: CLIENT PAUSE on the replica holds back the commands of
 * every client, the master's replication link included, so it acknowledges nothing meanwhile.
 */
export const partitionReplica = (replica: Node, ms: number): Promise<unknown> => onNode(replica, (r) => r.call('CLIENT', 'PAUSE', String(ms), 'ALL'));

const baseArgs = (port: number, dir: string): string[] => [
  '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'no',
  // A replica (re)joining syncs at once, not after the default 5 s of waiting for others.
  '--repl-diskless-sync-delay', '0',
];

/** A Redis Cluster: `masters[i]` serves slot range i, `replicas[i]` replicates it. */
export interface ClusterTopology {
  masters: Node[];
  replicas: Node[];
  /** Seed nodes for ioredis `Cluster`. */
  seeds: { host: string; port: number }[];
  /** The node currently serving `slot` as master (asked of a live node). */
  masterOf(slot: number): Promise<string>;
  /** Resolves when every slot is served and `cluster_state:ok` on every live node. */
  healthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startCluster(): Promise<ClusterTopology> {
  const dir = mkdtempSync(join(tmpdir(), 'authflow-failover-cluster-'));
  const ports = await freePorts(7100, 6);
  const nodes = await Promise.all(ports.map((port) => startNode('redis-server', port, [
    ...baseArgs(port, dir), '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
    '--cluster-node-timeout', String(NODE_TIMEOUT_MS), '--repl-ping-replica-period', '1',
  ])));
  const masters = nodes.slice(0, 3);
  const replicas = nodes.slice(3);
  const alive = (): Node[] => nodes.filter((n) => n.process.exitCode === null && n.process.signalCode === null);
  const topology: ClusterTopology = {
    masters,
    replicas,
    seeds: nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
    async masterOf(slot) {
      for (const node of alive()) {
        const ranges = await onNode(node, (r) => r.call('CLUSTER', 'SLOTS') as Promise<[number, number, [string, number]][]>).catch(() => undefined);
        const range = ranges?.find(([first, last]) => slot >= first && slot <= last);
        if (range) return `${range[2][0]}:${range[2][1]}`;
      }
      throw new Error(`no live node knows slot ${slot}`);
    },
    async healthy(timeoutMs = 20_000) {
      await until('cluster healthy', async () => {
        for (const node of alive()) {
          const info = String(await onNode(node, (r) => r.call('CLUSTER', 'INFO')));
          if (!info.includes('cluster_state:ok') || !info.includes(`cluster_slots_ok:${SLOTS}`)) return false;
        }
        return true;
      }, timeoutMs);
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(masters.map((m, i) => onNode(m, (r) => r.call('CLUSTER', 'ADDSLOTSRANGE', String(Math.floor((SLOTS * i) / 3)), String(Math.floor((SLOTS * (i + 1)) / 3) - 1)))));
    for (const node of nodes.slice(1)) await onNode(nodes[0]!, (r) => r.call('CLUSTER', 'MEET', '127.0.0.1', String(node.port)));
    const ids = await Promise.all(masters.map((m) => onNode(m, (r) => r.call('CLUSTER', 'MYID') as Promise<string>)));
    for (const [i, replica] of replicas.entries()) {
      // A replica can only follow a master it already knows: wait for the gossip to reach it.
      await until('replica knows its master', () => onNode(replica, async (r) => String(await r.call('CLUSTER', 'NODES')).includes(ids[i]!)));
      await onNode(replica, (r) => r.call('CLUSTER', 'REPLICATE', ids[i]!));
    }
    await topology.healthy();
    for (const master of masters) {
      await until('replica in sync', () => onNode(master, async (r) => /slave0:.*state=online/.test(await r.info('replication'))));
    }
    // Every node's CLUSTER SLOTS names each range's replica (gossip reaches the nodes in turn): a
    // client learns its slot map from any one of them, and must know the replicas from the start.
    await until('every node sees the replicas', async () => {
      for (const node of nodes) {
        const ranges = await onNode(node, (r) => r.call('CLUSTER', 'SLOTS') as Promise<unknown[][]>);
        if (ranges.length !== masters.length || ranges.some((range) => range.length < 4)) return false;
      }
      return true;
    });
  } catch (err) {
    await topology.stop();
    throw err;
  }
  return topology;
}

/** Sentinel set-up: a master, two replicas, three sentinels watching them under the name `authflow`. */
export interface SentinelTopology {
  /** The data nodes; `servers[0]` is the first master. */
  servers: Node[];
  sentinels: Node[];
  name: string;
  /** The master's `host:port` as the sentinels see it now. */
  master(): Promise<string>;
  /** The data node that is master now. */
  masterNode(): Promise<Node>;
  stop(): Promise<void>;
}

export async function startSentinel(): Promise<SentinelTopology> {
  const dir = mkdtempSync(join(tmpdir(), 'authflow-failover-sentinel-'));
  const ports = await freePorts(7200, 6);
  const [masterPort, ...rest] = ports.slice(0, 3);
  const servers = [await startNode('redis-server', masterPort!, baseArgs(masterPort!, dir))];
  for (const port of rest) {
    servers.push(await startNode('redis-server', port, [...baseArgs(port, dir), '--replicaof', '127.0.0.1', String(masterPort), '--repl-ping-replica-period', '1']));
  }
  const sentinels: Node[] = [];
  const all = (): Node[] => [...servers, ...sentinels];
  const topology: SentinelTopology = {
    servers,
    sentinels,
    name: MASTER_NAME,
    async master() {
      for (const sentinel of sentinels) {
        const address = await onNode(sentinel, (r) => r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME) as Promise<[string, string]>).catch(() => undefined);
        if (address) return `${address[0]}:${address[1]}`;
      }
      throw new Error('no sentinel answers');
    },
    async masterNode() {
      const key = await topology.master();
      return servers.find((s) => s.key === key)!;
    },
    async stop() {
      await Promise.all(all().map((n) => n.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const port of ports.slice(3)) {
      const file = join(dir, `sentinel-${port}.conf`);
      writeFileSync(file, [
        `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`,
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
        `sentinel down-after-milliseconds ${MASTER_NAME} ${NODE_TIMEOUT_MS}`,
        `sentinel failover-timeout ${MASTER_NAME} 10000`,
        `sentinel parallel-syncs ${MASTER_NAME} 2`, '',
      ].join('\n'));
      sentinels.push(await startNode('redis-server', port, [file, '--sentinel']));
    }
    await until('replicas in sync', () => onNode(servers[0]!, async (r) => /slave1:.*state=online/.test(await r.info('replication'))));
    await until('sentinels see each other and the replicas', async () => {
      for (const sentinel of sentinels) {
        const master = await onNode(sentinel, (r) => r.call('SENTINEL', 'MASTER', MASTER_NAME) as Promise<string[]>);
        const field = (name: string) => Number(master[master.indexOf(name) + 1]);
        if (field('num-other-sentinels') < 2 || field('num-slaves') < 2) return false;
      }
      return true;
    });
  } catch (err) {
    await topology.stop();
    throw err;
  }
  return topology;
}
