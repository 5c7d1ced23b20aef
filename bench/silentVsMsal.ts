/**
 * (2) `acquireTokenSilent` on a warm Redis cache: authflow vs @azure/msal-node's
 * ConfidentialClientApplication with its DistributedCachePlugin, same Redis, same entries (alice,
 * 10 access tokens: 2 real ones from the dev OP, 8 copies for made-up APIs). Runs in a child
 * started with NODE_EXTRA_CA_CERTS (bench/workers/silentWorker.ts); the dev OP's counters prove
 * that neither library contacts it.
 */
import { RedisTokenCacheStore } from '../src/index.js';
import {
  INVENTORY, clientFor, fmt, judged, median, mintAccessTokens, nextJson, pairedRatio, ratioText, reported, scopesOfCache, signIn, startWorker, within,
  type BenchContext, type MeasurementResult, type MsalJson, type Row,
} from './common.js';
import { startHttpsFront } from './tls.js';
import type { SilentWorkerConfig, SilentWorkerResult } from './workers/silentWorker.js';

export const ACCESS_TOKENS = 10;

/** An exported MSAL cache moved to another environment (host), keys rebuilt to match. */
export function withEnvironment(cache: MsalJson, from: string, to: string): MsalJson {
  const out = {} as MsalJson;
  for (const [section, entries] of Object.entries(cache) as [keyof MsalJson, Record<string, Record<string, string>>][]) {
    out[section] = {};
    for (const [key, entity] of Object.entries(entries)) {
      const moved = { ...entity, ...(entity.environment === from ? { environment: to } : {}) };
      out[section][key.split(from.toLowerCase()).join(to.toLowerCase())] = moved;
    }
  }
  return out;
}

export async function silentVsMsal(ctx: BenchContext): Promise<MeasurementResult> {
  const { op, redis } = ctx;
  const prefix = `${ctx.prefix}silent:tc:`;
  const store = new RedisTokenCacheStore({ client: redis, prefix });
  const client = clientFor(op, 'webApp', { cacheStore: store });
  const partition = 's.silent-bench';
  const signedIn = await signIn(op, client, partition);
  await client.acquireTokenSilent({ scopes: INVENTORY, account: signedIn.account!, partition }); // a second real access token
  const exported = JSON.parse(await client.exportCache(partition)) as MsalJson;
  const seeded = mintAccessTokens(exported, ACCESS_TOKENS - Object.keys(exported.AccessToken).length);
  await client.importCache(partition, seeded);
  const homeAccountId = signedIn.account!.homeAccountId;

  // msal-node: the same entities under the https host it is given, as one serialized string.
  const front = await startHttpsFront(op.url, op.issuer, ctx.tmpDir);
  try {
    const opEnvironment = new URL(op.url).host;
    const msalEnvironment = new URL(front.origin).host;
    const msalCache = withEnvironment(seeded, opEnvironment, msalEnvironment);
    const msalKey = `${ctx.prefix}silent:msal:${homeAccountId}`;
    await redis.set(msalKey, JSON.stringify(msalCache), 'EX', 3600);
    const discovery = await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
    const metadata = JSON.parse(JSON.stringify(discovery).split(op.url).join(front.origin)) as Record<string, unknown>;

    const config: SilentWorkerConfig = {
      authflow: { issuer: op.issuer, clientId: op.clients.webApp.clientId, secret: op.clients.webApp.clientSecret!, prefix, partition, homeAccountId },
      msal: { authority: front.issuer, knownAuthorities: [msalEnvironment, new URL(front.origin).hostname], metadata, cacheKey: msalKey, homeAccountId },
      scopes: scopesOfCache(seeded),
      rounds: 4,
      roundMs: 1_000,
      concurrency: 16,
    };
    const before = op.stats();
    const frontBefore = front.requests();
    const worker = startWorker(ctx, 'silentWorker.ts', { SILENT_CONFIG: JSON.stringify(config), NODE_EXTRA_CA_CERTS: front.caFile }, 'silent');
    let result: SilentWorkerResult;
    try {
      result = await within(90_000, 'silent worker', nextJson<SilentWorkerResult>(worker));
    } finally {
      await worker.stop();
    }
    const after = op.stats();
    const opCalls = after.tokenRequests - before.tokenRequests + after.discovery - before.discovery + after.jwks - before.jwks;
    const frontCalls = front.requests() - frontBefore;

    const allHit = result.checks.authflowFromCache.every(Boolean) && result.checks.msalFromCache.every(Boolean);
    const sameTokens = result.checks.sameTokens.every(Boolean);
    const seqA = median(result.sequential.authflow);
    const seqM = median(result.sequential.msal);
    const conA = median(result.concurrent.authflow);
    const conM = median(result.concurrent.msal);
    const valid = allHit && sameTokens && opCalls === 0 && frontCalls === 0;
    const seqRatio = pairedRatio(result.sequential.authflow, result.sequential.msal);
    const conRatio = pairedRatio(result.concurrent.authflow, result.concurrent.msal);
    const cmds = (c: Record<string, number>): string => Object.entries(c).map(([n, v]) => `${v} ${n}`).join(' + ') || 'none';
    const msalBlob = (await redis.strlen(msalKey));
    // The floor of a hit that reads Redis: one HGETALL of the partition. A hit may cost at most 1.3x its time.
    const floorRow = (measurement: string, runs: { authflowStore: number[]; hgetall: number[] }): Row => {
      const ratio = pairedRatio(runs.authflowStore, runs.hgetall);
      return {
        measurement, authflow: fmt(median(runs.authflowStore)), baseline: `floor, one HGETALL of the partition (same client): ${fmt(median(runs.hgetall))}`,
        ratio: `${ratioText(ratio, 1 / 1.3)} (time ${ratioText(1 / ratio, 1.3)})`, target: '>= 0.77x (time <= 1.3x)', met: valid && ratio >= 1 / 1.3 ? 'yes' : 'no',
      };
    };
    return {
      rows: [
        {
          measurement: '2a. Silent cache hit, sequential (ops/s)', authflow: fmt(seqA), baseline: `msal-node DistributedCachePlugin: ${fmt(seqM)}`,
          ...judged(seqRatio, { atLeast: 5 }, valid),
        },
        {
          measurement: '2c. Silent cache hit from Redis, no local copy (localCacheSeconds: 0), sequential (ops/s)',
          authflow: fmt(median(result.sequential.authflowStore)), baseline: `msal-node DistributedCachePlugin: ${fmt(seqM)}`,
          ...reported(pairedRatio(result.sequential.authflowStore, result.sequential.msal)),
        },
        floorRow('2d. Silent cache hit from Redis (localCacheSeconds: 0), sequential, vs one HGETALL (ops/s)', result.floor.sequential),
        floorRow(`2e. Silent cache hit from Redis (localCacheSeconds: 0), ${config.concurrency} concurrent, vs one HGETALL (ops/s)`, result.floor.concurrent),
        {
          measurement: `2b. Silent cache hit, ${config.concurrency} concurrent (ops/s)`, authflow: fmt(conA), baseline: `msal-node DistributedCachePlugin: ${fmt(conM)}`,
          ...judged(conRatio, { atLeast: 5 }, valid),
        },
      ],
      details: [
        `(2) one user, ${ACCESS_TOKENS} cached access tokens (2 from the dev OP, ${ACCESS_TOKENS - 2} copies for api://bench-N), each call asks the next API in turn; `
          + `${config.rounds} alternating rounds of ${config.roundMs} ms per library and mode, medians shown, ratios = median of per-round ratios. Child process with NODE_EXTRA_CA_CERTS; https front: ${front.certificate}.`,
        `    sequential ops/s  authflow [${result.sequential.authflow.map((v) => fmt(v)).join(', ')}]  msal-node [${result.sequential.msal.map((v) => fmt(v)).join(', ')}]`,
        `    floor (one HGETALL) vs authflow with localCacheSeconds: 0 (${config.rounds * 3} alternating rounds of ${Math.round(config.roundMs / 3)} ms), sequential: HGETALL [${result.floor.sequential.hgetall.map((v) => fmt(v)).join(', ')}]  authflow [${result.floor.sequential.authflowStore.map((v) => fmt(v)).join(', ')}]; `
          + `${config.concurrency} concurrent: HGETALL [${result.floor.concurrent.hgetall.map((v) => fmt(v)).join(', ')}]  authflow [${result.floor.concurrent.authflowStore.map((v) => fmt(v)).join(', ')}]`,
        `    concurrent ops/s  authflow [${result.concurrent.authflow.map((v) => fmt(v)).join(', ')}]  msal-node [${result.concurrent.msal.map((v) => fmt(v)).join(', ')}]`,
        `    latency p50/p99 ms (sequential)  authflow ${fmt(result.latencyMs.authflow.p50, 3)}/${fmt(result.latencyMs.authflow.p99, 3)}  msal-node ${fmt(result.latencyMs.msal.p50, 3)}/${fmt(result.latencyMs.msal.p99, 3)}`,
        `    Redis commands per call  authflow: ${cmds(result.commandsPerCall.authflow)}; msal-node: ${cmds(result.commandsPerCall.msal)} (its blob: ${fmt(msalBlob)} bytes, parsed on every call)`,
        `    checks: every call fromCache (authflow ${result.checks.authflowFromCache.every(Boolean)}, msal-node ${result.checks.msalFromCache.every(Boolean)}), same tokens ${sameTokens}, `
          + `requests to the dev OP during the run ${opCalls}, to its https front ${frontCalls}`,
      ],
    };
  } finally {
    await front.close();
  }
}
