/**
 * Redis failing under load, with two app instances (processes) on a redis-server of this suite's
 * own (append-only file, so a restart keeps the data): killed for 5 s, requests get a quick 503
 * `store_unavailable` (p99 under the 1 s store timeout), no instance crashes or queues commands,
 * and after Redis returns the same instances serve again. A Redis that loses its data (FLUSHALL)
 * sends users to sign in again: never a 500.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startDevOp, type DevOp } from '../test/helpers/op.js';
import { startRedisServer, type RedisServer } from '../test/helpers/redis.js';
import { countBy, percentile, report, runLoad, signInSession, startWorkers } from './harness.js';

const USERS = 20;
const STORE_TIMEOUT_MS = 1000;

describe('Redis faults under load', () => {
  let op: DevOp;
  let redis: RedisServer;
  let stack: Awaited<ReturnType<typeof startWorkers>>;
  const dir = mkdtempSync(join(tmpdir(), 'authflow-redis-'));
  const persistence = ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir];

  before(async () => {
    op = await startDevOp();
    redis = await startRedisServer(undefined, persistence);
    stack = await startWorkers(2, {
      ISSUER: op.issuer,
      CLIENT_ID: op.clients.webApp.clientId,
      CLIENT_SECRET: op.clients.webApp.clientSecret!,
      REDIS_URL: `redis://127.0.0.1:${redis.port}`,
      PREFIX: 'rf:',
    });
  });
  after(async () => {
    await stack?.stop();
    await redis?.stop();
    await op?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const health = async () => Promise.all(stack.workers.map(async (w) => (await fetch(`${w.url}/health`)).json() as Promise<{ rss: number; queued: number; redis: string }>));

  it('answers 503 quickly while Redis is down and serves again when it returns', { timeout: 120_000 }, async () => {
    const urls = stack.workers.map((w) => w.url);
    const cookies: string[] = [];
    for (let user = 0; user < USERS; user++) cookies.push(await signInSession(op, urls[user % 2]!, 'alice'));
    const load = (durationMs: number) => runLoad({
      users: USERS, durationMs, urls: (_u, i) => `${urls[i % 2]}/token`, headers: (user) => ({ cookie: cookies[user]! }), pauseMs: 20,
    });

    const before = await load(2000);
    assert.ok(before.every((s) => s.status === 200), 'healthy before the outage');

    await redis.stop();
    const outageStarted = Date.now();
    const during = await load(5000);
    const queuedDuring = (await health()).map((h) => h.queued);
    redis = await startRedisServer(redis.port, persistence);
    const downFor = Date.now() - outageStarted;
    // Instances reconnect by themselves (retry every 200 ms): wait for them, without restarting anything.
    const deadline = Date.now() + 10_000;
    while ((await health()).some((h) => h.redis !== 'ready') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const afterwards = await load(3000);

    const duringStatuses = countBy(during, (s) => s.status);
    const p99 = percentile(during.map((s) => s.ms), 99);
    report('redis-outage', {
      outageMs: downFor,
      requestsDuringOutage: during.length,
      statusesDuringOutage: [...duringStatuses].map(([s, n]) => `${s}x${n}`).join(' '),
      p99DuringOutageMs: Math.round(p99),
      storeTimeoutMs: STORE_TIMEOUT_MS,
      maxQueuedCommands: Math.max(...queuedDuring),
      requestsAfter: afterwards.length,
      okAfter: afterwards.filter((s) => s.status === 200).length,
    });
    assert.deepEqual([...duringStatuses.keys()], [503], 'only 503 during the outage');
    assert.ok(during.every((s) => JSON.parse(s.body).error === 'store_unavailable'));
    assert.ok(p99 < STORE_TIMEOUT_MS, `p99 ${p99} ms`);
    assert.ok(queuedDuring.every((q) => q === 0), 'no commands queued while disconnected');
    assert.ok(afterwards.length > 0 && afterwards.every((s) => s.status === 200), 'service resumed: sessions and tokens survived in the append-only file');
    for (const w of stack.workers) assert.equal(w.process.exitCode, null, 'no instance crashed');
  });

  it('sends users to sign in again when Redis loses its data, never a 500', { timeout: 60_000 }, async () => {
    const urls = stack.workers.map((w) => w.url);
    const cookies: string[] = [];
    for (let user = 0; user < 5; user++) cookies.push(await signInSession(op, urls[user % 2]!, 'bob'));
    const admin = new Redis({ host: '127.0.0.1', port: redis.port });
    await admin.flushall();
    admin.disconnect();
    const samples = await runLoad({ users: 5, durationMs: 1000, urls: (_u, i) => `${urls[i % 2]}/token`, headers: (user) => ({ cookie: cookies[user]! }) });
    const page = await fetch(`${urls[0]}/token`, { headers: { cookie: cookies[0]!, accept: 'text/html' }, redirect: 'manual' });
    report('redis-flushall', {
      requests: samples.length,
      statuses: [...countBy(samples, (s) => s.status)].map(([s, n]) => `${s}x${n}`).join(' '),
      pageStatus: page.status,
      pageLocation: page.headers.get('location') ?? '',
    });
    assert.ok(samples.every((s) => s.status === 401 && JSON.parse(s.body).login_uri === '/login?returnTo=%2Ftoken'), 'API calls are told where to sign in');
    assert.equal(page.status, 302);
    assert.equal(page.headers.get('location'), '/login?returnTo=%2Ftoken');
    const again = await signInSession(op, urls[1]!, 'bob');
    assert.equal((await fetch(`${urls[0]}/token`, { headers: { cookie: again } })).status, 200, 'signing in again works');
  });
});
