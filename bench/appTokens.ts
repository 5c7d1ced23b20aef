/**
 * (9) The web-API flows' cache hits against msal-node: On-Behalf-Of (a repeated OBO for the same
 * user assertion and scopes) and client credentials (a repeated app token), in a child process
 * (bench/workers/appTokensWorker.ts) that trusts the dev OP's https front. The dev OP's counters
 * show how many token requests the run made: the first one of each library and flow, no more.
 */
import {
  INVENTORY, ORDERS, clientFor, fmt, judged, median, nextJson, pairedRatio, signIn, startWorker, within,
  type BenchContext, type MeasurementResult,
} from './common.js';
import { MemoryTokenCacheStore } from '../src/index.js';
import { startHttpsFront } from './tls.js';
import type { AppTokensWorkerConfig, AppTokensWorkerResult } from './workers/appTokensWorker.js';

/** The first request of each of the two libraries, for each of the two flows. */
const EXPECTED_TOKEN_REQUESTS = 4;

export async function appTokens(ctx: BenchContext): Promise<MeasurementResult> {
  const { op } = ctx;
  const webApp = clientFor(op, 'webApp', { cacheStore: new MemoryTokenCacheStore() });
  const { accessToken: assertion } = await signIn(op, webApp, 'app-tokens', ORDERS);
  const front = await startHttpsFront(op.url, op.issuer, ctx.tmpDir);
  try {
    const discovery = await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
    const config: AppTokensWorkerConfig = {
      issuer: op.issuer,
      msal: {
        authority: front.issuer,
        knownAuthorities: [new URL(front.origin).host, new URL(front.origin).hostname],
        metadata: JSON.parse(JSON.stringify(discovery).split(op.url).join(front.origin)) as Record<string, unknown>,
      },
      obo: { clientId: op.clients.orders.clientId, secret: op.clients.orders.clientSecret!, assertion, scopes: INVENTORY },
      daemon: { clientId: op.clients.daemon.clientId, secret: op.clients.daemon.clientSecret!, scopes: ['api://inventory/.default'] },
      rounds: 4,
      roundMs: 1_000,
    };
    const before = op.stats().tokenRequests;
    const worker = startWorker(ctx, 'appTokensWorker.ts', { APP_TOKENS_CONFIG: JSON.stringify(config), NODE_EXTRA_CA_CERTS: front.caFile }, 'app-tokens');
    let result: AppTokensWorkerResult;
    try {
      result = await within(60_000, 'app-tokens worker', nextJson<AppTokensWorkerResult>(worker));
    } finally {
      await worker.stop();
    }
    const tokenRequests = op.stats().tokenRequests - before;
    const valid = result.checks.authflowFromCache.every(Boolean) && result.checks.msalFromCache.every(Boolean) && tokenRequests === EXPECTED_TOKEN_REQUESTS;
    const row = (measurement: string, runs: { authflow: number[]; msal: number[] }) => {
      const ratio = pairedRatio(runs.authflow, runs.msal);
      return {
        measurement, authflow: fmt(median(runs.authflow)), baseline: `msal-node, in-memory cache: ${fmt(median(runs.msal))}`,
        ...judged(ratio, { atLeast: 1 }, valid),
      };
    };
    const list = (v: number[]): string => v.map((x) => fmt(x)).join(', ');
    return {
      rows: [
        row('9a. On-Behalf-Of, cache hit (ops/s)', result.obo),
        row('9b. Client credentials, cache hit (ops/s)', result.clientCredentials),
      ],
      details: [
        `(9) orders API: OBO of alice's orders token for ${INVENTORY.join(' ')}; daemon: client credentials for api://inventory/.default; both libraries with their default in-memory cache, `
          + `${config.rounds} alternating rounds of ${config.roundMs} ms, sequential; child process with NODE_EXTRA_CA_CERTS (msal-node through the https front: ${front.certificate}).`,
        `    OBO ops/s  authflow [${list(result.obo.authflow)}]  msal-node [${list(result.obo.msal)}]`,
        `    client credentials ops/s  authflow [${list(result.clientCredentials.authflow)}]  msal-node [${list(result.clientCredentials.msal)}]`,
        `    checks: second call fromCache (authflow ${result.checks.authflowFromCache.join('/')}, msal-node ${result.checks.msalFromCache.join('/')}); `
          + `token requests during the run ${tokenRequests} (expected ${EXPECTED_TOKEN_REQUESTS}: the first of each library and flow)`,
      ],
    };
  } finally {
    await front.close();
  }
}
