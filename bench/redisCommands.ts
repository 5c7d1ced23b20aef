/**
 * (3) Redis commands per request on the cache-hit path of (1): MONITOR on a separate connection,
 * counting only the commands sent by each app's own Redis connection (MONITOR names the client
 * address), over a known number of sequential requests. Other users of the same Redis are not
 * counted; `INFO commandstats` deltas are shown too, as a cross-check (they include everyone).
 */
import { connectRedis, fmt, type BenchContext, type MeasurementResult } from './common.js';
import { appSetup } from './protectedRoute.js';

const REQUESTS = 200;

function commandStats(info: string): Map<string, number> {
  const stats = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) stats.set(m[1]!, Number(m[2]));
  return stats;
}

export async function redisCommands(ctx: BenchContext): Promise<MeasurementResult> {
  const apps = await appSetup(ctx);
  const monitorClient = await connectRedis('bench-monitor');
  const seen = new Map<string, Map<string, number>>([[apps.authflowAddr, new Map()], [apps.floorAddr, new Map()]]);
  const monitor = await monitorClient.monitor();
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    const counts = seen.get(source);
    const name = args[0]?.toLowerCase();
    if (counts && name) counts.set(name, (counts.get(name) ?? 0) + 1);
  });
  const run = async (url: string, cookie: string): Promise<void> => {
    for (let i = 0; i < REQUESTS; i++) {
      const r = await fetch(url, { headers: { cookie, accept: 'application/json' } });
      if (r.status !== 200) throw new Error(`${url} answered ${r.status}`);
      await r.arrayBuffer();
    }
  };
  const statsBefore = commandStats(await ctx.redis.info('commandstats'));
  try {
    await run(`${apps.authflowUrl}/data`, apps.authflowCookie);
    await run(`${apps.floorUrl}/data`, apps.floorCookie);
    await new Promise((resolve) => setTimeout(resolve, 200)); // let MONITOR catch up
  } finally {
    monitor.disconnect();
    monitorClient.disconnect();
  }
  const statsAfter = commandStats(await ctx.redis.info('commandstats'));
  const perRequest = (addr: string): { total: number; breakdown: string } => {
    const counts = seen.get(addr)!;
    const total = [...counts.values()].reduce((a, b) => a + b, 0) / REQUESTS;
    const breakdown = [...counts].map(([name, n]) => `${fmt(n / REQUESTS, 2)} ${name.toUpperCase()}`).join(' + ') || 'none';
    return { total, breakdown };
  };
  const a = perRequest(apps.authflowAddr);
  const f = perRequest(apps.floorAddr);
  const delta = [...statsAfter].map(([name, n]) => [name, n - (statsBefore.get(name) ?? 0)] as const)
    .filter(([name, n]) => n > 0 && name !== 'info' && name !== 'monitor')
    .map(([name, n]) => `${name} ${n}`).join(', ');
  return {
    rows: [{
      measurement: '3. Redis commands per request, cache-hit path', authflow: `${fmt(a.total, 2)} (${a.breakdown})`,
      baseline: `floor: ${fmt(f.total, 2)} (${f.breakdown})`, ratio: `+${fmt(a.total - f.total, 2)}`, target: '<= 2', met: a.total <= 2 ? 'yes' : 'no',
    }],
    details: [
      `(3) MONITOR over ${REQUESTS} sequential requests per app, counting each app's own connection only; disableTouch: true in both.`,
      `    INFO commandstats delta over both runs (all clients of this Redis, ${REQUESTS * 2} requests): ${delta}`,
    ],
  };
}
