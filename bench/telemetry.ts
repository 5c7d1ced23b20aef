/**
 * (10) The cost of OpenTelemetry on the hot paths: a silent cache hit (in this process, Redis token
 * cache) and the protected route (autocannon against two app children, one with the SDK
 * registered), each with an SDK registered (in-memory exporter, always-on sampler, a meter
 * provider) against the same code without one, alternating rounds. Without an SDK authflow
 * checks one comparison per acquisition (src/telemetry/otel.ts).
 */
import { RedisTokenCacheStore } from '../src/index.js';
import { ORDERS, alternate, clientFor, fmt, median, opsPerSecond, pairedRatio, signIn, type BenchContext, type MeasurementResult } from './common.js';
import { registerSdk } from './otelSdk.js';
import { appSetup, cannon, type Run } from './protectedRoute.js';

export async function telemetry(ctx: BenchContext): Promise<MeasurementResult> {
  const { op, redis } = ctx;
  const client = clientFor(op, 'webApp', { cacheStore: new RedisTokenCacheStore({ client: redis, prefix: `${ctx.prefix}otel:tc:` }) });
  const partition = 's.otel-bench';
  const { account } = await signIn(op, client, partition);
  const hit = async (): Promise<boolean> => (await client.acquireTokenSilent({ scopes: ORDERS, account: account!, partition })).fromCache;
  let spans = 0;
  const withSdk = async (): Promise<number> => {
    const sdk = registerSdk();
    try {
      return await opsPerSecond(hit, 500);
    } finally {
      spans += sdk.spans();
      await sdk.unregister();
    }
  };
  await opsPerSecond(hit, 300);
  const silent = await alternate(4, { none: () => opsPerSecond(hit, 500), sdk: withSdk });
  const silentRatio = pairedRatio(silent.sdk, silent.none);

  const [plain, otel] = await Promise.all([appSetup(ctx, 'plain'), appSetup(ctx, 'otel')]);
  const connections = 10;
  const seconds = 4;
  const none = (s: number) => cannon(`${plain.authflowUrl}/data`, plain.authflowCookie, s, connections);
  const sdk = (s: number) => cannon(`${otel.authflowUrl}/data`, otel.authflowCookie, s, connections);
  await none(1);
  await sdk(1);
  const route = await alternate(3, { none: () => none(seconds), sdk: () => sdk(seconds) });
  const failures = [...route.none, ...route.sdk].reduce((n, r) => n + r.non2xx + r.errors, 0);
  const rps = (list: Run[]): number[] => list.map((r) => r.rps);
  const routeRatio = pairedRatio(rps(route.sdk), rps(route.none));
  return {
    rows: [
      {
        measurement: '10a. Silent cache hit with an OpenTelemetry SDK registered (ops/s)', authflow: fmt(median(silent.sdk)),
        baseline: `no SDK: ${fmt(median(silent.none))}`, ratio: `${silentRatio.toFixed(2)}x`, target: '(reported)', met: spans > 0 ? 'n/a' : 'ERROR',
      },
      {
        measurement: '10b. Protected route with an OpenTelemetry SDK registered (req/s)', authflow: fmt(median(rps(route.sdk))),
        baseline: `no SDK: ${fmt(median(rps(route.none)))}`, ratio: `${routeRatio.toFixed(2)}x`, target: '(reported)', met: failures === 0 ? 'n/a' : 'ERROR',
      },
    ],
    details: [
      `(10) SDK: BasicTracerProvider (AlwaysOnSampler, SimpleSpanProcessor -> InMemorySpanExporter, drained every second), AsyncLocalStorageContextManager, MeterProvider with a reader;`
        + ` silent hit: 4 alternating rounds of 500 ms, sequential, the SDK registered for its rounds only (${spans} spans recorded);`
        + ` protected route: autocannon ${connections} connections, 3 alternating rounds of ${seconds} s against two app children (one with OTEL_SDK=memory); non-2xx + errors: ${failures}.`,
      `    ops/s silent  none [${silent.none.map((v) => fmt(v)).join(', ')}]  sdk [${silent.sdk.map((v) => fmt(v)).join(', ')}]`,
      `    req/s route   none [${route.none.map((r) => fmt(r.rps)).join(', ')}]  sdk [${route.sdk.map((r) => fmt(r.rps)).join(', ')}]`,
    ],
  };
}
