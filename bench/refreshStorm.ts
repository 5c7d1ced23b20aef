/**
 * (5) Refresh storm: 200 concurrent `getToken` (the core `acquireTokenSilent`) on one partition
 * whose access tokens have expired, from 4 processes x 50 (bench/workers/stormWorker.ts), sharing
 * one RedisTokenCacheStore partition. Counts refresh_token requests at the dev OP (target: exactly
 * one) and the time until all 200 are answered, against the time of one refresh by one call in one
 * of those processes (the baseline), measured in the same round (storm and baseline alternate
 * which goes first). The storm's time runs from the first process starting its calls to the last
 * answer, on the workers' wall clocks: the pipes carrying "go" to the workers and their results
 * back to this process are the bench's, not the storm's (the baseline's single call is timed in its
 * worker too).
 */
import { RedisTokenCacheStore, type ConfidentialClient } from '../src/index.js';
import {
  ORDERS, clientFor, fmt, judged, median, nextJson, pairedRatio, signIn, startWorker, within,
  type BenchContext, type MeasurementResult, type MsalJson, type Worker,
} from './common.js';

const PROCESSES = 4;
const CALLS_PER_PROCESS = 50;
const ROUNDS = 11;
/**
 * Storms before the measured ones, not counted: a process's refresh path runs cold the first time
 * (JIT, the lock's subscriber connection, and the first token request: undici loading its HTTP
 * client, openid-client fetching the JWKS to check the ID token: 20-70 ms). One per process, each
 * given a head start so that it is the one that refreshes, then two ordinary ones.
 */
const WARM_UP_ROUNDS = PROCESSES + 2;
const HEAD_START_MS = 30;

/** Makes every access token of the partition look expired, as time would (refresh token untouched). */
async function expireAccessTokens(client: ConfidentialClient, partition: string): Promise<void> {
  const cache = JSON.parse(await client.exportCache(partition)) as MsalJson;
  const past = String(Math.floor(Date.now() / 1000) - 10);
  for (const at of Object.values(cache.AccessToken)) {
    at.expires_on = past;
    at.extended_expires_on = past;
  }
  await client.importCache(partition, cache);
}

interface StormResult { ms: number; cpuMs: number; startedAt: number; endedAt: number; fromCache: number; errors: string[]; tokenHashes: string[] }

export async function refreshStorm(ctx: BenchContext): Promise<MeasurementResult> {
  const { op, redis } = ctx;
  const prefix = `${ctx.prefix}storm:tc:`;
  // No local copy: expiry is simulated by editing the store (see stormWorker.ts).
  const client = clientFor(op, 'webApp', { cacheStore: new RedisTokenCacheStore({ client: redis, prefix }), localCacheSeconds: 0 });
  const partition = 's.storm';
  await signIn(op, client, partition);
  const refreshes = (): number => op.stats().token.refresh_token ?? 0;

  const workers: Worker[] = [];
  try {
    for (let i = 0; i < PROCESSES; i++) {
      workers.push(startWorker(ctx, 'stormWorker.ts', {
        ISSUER: op.issuer, CLIENT_ID: op.clients.webApp.clientId, CLIENT_SECRET: op.clients.webApp.clientSecret!,
        PREFIX: prefix, PARTITION: partition, SCOPE: ORDERS[0]!, CALLS: String(CALLS_PER_PROCESS),
      }, `storm${i}`));
    }
    for (const w of workers) {
      for (;;) if ((await within(30_000, 'storm worker start', w.next())) === 'ready') break;
    }
    /** The baseline: one call in one of the storm's processes (each in turn), one refresh. */
    const single: number[] = [];
    const singleRefresh = async (round: number): Promise<void> => {
      await expireAccessTokens(client, partition);
      const before = refreshes();
      const worker = workers[round % PROCESSES]!;
      worker.send('one');
      const result = await within(30_000, 'single refresh', nextJson<StormResult>(worker));
      if (result.fromCache !== 0 || result.errors.length > 0 || refreshes() - before !== 1) {
        throw new Error(`the baseline call did not refresh once (${result.errors[0] ?? `fromCache ${result.fromCache}`})`);
      }
      single.push(result.ms);
    };
    const rounds: Array<{ refreshes: number; wallMs: number; spanMs: number; results: StormResult[] }> = [];
    for (let round = 0; round < WARM_UP_ROUNDS + ROUNDS; round++) {
      const measuring = round >= WARM_UP_ROUNDS;
      if (measuring && round % 2 === 0) await singleRefresh(round);
      await expireAccessTokens(client, partition);
      const before = refreshes();
      const t = performance.now();
      const first = round < PROCESSES ? workers[round] : undefined;
      if (first) {
        first.send('go');
        await new Promise((resolve) => setTimeout(resolve, HEAD_START_MS));
      }
      for (const w of workers) if (w !== first) w.send('go');
      const results = await within(30_000, 'storm round', Promise.all(workers.map((w) => nextJson<StormResult>(w))));
      if (first && results[round]!.fromCache !== 0) throw new Error(`storm warm-up: process ${round} was given a head start but did not refresh`);
      const wallMs = performance.now() - t;
      const spanMs = Math.max(...results.map((r) => r.endedAt)) - Math.min(...results.map((r) => r.startedAt));
      const measured = { refreshes: refreshes() - before, wallMs, spanMs, results };
      if (measuring) rounds.push(measured);
      if (measuring && round % 2 === 1) await singleRefresh(round);
    }
    const errors = rounds.flatMap((r) => r.results.flatMap((x) => x.errors));
    const distinct = rounds.map((r) => new Set(r.results.flatMap((x) => x.tokenHashes)).size);
    const counts = rounds.map((r) => r.refreshes);
    const spans = rounds.map((r) => r.spanMs);
    const [span, base, ratio] = [median(spans), median(single), pairedRatio(spans, single)];
    const allOne = counts.every((c) => c === 1) && errors.length === 0 && distinct.every((d) => d === 1);
    return {
      rows: [
        {
          measurement: `5a. Refresh storm, ${PROCESSES * CALLS_PER_PROCESS} concurrent getToken / ${PROCESSES} processes: token-endpoint calls`,
          authflow: counts.join(', '), baseline: '1 (one call, one process)', ratio: '—', target: 'exactly 1', met: allOne ? 'yes' : 'no',
        },
        {
          measurement: '5b. Refresh storm: time to serve all 200 (ms)', authflow: fmt(span, 0), baseline: `one refresh, one call: ${fmt(base, 0)}`,
          ...judged(ratio, { atMost: 2 }),
        },
      ],
      details: [
        `(5) ${ROUNDS} rounds after ${WARM_UP_ROUNDS} not counted (each process refreshes once first, with a ${HEAD_START_MS} ms head start: its first token request is cold); each: access tokens expired by export/import, then "go" to ${PROCESSES} ready processes x ${CALLS_PER_PROCESS} concurrent acquireTokenSilent on one Redis partition; `
          + 'and, before or after it in turn, the baseline: tokens expired again, one call in one of the processes (each in turn). Medians shown; the ratio is the median of per-round ratios.',
        `    refresh_token requests per round [${counts.join(', ')}]; storm ms per round, first process's start to last answer [${rounds.map((r) => fmt(r.spanMs, 0)).join(', ')}]; `
          + `the same seen from this process, with the pipes to and from the workers [${rounds.map((r) => fmt(r.wallMs, 0)).join(', ')}]; `
          + `per-process ms [${rounds.map((r) => r.results.map((x) => fmt(x.ms, 0)).join('/')).join(', ')}]; distinct tokens served per round [${distinct.join(', ')}]; errors ${errors.length}${errors[0] ? ` (${errors[0]})` : ''}`,
        `    answers marked fromCache per round [${rounds.map((r) => r.results.reduce((n, x) => n + x.fromCache, 0)).join(', ')}] of ${PROCESSES * CALLS_PER_PROCESS} `
          + `(each process shares one flight among its ${CALLS_PER_PROCESS} calls; the processes that waited for the lock found the winner's token in Redis); `
          + `single-call refresh ms per round [${single.map((v) => fmt(v, 0)).join(', ')}]`,
        `    CPU ms per process and round, from "go" to its last answer (the one that refreshed first) [${rounds.map((r) => [...r.results].sort((a, b) => a.fromCache - b.fromCache).map((x) => fmt(x.cpuMs, 1)).join('/')).join(', ')}]`,
      ],
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}
