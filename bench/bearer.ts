/**
 * (4) Bearer validation, validations per second, in a process of its own that does not host the
 * OP (bench/workers/bearerWorker.ts, where the variants are set up), after warm-up (discovery and
 * JWKS fetched once): authflow's `validateBearer` (and `createBearerValidator`, the form the README
 * recommends for long-lived code) vs the floor, a bare `jose.jwtVerify` with the OP's public key
 * imported locally, and vs express-oauth2-jwt-bearer's `auth()` middleware called directly with a
 * minimal Express-like request (no HTTP server: the figure is the validation, not Express).
 * Rows 4a-4c are NEW tokens: authflow's validator keeps a verified-token cache (on by default), so
 * there they cycle through 16 distinct dev OP tokens with a cache of 1 entry: every call is a miss
 * (hash, lookup, full verification, insert), the cost a never-seen token pays. Row 4e is the
 * repeated token (a cache hit) against the same jose floor; 4f the cache's memory per entry; 4g
 * and 4h (diagnostic) are 4a and 4c with the cache turned off: their difference is what the cache's
 * bookkeeping on a miss costs (SHA-256 of the whole token, the lookup, the insert). 4i and 4j
 * (diagnostic) do the floor's work with node:crypto's `crypto.verify` instead of jose's WebCrypto:
 * how much of the floor is the platform's WebCrypto path, which authflow's validator inherits from jose.
 * All are dev OP access tokens (RS256, aud api://orders, scp Orders.Read).
 */
import { MemoryTokenCacheStore } from '../src/index.js';
import { clientFor, fmt, judged, median, nextJson, pairedRatio, reported, signIn, startWorker, within, type BenchContext, type MeasurementResult } from './common.js';
import type { BearerWorkerConfig, BearerWorkerResult } from './workers/bearerWorker.js';

export async function bearer(ctx: BenchContext): Promise<MeasurementResult> {
  const { op } = ctx;
  const client = clientFor(op, 'webApp', { cacheStore: new MemoryTokenCacheStore() });
  const { accessToken: token } = await signIn(op, client, 'bearer');
  // Distinct tokens for the new-token rows (cycled through a 1-entry cache: every call misses).
  const tokens = [...new Set([token, ...await Promise.all(Array.from({ length: 15 }, async (_, i) => (await signIn(op, client, `bearer-${i}`)).accessToken))])];

  const roundMs = 200;
  const rounds = 20;
  const concurrency = 8;
  const config: BearerWorkerConfig = { issuer: op.issuer, audience: 'api://orders', tokens, rounds, roundMs, concurrency };
  const worker = startWorker(ctx, 'bearerWorker.ts', { BEARER_CONFIG: JSON.stringify(config) }, 'bearer');
  let result: BearerWorkerResult;
  try {
    result = await within(75_000, 'bearer worker', nextJson<BearerWorkerResult>(worker));
  } finally {
    await worker.stop();
  }
  const { runs, conc, missShare, perEntry } = result;
  const [repeated, rRep] = [median(runs.repeated), pairedRatio(runs.repeated, runs.floor)];
  const [cFloor, cVb, rConc] = [median(conc.floor), median(conc.validateBearer), pairedRatio(conc.validateBearer, conc.floor)];
  const [floor, vb, cv, ej] = [median(runs.floor), median(runs.validateBearer), median(runs.createBearerValidator), median(runs.oauth2JwtBearer)];
  const list = (v: number[]): string => v.map((x) => fmt(x)).join(', ');
  const [rVb, rCv, rEj] = [pairedRatio(runs.validateBearer, runs.floor), pairedRatio(runs.createBearerValidator, runs.floor), pairedRatio(runs.validateBearer, runs.oauth2JwtBearer)];
  const [rOff, rOffConc] = [pairedRatio(runs.cacheOff, runs.floor), pairedRatio(conc.cacheOff, conc.floor)];
  return {
    rows: [
      {
        measurement: '4a. Bearer validation, validateBearer (validations/s)', authflow: fmt(vb), baseline: `bare jose.jwtVerify, local key: ${fmt(floor)}`,
        ...judged(rVb, { atLeast: 0.9 }),
      },
      {
        measurement: '4b. Bearer validation, createBearerValidator (validations/s)', authflow: fmt(cv), baseline: `bare jose.jwtVerify, local key: ${fmt(floor)}`,
        ...judged(rCv, { atLeast: 0.9 }),
      },
      {
        measurement: `4c. Bearer validation, validateBearer, ${concurrency} concurrent (validations/s)`, authflow: fmt(cVb), baseline: `bare jose.jwtVerify, local key: ${fmt(cFloor)}`,
        ...judged(rConc, { atLeast: 0.9 }),
      },
      {
        measurement: '4e. Bearer validation, repeated token (verified-token cache hit; validations/s)', authflow: fmt(repeated), baseline: `bare jose.jwtVerify, local key: ${fmt(floor)}`,
        ...judged(rRep, { atLeast: 10 }),
      },
      {
        measurement: '4f. Verified-token cache, memory per entry', authflow: `${fmt(perEntry)} B`, baseline: `default max 100,000: ~${fmt(perEntry * 100_000 / 2 ** 20)} MB`,
        ratio: '', target: '(reported)', met: 'n/a',
      },
      {
        measurement: '4g. (diagnostic) 4a with the verified-token cache off (validations/s)', authflow: fmt(median(runs.cacheOff)), baseline: `bare jose.jwtVerify, local key: ${fmt(floor)}`,
        ...reported(rOff),
      },
      {
        measurement: `4h. (diagnostic) 4c with the verified-token cache off, ${concurrency} concurrent (validations/s)`, authflow: fmt(median(conc.cacheOff)), baseline: `bare jose.jwtVerify, local key: ${fmt(cFloor)}`,
        ...reported(rOffConc),
      },
      {
        measurement: '4i. (diagnostic) the floor\'s checks with node:crypto instead of WebCrypto (validations/s)', authflow: fmt(median(runs.nodeCrypto)),
        baseline: `bare jose.jwtVerify, local key: ${fmt(floor)}`, ...reported(pairedRatio(runs.nodeCrypto, runs.floor)),
      },
      {
        measurement: `4j. (diagnostic) 4i, ${concurrency} concurrent (validations/s)`, authflow: fmt(median(conc.nodeCrypto)),
        baseline: `bare jose.jwtVerify, local key: ${fmt(cFloor)}`, ...reported(pairedRatio(conc.nodeCrypto, conc.floor)),
      },
      {
        measurement: '4d. Bearer validation vs express-oauth2-jwt-bearer', authflow: fmt(vb), baseline: `express-oauth2-jwt-bearer auth(): ${fmt(ej)}`,
        ...reported(rEj),
      },
    ],
    details: [
      `(4) RS256 access tokens from the dev OP; ${rounds} alternating rounds of ${roundMs} ms per variant, sequential awaits, in a process that does not host the OP (its AsyncLocalStorage would add Node 20 promise hooks to every promise); medians shown, ratios are medians of per-round ratios.`
        + ' express-oauth2-jwt-bearer\'s middleware is called directly with a minimal request object (headers, host, protocol, url), its next() awaited.',
      `    validations/s  jose floor [${list(runs.floor)}]`,
      `    validateBearer [${list(runs.validateBearer)}]`,
      `    createBearerValidator [${list(runs.createBearerValidator)}]`,
      `    express-oauth2-jwt-bearer [${list(runs.oauth2JwtBearer)}]`,
      `    repeated token (cache hit) [${list(runs.repeated)}]`,
      `    verified-token cache off (4g) [${list(runs.cacheOff)}]`,
      `    new-token rows cycle ${tokens.length} distinct tokens through a 1-entry cache; ${(missShare * 100).toFixed(1)}% of the ${concurrency}-concurrent calls verified a signature (misses).`,
      `    memory per entry: heap delta of ${result.memoryEntries} entries (the token's claims, a copy each as jose would give) / ${result.memoryEntries}, after gc.`,
      `    ${concurrency} concurrent: jose floor [${list(conc.floor)}]  validateBearer [${list(conc.validateBearer)}]  cache off (4h) [${list(conc.cacheOff)}]  node:crypto (4j) [${list(conc.nodeCrypto)}]`,
      `    node:crypto (4i): the floor's token and checks (signature with crypto.verify on the libuv thread pool, then exp, iss, aud), sequential [${list(runs.nodeCrypto)}]; it refuses a tampered copy (checked at start).`,
      '    jose 6 verifies RS256 with WebCrypto, on the libuv thread pool: sequentially the main thread idles ~2/3 of the time, so per-call main-thread work shows fully in the sequential figure.',
    ],
  };
}
