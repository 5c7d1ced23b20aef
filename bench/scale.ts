/**
 * (6) Scale in sessions: silent cache-hit latency on one partition with 1k vs 100k partitions in
 * Redis (fillers are server-side COPYs of a real partition: same fields, same sizes), alternating
 * 1k, 100k, 1k, 100k; and bytes per session for one user with 3 access tokens, authflow's HASH vs
 * msal-node's serialized cache of the same entities stored as one string (MEMORY USAGE both).
 */
import { ConfidentialClientApplication } from '@azure/msal-node';
import { RedisTokenCacheStore } from '../src/index.js';
import {
  INVENTORY, ORDERS, clientFor, fmt, judged, latencies, median, mintAccessTokens, percentile, signIn,
  type BenchContext, type MeasurementResult, type MsalJson,
} from './common.js';

const SIZES = [1_000, 100_000] as const;
const CALLS = 3_000;
const BATCH = 5_000;

export async function scale(ctx: BenchContext): Promise<MeasurementResult> {
  const { op, redis } = ctx;
  const prefix = `${ctx.prefix}scale:tc:`;
  const store = new RedisTokenCacheStore({ client: redis, prefix });
  // The store path (no local copy), so the figure is about Redis at 1k and 100k partitions; with
  // the default local copy a hit does not reach Redis at all.
  const client = clientFor(op, 'webApp', { cacheStore: store, localCacheSeconds: 0 });
  const source = 's.scale-source';
  const { account } = await signIn(op, client, source);
  await client.acquireTokenSilent({ scopes: INVENTORY, account: account!, partition: source });
  const exported = JSON.parse(await client.exportCache(source)) as MsalJson;
  const threeTokens = mintAccessTokens(exported, 3 - Object.keys(exported.AccessToken).length);
  const target = 's.scale-target';
  await client.importCache(target, threeTokens);
  await client.clearCache(source);
  const targetKey = store.keyOf(target);

  // Fillers: partitions s.fill-<i>, copies of the target made by Redis itself.
  let filled = 0;
  const fillTo = async (n: number): Promise<void> => {
    while (filled < n) {
      const pipeline = redis.pipeline();
      const end = Math.min(n, filled + BATCH);
      for (let i = filled; i < end; i++) pipeline.copy(targetKey, store.keyOf(`s.fill-${i}`));
      const results = await pipeline.exec();
      const failed = results?.find(([err, copied]) => err || copied !== 1);
      if (failed) throw new Error(`COPY failed: ${String(failed[0] ?? failed[1])}`);
      filled = end;
    }
  };
  const shrinkTo = async (n: number): Promise<void> => {
    while (filled > n) {
      const start = Math.max(n, filled - BATCH);
      const keys = Array.from({ length: filled - start }, (_, k) => store.keyOf(`s.fill-${start + k}`));
      await redis.unlink(...keys);
      filled = start;
    }
  };
  const scopes = [ORDERS, INVENTORY, ['api://bench-0/Data.Read']];
  const call = async (i: number): Promise<void> => {
    const r = await client.acquireTokenSilent({ scopes: scopes[i % scopes.length]!, account: account!, partition: target });
    if (!r.fromCache) throw new Error('scale: a call missed the cache');
  };

  const runs: Record<number, Array<{ p50: number; p99: number }>> = { [SIZES[0]]: [], [SIZES[1]]: [] };
  const fillMs: number[] = [];
  const dbSizes: number[] = [];
  try {
    for (const size of [SIZES[0], SIZES[1], SIZES[0], SIZES[1]]) {
      const t = performance.now();
      if (size > filled) await fillTo(size);
      else await shrinkTo(size);
      fillMs.push(performance.now() - t);
      dbSizes.push(await redis.dbsize());
      await latencies(call, 300);
      const sorted = await latencies(call, CALLS);
      runs[size]!.push({ p50: percentile(sorted, 50), p99: percentile(sorted, 99) });
    }
  } finally {
    await shrinkTo(0);
  }
  const p = (size: number, k: 'p50' | 'p99'): number => median(runs[size]!.map((r) => r[k]));
  const ratio50 = p(SIZES[1], 'p50') / p(SIZES[0], 'p50');
  const ratio99 = p(SIZES[1], 'p99') / p(SIZES[0], 'p99');

  // Bytes per session: the target partition (1 user, 3 access tokens) in both forms.
  const authflowBytes = Number(await redis.call('MEMORY', 'USAGE', targetKey, 'SAMPLES', '0'));
  const fields = await redis.hgetall(targetKey);
  const payload = Object.entries(fields).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  const msal = new ConfidentialClientApplication({
    auth: { clientId: op.clients.webApp.clientId, clientSecret: op.clients.webApp.clientSecret!, authority: 'https://127.0.0.1/unused/v2.0', knownAuthorities: ['127.0.0.1'] },
  });
  msal.getTokenCache().deserialize(await client.exportCache(target));
  const serialized = msal.getTokenCache().serialize();
  const msalKey = `${ctx.prefix}scale:msal`;
  await redis.set(msalKey, serialized);
  const msalBytes = Number(await redis.call('MEMORY', 'USAGE', msalKey, 'SAMPLES', '0'));
  const msalAccessTokens = Object.keys((JSON.parse(serialized) as MsalJson).AccessToken).length;
  await redis.unlink(msalKey, targetKey);

  const ms = (v: number): string => fmt(v, 3);
  return {
    rows: [
      {
        measurement: '6a. Cache-hit latency from Redis (no local copy) p50, 100k vs 1k partitions (ms)', authflow: `100k: ${ms(p(SIZES[1], 'p50'))}`, baseline: `1k partitions: ${ms(p(SIZES[0], 'p50'))}`,
        ...judged(ratio50, { atMost: 1.2 }),
      },
      {
        measurement: '6b. Cache-hit latency from Redis (no local copy) p99, 100k vs 1k partitions (ms)', authflow: `100k: ${ms(p(SIZES[1], 'p99'))}`, baseline: `1k partitions: ${ms(p(SIZES[0], 'p99'))}`,
        ...judged(ratio99, { atMost: 1.2 }),
      },
      {
        measurement: '6c. Bytes per session in Redis (1 user, 3 access tokens)', authflow: `${fmt(authflowBytes)} (HASH, MEMORY USAGE)`,
        baseline: `msal-node serialized cache as a string: ${fmt(msalBytes)}`, ratio: `${(authflowBytes / msalBytes).toFixed(2)}x`, target: '(reported)', met: 'n/a',
      },
    ],
    details: [
      `(6) partitions are COPYs of a real one (${Object.keys(fields).length} fields, ${fmt(payload)} bytes of fields + values); sizes alternate 1k, 100k, 1k, 100k `
        + `(DBSIZE ${dbSizes.map((d) => fmt(d)).join(', ')}; fill/shrink ms ${fillMs.map((v) => fmt(v, 0)).join(', ')}); per size: 300 warm-up + ${fmt(CALLS)} sequential acquireTokenSilent on one partition, 3 scopes in turn.`,
      `    p50/p99 ms per run  1k [${runs[SIZES[0]]!.map((r) => `${ms(r.p50)}/${ms(r.p99)}`).join(', ')}]  100k [${runs[SIZES[1]]!.map((r) => `${ms(r.p50)}/${ms(r.p99)}`).join(', ')}]`,
      `    bytes: authflow HASH ${fmt(authflowBytes)} (MEMORY USAGE SAMPLES 0; payload ${fmt(payload)}); msal-node TokenCache.serialize() ${fmt(serialized.length)} characters `
        + `(${msalAccessTokens} access tokens), ${fmt(msalBytes)} as a Redis string`,
    ],
  };
}
