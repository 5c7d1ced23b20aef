/**
 * (7) A `.default` silent call (`api://orders/.default`), the most common scope of OBO and daemon
 * code, served from the cache like a named scope: issue 15 made `<api>/.default` match any cached
 * token of that API. Baseline: the same client asking the named scope (`api://orders/Orders.Read`),
 * alternating rounds on one Redis partition. The dev OP's counters must show no token request.
 */
import { RedisTokenCacheStore } from '../src/index.js';
import { ORDERS, alternate, clientFor, fmt, median, opsPerSecond, pairedRatio, signIn, type BenchContext, type MeasurementResult } from './common.js';

const DEFAULT_SCOPE = ['api://orders/.default'];

export async function defaultScope(ctx: BenchContext): Promise<MeasurementResult> {
  const { op, redis } = ctx;
  const client = clientFor(op, 'webApp', { cacheStore: new RedisTokenCacheStore({ client: redis, prefix: `${ctx.prefix}default:tc:` }) });
  const partition = 's.default-bench';
  const { account } = await signIn(op, client, partition);
  const call = (scopes: string[]) => async (): Promise<boolean> => (await client.acquireTokenSilent({ scopes, account: account!, partition })).fromCache;
  const allHit = (await call(DEFAULT_SCOPE)()) && (await call(ORDERS)());
  const before = op.stats().tokenRequests;
  const samples = await alternate(4, {
    dotDefault: () => opsPerSecond(call(DEFAULT_SCOPE), 500),
    named: () => opsPerSecond(call(ORDERS), 500),
  });
  const tokenRequests = op.stats().tokenRequests - before;
  const valid = allHit && tokenRequests === 0;
  const ratio = pairedRatio(samples.dotDefault, samples.named);
  return {
    rows: [{
      measurement: '7. Silent `.default` request, cache hit (ops/s; token requests during the run)',
      authflow: `${fmt(median(samples.dotDefault))} (${tokenRequests} token requests)`,
      baseline: `authflow, named scope: ${fmt(median(samples.named))}`,
      ratio: `${ratio.toFixed(2)}x`,
      target: 'cache hit, 0 token requests',
      met: valid ? 'yes' : 'no',
    }],
    details: [
      `(7) alice's cached access token for api://orders/Orders.Read answers api://orders/.default; 4 alternating rounds of 500 ms, sequential; `
        + `every call fromCache: ${allHit}; token requests to the dev OP during the run: ${tokenRequests}.`,
    ],
  };
}
