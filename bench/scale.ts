/**
 * (6) Scale in sessions: silent cache-hit latency on one partition of a Redis holding 1k
 * partitions against one holding 100k, and bytes per session for one user with 3 access tokens,
 * authflow's HASH vs msal-node's serialized cache of the same entities stored as one string
 * (MEMORY USAGE both).
 *
 * The two sizes are two redis-server processes of the bench's own (the same binary, the same
 * settings, empty but for this row), filled once (fillers are server-side COPYs of a real
 * partition: same fields, same sizes), then measured in alternating rounds: the machine's drift
 * over seconds falls on both alike. (One server filled and shrunk in turn put seconds, and
 * Redis's own rehashing after each fill, between the figures compared.)
 */
import { ConfidentialClientApplication } from '@azure/msal-node';
import { Redis } from 'ioredis';
import { RedisTokenCacheStore } from '../src/index.js';
import { startRedisServer } from '../test/helpers/redis.js';
import {
  INVENTORY, ORDERS, clientFor, fmt, judged, latencies, mintAccessTokens, percentile, reported, signIn,
  type BenchContext, type MeasurementResult, type MsalJson,
} from './common.js';

const SIZES = { small: 1_000, large: 100_000 } as const;
const ROUNDS = 10;
const CALLS_PER_ROUND = 300;
const BATCH = 5_000;
/** After a fill, Redis rehashes its grown keyspace table in the background (~1 ms per 100 ms): left to finish first. */
const SETTLE_MS = 2_000;

/** A redis-server of this row's own (test/helpers/redis.ts: no persistence, loopback only) and a client of it; `stop` ends both. */
async function ownRedis(name: string): Promise<{ redis: Redis; stop: () => Promise<void> }> {
  const server = await startRedisServer();
  const redis = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true, connectionName: name, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
  } catch (err) {
    await server.stop();
    throw err;
  }
  return { redis, stop: async () => { redis.disconnect(); await server.stop(); } };
}

export async function scale(ctx: BenchContext): Promise<MeasurementResult> {
  const small = await ownRedis('bench-scale-1k');
  const large = await ownRedis('bench-scale-100k').catch(async (err: unknown) => {
    await small.stop();
    throw err;
  });
  const servers = { small, large };
  try {
    return await measure(ctx, { small: servers.small.redis, large: servers.large.redis });
  } finally {
    await Promise.all([servers.small.stop(), servers.large.stop()]);
  }
}

async function measure(ctx: BenchContext, servers: Record<keyof typeof SIZES, Redis>): Promise<MeasurementResult> {
  const { op } = ctx;
  const prefix = 'scale:tc:';
  // The store path (no local copy), so the figure is about Redis at 1k and 100k partitions; with
  // the default local copy a hit does not reach Redis at all.
  const stores = { small: new RedisTokenCacheStore({ client: servers.small, prefix }), large: new RedisTokenCacheStore({ client: servers.large, prefix }) };
  const clients = {
    small: clientFor(op, 'webApp', { cacheStore: stores.small, localCacheSeconds: 0 }),
    large: clientFor(op, 'webApp', { cacheStore: stores.large, localCacheSeconds: 0 }),
  };
  const source = 's.scale-source';
  const { account } = await signIn(op, clients.small, source);
  await clients.small.acquireTokenSilent({ scopes: INVENTORY, account: account!, partition: source });
  const exported = JSON.parse(await clients.small.exportCache(source)) as MsalJson;
  const threeTokens = mintAccessTokens(exported, 3 - Object.keys(exported.AccessToken).length);
  const target = 's.scale-target';
  await clients.small.clearCache(source);
  // The same key name on both servers (one prefix).
  const targetKey = stores.large.keyOf(target);

  // Fillers: partitions s.fill-<i>, copies of the target made by Redis itself (the target is one of the size).
  const fillMs: Record<string, number> = {};
  for (const size of ['small', 'large'] as const) {
    const t = performance.now();
    await clients[size].importCache(target, threeTokens);
    for (let filled = 1; filled < SIZES[size];) {
      const pipeline = servers[size].pipeline();
      const end = Math.min(SIZES[size], filled + BATCH);
      for (let i = filled; i < end; i++) pipeline.copy(targetKey, stores[size].keyOf(`s.fill-${i}`));
      const results = await pipeline.exec();
      const failed = results?.find(([err, copied]) => err || copied !== 1);
      if (failed) throw new Error(`COPY failed: ${String(failed[0] ?? failed[1])}`);
      filled = end;
    }
    fillMs[size] = performance.now() - t;
  }
  const dbSizes = { small: await servers.small.dbsize(), large: await servers.large.dbsize() };
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

  const scopes = [ORDERS, INVENTORY, ['api://bench-0/Data.Read']];
  const call = (size: keyof typeof SIZES) => async (i: number): Promise<void> => {
    const r = await clients[size].acquireTokenSilent({ scopes: scopes[i % scopes.length]!, account: account!, partition: target });
    if (!r.fromCache) throw new Error('scale: a call missed the cache');
  };
  const all = { small: [] as number[], large: [] as number[] };
  const roundP50s = { small: [] as number[], large: [] as number[] };
  for (const size of ['small', 'large'] as const) await latencies(call(size), CALLS_PER_ROUND);
  for (let round = 0; round < ROUNDS; round++) {
    for (const size of round % 2 === 0 ? ['small', 'large'] as const : ['large', 'small'] as const) {
      const sorted = await latencies(call(size), CALLS_PER_ROUND);
      roundP50s[size].push(percentile(sorted, 50));
      all[size].push(...sorted);
    }
  }
  const sortedAll = { small: all.small.sort((a, b) => a - b), large: all.large.sort((a, b) => a - b) };
  const p = (size: keyof typeof SIZES, q: 50 | 99): number => percentile(sortedAll[size], q);
  const ratio50 = p('large', 50) / p('small', 50);
  const ratio99 = p('large', 99) / p('small', 99);
  const redis = servers.large;

  // Bytes per session: the target partition (1 user, 3 access tokens) in both forms.
  const authflowBytes = Number(await redis.call('MEMORY', 'USAGE', targetKey, 'SAMPLES', '0'));
  const fields = await redis.hgetall(targetKey);
  const payload = Object.entries(fields).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  const msal = new ConfidentialClientApplication({
    auth: { clientId: op.clients.webApp.clientId, clientSecret: op.clients.webApp.clientSecret!, authority: 'https://127.0.0.1/unused/v2.0', knownAuthorities: ['127.0.0.1'] },
  });
  msal.getTokenCache().deserialize(await clients.large.exportCache(target));
  const serialized = msal.getTokenCache().serialize();
  const msalKey = 'scale:msal';
  await redis.set(msalKey, serialized);
  const msalBytes = Number(await redis.call('MEMORY', 'USAGE', msalKey, 'SAMPLES', '0'));
  const msalAccessTokens = Object.keys((JSON.parse(serialized) as MsalJson).AccessToken).length;

  const ms = (v: number): string => fmt(v, 3);
  return {
    rows: [
      {
        measurement: '6a. Cache-hit latency from Redis (no local copy) p50, 100k vs 1k partitions (ms)', authflow: `100k: ${ms(p('large', 50))}`, baseline: `1k partitions: ${ms(p('small', 50))}`,
        ...judged(ratio50, { atMost: 1.2 }),
      },
      {
        measurement: '6b. Cache-hit latency from Redis (no local copy) p99, 100k vs 1k partitions (ms)', authflow: `100k: ${ms(p('large', 99))}`, baseline: `1k partitions: ${ms(p('small', 99))}`,
        ...judged(ratio99, { atMost: 1.2 }),
      },
      {
        measurement: '6c. Bytes per session in Redis (1 user, 3 access tokens)', authflow: `${fmt(authflowBytes)} (HASH, MEMORY USAGE)`,
        baseline: `msal-node serialized cache as a string: ${fmt(msalBytes)}`, ...reported(authflowBytes / msalBytes),
      },
    ],
    details: [
      `(6) two redis-server processes of this row's own (same binary and settings, loopback), one holding ${fmt(dbSizes.small)} partitions, the other ${fmt(dbSizes.large)} `
        + `(COPYs of a real one: ${Object.keys(fields).length} fields, ${fmt(payload)} bytes of fields + values; fill ms ${fmt(fillMs.small!, 0)} / ${fmt(fillMs.large!, 0)}, then ${SETTLE_MS / 1000} s for Redis to rehash); `
        + `after ${CALLS_PER_ROUND} warm-up calls each, ${ROUNDS} alternating rounds of ${CALLS_PER_ROUND} sequential acquireTokenSilent on one partition, 3 scopes in turn; percentiles over all ${fmt(ROUNDS * CALLS_PER_ROUND)} calls of each.`,
      `    p50 ms per round  1k [${roundP50s.small.map(ms).join(', ')}]  100k [${roundP50s.large.map(ms).join(', ')}]`,
      `    bytes: authflow HASH ${fmt(authflowBytes)} (MEMORY USAGE SAMPLES 0; payload ${fmt(payload)}); msal-node TokenCache.serialize() ${fmt(serialized.length)} characters `
        + `(${msalAccessTokens} access tokens), ${fmt(msalBytes)} as a Redis string`,
    ],
  };
}
