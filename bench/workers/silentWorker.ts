/**
 * (2) Silent cache hits, authflow vs msal-node, in one process started with NODE_EXTRA_CA_CERTS
 * (Node reads it at start-up) so that msal-node trusts the dev OP's self-signed https listener.
 * Both read the same entries from the same Redis: authflow one HASH (RedisTokenCacheStore),
 * msal-node one string per partition through its DistributedCachePlugin.
 *
 * Prints one JSON line: the cache-hit checks, then ops/s per round (sequential and concurrent),
 * and the Redis commands each library sent per call. Exits when stdin ends.
 */
import { ConfidentialClientApplication, DistributedCachePlugin, ProtocolMode, type AccountInfo, type ICacheClient, type IPartitionManager } from '@azure/msal-node';
import type { Redis } from 'ioredis';
import { ConfidentialClient, RedisTokenCacheStore } from '../../src/index.js';
import { alternate, connectRedis, env, latencies, opsPerSecond, percentile, stdinLines } from '../common.js';

export interface SilentWorkerConfig {
  authflow: { issuer: string; clientId: string; secret: string; prefix: string; partition: string; homeAccountId: string };
  msal: { authority: string; knownAuthorities: string[]; metadata: Record<string, unknown>; cacheKey: string; homeAccountId: string };
  scopes: string[][];
  rounds: number;
  roundMs: number;
  concurrency: number;
}

export interface SilentWorkerResult {
  checks: { authflowFromCache: boolean[]; msalFromCache: boolean[]; sameTokens: boolean[] };
  sequential: { authflow: number[]; authflowStore: number[]; msal: number[] };
  concurrent: { authflow: number[]; msal: number[] };
  /** authflow without its local copy against the floor: one HGETALL of the same partition, same client. */
  floor: { sequential: { authflowStore: number[]; hgetall: number[] }; concurrent: { authflowStore: number[]; hgetall: number[] } };
  latencyMs: { authflow: { p50: number; p99: number }; msal: { p50: number; p99: number } };
  commandsPerCall: { authflow: Record<string, number>; msal: Record<string, number> };
}

/** Counts the commands an ioredis client sends, by name. */
function countCommands(redis: Redis): { counts: Map<string, number>; reset(): void } {
  const counts = new Map<string, number>();
  const target = redis as unknown as { sendCommand: (command: { name: string }, ...rest: unknown[]) => unknown };
  const original = target.sendCommand.bind(redis);
  target.sendCommand = (command, ...rest) => {
    counts.set(command.name, (counts.get(command.name) ?? 0) + 1);
    return original(command, ...rest);
  };
  return { counts, reset: () => counts.clear() };
}

const config = JSON.parse(env('SILENT_CONFIG')) as SilentWorkerConfig;

const redisA = await connectRedis('bench-silent-authflow');
const redisM = await connectRedis('bench-silent-msal');
const countA = countCommands(redisA);
const countM = countCommands(redisM);

const a = config.authflow;
const authflow = new ConfidentialClient({
  clientId: a.clientId,
  authority: a.issuer,
  credential: { secret: a.secret },
  allowInsecureRequests: true,
  authorityType: 'entra',
  cacheStore: new RedisTokenCacheStore({ client: redisA, prefix: a.prefix }),
});
// The same client without its local copy: every hit is one HGETALL, as msal-node's is one GET.
const authflowStore = new ConfidentialClient({
  clientId: a.clientId,
  authority: a.issuer,
  credential: { secret: a.secret },
  allowInsecureRequests: true,
  authorityType: 'entra',
  cacheStore: new RedisTokenCacheStore({ client: redisA, prefix: a.prefix }),
  localCacheSeconds: 0,
});
const [authflowAccount] = await authflow.getAccounts({ partition: a.partition });
if (!authflowAccount) throw new Error('authflow: no account in the seeded partition');

const m = config.msal;
const cacheClient: ICacheClient = {
  get: async (key) => (await redisM.get(key)) ?? '',
  set: async (key, value) => redisM.set(key, value),
};
const partitionManager: IPartitionManager = { getKey: async () => m.cacheKey, extractKey: async () => m.cacheKey };
const msal = new ConfidentialClientApplication({
  auth: {
    clientId: a.clientId,
    clientSecret: a.secret,
    authority: m.authority,
    knownAuthorities: m.knownAuthorities,
    authorityMetadata: JSON.stringify(m.metadata),
  },
  cache: { cachePlugin: new DistributedCachePlugin(cacheClient, partitionManager) },
  system: { protocolMode: ProtocolMode.OIDC },
});
const msalAccount: AccountInfo | null = await msal.getTokenCache().getAccountByHomeId(m.homeAccountId);
if (!msalAccount) throw new Error('msal-node: no account in the seeded cache');

const scopes = config.scopes;
const viaAuthflow = (i: number) => authflow.acquireTokenSilent({ scopes: scopes[i % scopes.length]!, account: authflowAccount, partition: a.partition });
const viaAuthflowStore = (i: number) => authflowStore.acquireTokenSilent({ scopes: scopes[i % scopes.length]!, account: authflowAccount, partition: a.partition });
const partitionKey = new RedisTokenCacheStore({ client: redisA, prefix: a.prefix }).keyOf(a.partition);
const viaHgetall = () => redisA.hgetall(partitionKey);
const viaMsal = (i: number) => msal.acquireTokenSilent({ scopes: scopes[i % scopes.length]!, account: msalAccount });

// Both must answer every scope from the cache, with the same token.
const checks: SilentWorkerResult['checks'] = { authflowFromCache: [], msalFromCache: [], sameTokens: [] };
for (let i = 0; i < scopes.length; i++) {
  const [x, y] = [await viaAuthflow(i), await viaMsal(i)];
  checks.authflowFromCache.push(x.fromCache);
  checks.msalFromCache.push(y.fromCache === true);
  checks.sameTokens.push(x.accessToken === y.accessToken);
}

// Commands per cache-hit call, over one pass of every scope.
countA.reset();
countM.reset();
for (let i = 0; i < scopes.length; i++) {
  await viaAuthflow(i);
  await viaMsal(i);
}
const perCall = (counts: Map<string, number>): Record<string, number> => Object.fromEntries([...counts].map(([name, n]) => [name, n / scopes.length]));
const commandsPerCall = { authflow: perCall(countA.counts), msal: perCall(countM.counts) };

// Warm-up, then alternating rounds.
await opsPerSecond(viaAuthflow, 300);
await opsPerSecond(viaMsal, 300);
await opsPerSecond(viaAuthflowStore, 300);
const sequential = await alternate(config.rounds, {
  authflow: () => opsPerSecond(viaAuthflow, config.roundMs),
  authflowStore: () => opsPerSecond(viaAuthflowStore, config.roundMs),
  msal: () => opsPerSecond(viaMsal, config.roundMs),
});
const concurrent = await alternate(config.rounds, {
  authflow: () => opsPerSecond(viaAuthflow, config.roundMs, config.concurrency),
  msal: () => opsPerSecond(viaMsal, config.roundMs, config.concurrency),
});
// The Redis floor in more, shorter rounds: a ratio of neighbouring rounds cancels the machine's drift.
const floorRounds = config.rounds * 3;
const floorRoundMs = config.roundMs / 3;
const floor = {
  sequential: await alternate(floorRounds, {
    authflowStore: () => opsPerSecond(viaAuthflowStore, floorRoundMs),
    hgetall: () => opsPerSecond(viaHgetall, floorRoundMs),
  }),
  concurrent: await alternate(floorRounds, {
    authflowStore: () => opsPerSecond(viaAuthflowStore, floorRoundMs, config.concurrency),
    hgetall: () => opsPerSecond(viaHgetall, floorRoundMs, config.concurrency),
  }),
};
const lat = await alternate(2, { authflow: () => latencies(viaAuthflow, 500), msal: () => latencies(viaMsal, 500) });
const summary = (runs: number[][]): { p50: number; p99: number } => {
  const all = runs.flat().sort((x, y) => x - y);
  return { p50: percentile(all, 50), p99: percentile(all, 99) };
};

const result: SilentWorkerResult = {
  checks,
  sequential,
  concurrent,
  floor,
  latencyMs: { authflow: summary(lat.authflow), msal: summary(lat.msal) },
  commandsPerCall,
};
process.stdout.write(`${JSON.stringify(result)}\n`);

for await (const _ of stdinLines()) { /* wait for the parent to close stdin */ }
redisA.disconnect();
redisM.disconnect();
