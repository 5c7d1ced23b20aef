/**
 * A separate app instance for the multi-process refresh test: its own ConfidentialClient and
 * ioredis client on the shared Redis. It waits for "go" on stdin so instances start together,
 * runs CALLS concurrent silent calls on one partition, and prints one JSON line with the results
 * (hashes of the access tokens it got, never the tokens).
 */
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { ConfidentialClient, RedisTokenCacheStore } from '../../src/index.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`refresh-worker needs ${name}`);
  return value;
};

const redis = new Redis(env('REDIS_URL'), { maxRetriesPerRequest: 1 });
const client = new ConfidentialClient({
  clientId: env('CLIENT_ID'),
  authority: env('ISSUER'),
  credential: { secret: env('CLIENT_SECRET') },
  allowInsecureRequests: true,
  authorityType: 'entra',
  cacheStore: new RedisTokenCacheStore({ client: redis, prefix: env('PREFIX') }),
});
const partition = env('PARTITION');
await client.discover();
const [account] = await client.getAccounts({ partition });
process.stdout.write('ready\n');

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() !== 'go') continue;
  const calls = Number(env('CALLS'));
  const outcomes = await Promise.allSettled(
    Array.from({ length: calls }, () => client.acquireTokenSilent({ scopes: [env('SCOPE')], account: account!, partition })),
  );
  const tokens = new Set<string>();
  const errors: string[] = [];
  for (const outcome of outcomes) {
    if (outcome.status === 'fulfilled') tokens.add(createHash('sha256').update(outcome.value.accessToken).digest('base64url'));
    else errors.push(String((outcome.reason as Error).message));
  }
  process.stdout.write(`${JSON.stringify({ tokens: [...tokens], errors })}\n`);
  break;
}
lines.close();
redis.disconnect();
