/**
 * (5) One app instance of the refresh storm: its own ConfidentialClient and ioredis connection on
 * the shared Redis partition. Prints "ready"; on each "go" line runs CALLS concurrent
 * `acquireTokenSilent` on the partition (on a "one" line, a single call: the storm's baseline) and
 * prints one JSON line (ms from the line to the last answer, both instants on the wall clock, how
 * many were served from the cache, errors). Exits when stdin ends.
 */
import { createHash } from 'node:crypto';
import { RedisTokenCacheStore } from '../../src/index.js';
import { clientFromEnv, connectRedis, env, stdinLines } from '../common.js';

const redis = await connectRedis('bench-storm');
const client = clientFromEnv({
  cacheStore: new RedisTokenCacheStore({ client: redis, prefix: env('PREFIX') }),
  // Expiry is simulated by editing the shared store, which a local copy would not see for its TTL
  // (real expiry, by time, reaches both): the storm goes to the store, as after a real expiry.
  localCacheSeconds: 0,
});
const partition = env('PARTITION');
const scopes = [env('SCOPE')];
const calls = Number(env('CALLS'));
await client.discover();
const [account] = await client.getAccounts({ partition });
if (!account) throw new Error('storm worker: no account in the partition');
process.stdout.write('ready\n');

for await (const line of stdinLines()) {
  const command = line.trim();
  if (command !== 'go' && command !== 'one') continue;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const outcomes = await Promise.allSettled(Array.from({ length: command === 'go' ? calls : 1 }, () => client.acquireTokenSilent({ scopes, account, partition })));
  const ended = performance.now();
  const cpu = process.cpuUsage(cpuBefore);
  const ms = ended - started;
  const errors = outcomes.flatMap((o) => (o.status === 'rejected' ? [String((o.reason as Error)?.message ?? o.reason)] : []));
  const fromCache = outcomes.filter((o) => o.status === 'fulfilled' && o.value.fromCache).length;
  const tokens = new Set(outcomes.flatMap((o) => (o.status === 'fulfilled' ? [createHash('sha256').update(o.value.accessToken).digest('base64url').slice(0, 16)] : [])));
  // On the wall clock (epoch ms), comparable across the processes of one machine.
  const [startedAt, endedAt] = [performance.timeOrigin + started, performance.timeOrigin + ended];
  process.stdout.write(`${JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, startedAt, endedAt, fromCache, errors, tokenHashes: [...tokens] })}\n`);
}
redis.disconnect();
