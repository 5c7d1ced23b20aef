/**
 * (1) A protected Express route on the cache-hit path: `requireAuth()` + `await req.getToken(...)`
 * (Redis sessions + Redis token cache) vs the floor, the same route with only express-session +
 * connect-redis and no authflow. autocannon from this process, the apps in a child
 * (bench/workers/appServer.ts), floor and authflow runs alternating.
 */
import autocannon from 'autocannon';
import {
  alternate, fmt, judged, median, nextJson, pairedRatio, reported, sharedSetup, startWorker,
  type BenchContext, type MeasurementResult,
} from './common.js';

export interface AppSetup {
  authflowUrl: string;
  floorUrl: string;
  /** Signed-in session cookies (`authflow.sid=...`). */
  authflowCookie: string;
  floorCookie: string;
  /** Client addresses of each app's Redis connection (as MONITOR shows them). */
  authflowAddr: string;
  floorAddr: string;
}

/** The session cookie a response sets, with its signature cookie when there is one (koa-session's `authflow.sid.sig`). */
const cookieOf = (response: Response): string | undefined =>
  response.headers.getSetCookie().filter((c) => /^authflow\.sid(\.sig)?=/.test(c)).map((c) => c.split(';')[0]).join('; ') || undefined;

/**
 * The app server child, signed in once (alice through the dev OP), shared by (1) and (3); (8)
 * starts a second one with `OTEL_SDK=memory` (`variant: 'otel'`).
 */
export function appSetup(ctx: BenchContext, variant: 'plain' | 'otel' = 'plain'): Promise<AppSetup> {
  return sharedSetup(ctx, variant === 'plain' ? 'apps' : 'apps-otel', async () => {
    const { op } = ctx;
    const worker = startWorker(ctx, 'appServer.ts', {
      APP_PREFIX: `${ctx.prefix}app${variant === 'plain' ? '' : '-otel'}:`,
      ISSUER: op.issuer,
      CLIENT_ID: op.clients.webApp.clientId,
      CLIENT_SECRET: op.clients.webApp.clientSecret!,
      ...(variant === 'otel' ? { OTEL_SDK: 'memory' } : {}),
    }, variant === 'plain' ? 'appServer' : 'appServer-otel');
    ctx.cleanups.push(() => worker.stop());
    const ports = await nextJson<{ authflowPort: number; floorPort: number; authflowAddr: string; floorAddr: string }>(worker);
    const authflowUrl = `http://127.0.0.1:${ports.authflowPort}`;
    const floorUrl = `http://127.0.0.1:${ports.floorPort}`;
    const { authflowCookie, floorCookie } = await signedInPair(op, authflowUrl, floorUrl);
    return { authflowUrl, floorUrl, authflowCookie, floorCookie, authflowAddr: ports.authflowAddr, floorAddr: ports.floorAddr };
  });
}

/**
 * Signs alice in through the authflow app (/login -> the OP's pages -> /callback, a new session
 * id), then gives the floor app a session holding the same data (/copy-session, /init).
 */
export async function signedInPair(op: BenchContext['op'], authflowUrl: string, floorUrl: string): Promise<{ authflowCookie: string; floorCookie: string }> {
  const login = await fetch(`${authflowUrl}/login?returnTo=%2Fdata`, { redirect: 'manual' });
  const pending = cookieOf(login);
  const authUri = login.headers.get('location');
  if (login.status !== 302 || !pending || !authUri) throw new Error(`login answered ${login.status}`);
  const callback = new URL(await op.signIn(authUri, { username: 'alice' }));
  const done = await fetch(`${authflowUrl}${callback.pathname}${callback.search}`, { redirect: 'manual', headers: { cookie: pending } });
  const authflowCookie = cookieOf(done);
  if (done.status !== 302 || !authflowCookie) throw new Error(`callback answered ${done.status}`);
  const check = await fetch(`${authflowUrl}/data`, { headers: { cookie: authflowCookie, accept: 'application/json' } });
  if (check.status !== 200) throw new Error(`authflow /data answered ${check.status}: ${await check.text()}`);
  await fetch(`${authflowUrl}/copy-session`, { headers: { cookie: authflowCookie } });
  const init = await fetch(`${floorUrl}/init`);
  const floorCookie = cookieOf(init);
  if (init.status !== 200 || !floorCookie) throw new Error(`floor /init answered ${init.status}`);
  const floorCheck = await fetch(`${floorUrl}/data`, { headers: { cookie: floorCookie } });
  if (floorCheck.status !== 200 || !((await floorCheck.json()) as { n?: number }).n) throw new Error(`floor /data answered ${floorCheck.status} without the session`);
  return { authflowCookie, floorCookie };
}

/** One autocannon run's figures. */
export interface Run { rps: number; p50: number; p99: number; non2xx: number; errors: number }

/** autocannon against `url` with the session `cookie`, JSON accepted. */
export async function cannon(url: string, cookie: string, seconds: number, connections: number): Promise<Run> {
  const r = await autocannon({ url, connections, duration: seconds, headers: { cookie, accept: 'application/json' } });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors + r.timeouts };
}

export async function protectedRoute(ctx: BenchContext): Promise<MeasurementResult> {
  const apps = await appSetup(ctx);
  const connections = 10;
  // Short rounds, many of them (see bench/frameworks.ts).
  const seconds = 3;
  const rounds = 9;
  const floor = (s: number) => cannon(`${apps.floorUrl}/data`, apps.floorCookie, s, connections);
  const authflow = (s: number) => cannon(`${apps.authflowUrl}/data`, apps.authflowCookie, s, connections);
  const noToken = (s: number) => cannon(`${apps.authflowUrl}/no-token`, apps.authflowCookie, s, connections);
  await floor(1);
  await authflow(1);
  await noToken(1);
  const runs = await alternate(rounds, { floor: () => floor(seconds), authflow: () => authflow(seconds), noToken: () => noToken(seconds) });
  const failures = [...runs.floor, ...runs.authflow, ...runs.noToken].reduce((n, r) => n + r.non2xx + r.errors, 0);
  const m = (list: Run[], k: keyof Run): number => median(list.map((r) => r[k]));
  const [aRps, fRps, nRps] = [m(runs.authflow, 'rps'), m(runs.floor, 'rps'), m(runs.noToken, 'rps')];
  const rps = (list: Run[]): number[] => list.map((r) => r.rps);
  const ratio = pairedRatio(rps(runs.authflow), rps(runs.floor));
  const ratioNoToken = pairedRatio(rps(runs.noToken), rps(runs.floor));
  const usPerRequest = (r: number): string => fmt(1e6 / r, 0);
  return {
    rows: [
      {
        measurement: '1. Protected route, cache hit (req/s)', authflow: fmt(aRps), baseline: `express-session + connect-redis only: ${fmt(fRps)}`,
        ...judged(ratio, { atLeast: 0.85 }, failures === 0),
      },
      {
        measurement: '1. (diagnostic) same route without req.getToken (req/s)', authflow: fmt(nRps), baseline: `floor: ${fmt(fRps)}`,
        ...reported(ratioNoToken),
      },
      {
        measurement: '1. Protected route latency p50 / p99 (ms)', authflow: `${m(runs.authflow, 'p50')} / ${m(runs.authflow, 'p99')}`,
        baseline: `floor: ${m(runs.floor, 'p50')} / ${m(runs.floor, 'p99')}`, ratio: `p99 ${(m(runs.authflow, 'p99') / m(runs.floor, 'p99')).toFixed(2)}x`,
        target: '(reported)', met: 'n/a',
      },
    ],
    details: [
      `(1) autocannon ${connections} connections, ${rounds} alternating rounds of ${seconds} s per variant (after 1 s warm-up each), medians shown, ratios = median of per-round ratios; apps in one child process, autocannon here;`
        + ' connect-redis 8.1 with disableTouch: true in both apps (touch would add an EXPIRE per request); authflow: authSession + auth() + requireAuth() + req.getToken(api://orders/Orders.Read).',
      `    req/s  authflow [${runs.authflow.map((r) => fmt(r.rps)).join(', ')}]  floor [${runs.floor.map((r) => fmt(r.rps)).join(', ')}]  no-token [${runs.noToken.map((r) => fmt(r.rps)).join(', ')}]; non-2xx + errors: ${failures}`,
      `    p50/p99 ms (autocannon, whole ms)  authflow [${runs.authflow.map((r) => `${r.p50}/${r.p99}`).join(', ')}]  floor [${runs.floor.map((r) => `${r.p50}/${r.p99}`).join(', ')}]  no-token [${runs.noToken.map((r) => `${r.p50}/${r.p99}`).join(', ')}]`,
      `    machine time per request (1/throughput, 2 cores shared by autocannon, the app and Redis): floor ${usPerRequest(fRps)} us, authflow without getToken ${usPerRequest(nRps)} us, authflow ${usPerRequest(aRps)} us`,
    ],
  };
}
