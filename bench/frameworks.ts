/**
 * (8) The protected route of (1) on the other adapters, each against its own framework's bare
 * session route: Koa (koa-session), Fastify (@fastify/session + connect-redis), Hono (no session
 * middleware of its own: a signed id cookie and one Redis GET). One child process per framework
 * (bench/workers/frameworkServer.ts), started, measured and stopped in turn; autocannon here,
 * floor and authflow runs alternating, as in (1).
 */
import {
  alternate, fmt, judged, median, nextJson, pairedRatio, startWorker,
  type BenchContext, type MeasurementResult, type Row,
} from './common.js';
import { cannon, signedInPair, type Run } from './protectedRoute.js';

const FRAMEWORKS = [
  { name: 'koa', label: 'Koa', floor: 'koa-session + a Redis store only' },
  { name: 'fastify', label: 'Fastify', floor: '@fastify/session + connect-redis only' },
  { name: 'hono', label: 'Hono', floor: 'a signed id cookie + one Redis GET only' },
] as const;

/** Which frameworks to measure: all, or those named in BENCH_FRAMEWORKS (comma separated). */
const selected = (name: string): boolean => !process.env.BENCH_FRAMEWORKS || process.env.BENCH_FRAMEWORKS.split(',').includes(name);

export async function frameworks(ctx: BenchContext): Promise<MeasurementResult> {
  const { op } = ctx;
  const connections = 10;
  // Short rounds, many of them: the machine's speed drifts over seconds, and a ratio of two
  // neighbouring rounds cancels the drift better than one of two long ones.
  const seconds = 2;
  const rounds = 12;
  const rows: Row[] = [];
  const details: string[] = [
    `(8) per framework: autocannon ${connections} connections, ${rounds} alternating rounds of ${seconds} s per variant (after 1 s warm-up each), medians shown, ratios = median of per-round ratios; both apps in one child per framework, autocannon here; authflow: the adapter's authSession + auth + requireAuth + getToken(api://orders/Orders.Read), sessions and token caches in Redis.`,
  ];
  for (const framework of FRAMEWORKS.filter((f) => selected(f.name))) {
    const worker = startWorker(ctx, 'frameworkServer.ts', {
      FRAMEWORK: framework.name,
      APP_PREFIX: `${ctx.prefix}${framework.name}:`,
      ISSUER: op.issuer,
      CLIENT_ID: op.clients.webApp.clientId,
      CLIENT_SECRET: op.clients.webApp.clientSecret!,
    }, `frameworkServer-${framework.name}`);
    try {
      const ports = await nextJson<{ authflowPort: number; floorPort: number }>(worker);
      const authflowUrl = `http://127.0.0.1:${ports.authflowPort}`;
      const floorUrl = `http://127.0.0.1:${ports.floorPort}`;
      const { authflowCookie, floorCookie } = await signedInPair(op, authflowUrl, floorUrl);
      const floor = (s: number) => cannon(`${floorUrl}/data`, floorCookie, s, connections);
      const authflow = (s: number) => cannon(`${authflowUrl}/data`, authflowCookie, s, connections);
      await floor(1);
      await authflow(1);
      const runs = await alternate(rounds, { floor: () => floor(seconds), authflow: () => authflow(seconds) });
      const failures = [...runs.floor, ...runs.authflow].reduce((n, r) => n + r.non2xx + r.errors, 0);
      const m = (list: Run[], k: keyof Run): number => median(list.map((r) => r[k]));
      const ratio = pairedRatio(runs.authflow.map((r) => r.rps), runs.floor.map((r) => r.rps));
      rows.push({
        measurement: `8. Protected route, cache hit, ${framework.label} (req/s)`, authflow: fmt(m(runs.authflow, 'rps')), baseline: `${framework.floor}: ${fmt(m(runs.floor, 'rps'))}`,
        ...judged(ratio, { atLeast: 0.85 }, failures === 0),
      });
      details.push(
        `    ${framework.label}: req/s authflow [${runs.authflow.map((r) => fmt(r.rps)).join(', ')}]  floor [${runs.floor.map((r) => fmt(r.rps)).join(', ')}]; p50/p99 ms authflow ${m(runs.authflow, 'p50')}/${m(runs.authflow, 'p99')}, floor ${m(runs.floor, 'p50')}/${m(runs.floor, 'p99')}; non-2xx + errors: ${failures}`,
      );
    } finally {
      await worker.stop();
    }
  }
  return { rows, details };
}
