/**
 * Shared helpers of the benchmark suite: Redis connections and key clean-up, the dev OP's
 * clients, sign-in, statistics, the A/B alternation, child processes, and the result rows.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { ConfidentialClient, type ConfidentialClientOptions, type TokenResult } from '../src/index.js';
import type { startDevOp } from '../examples/dev-op/index.js';

export type DevOp = Awaited<ReturnType<typeof startDevOp>>;

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const ORDERS = ['api://orders/Orders.Read'];
export const INVENTORY = ['api://inventory/Inventory.Read'];
/** The web app's public URL as the dev OP knows it (its registered redirect URI is `<this>/callback`). */
export const BASE_URL = 'http://localhost:3000';

/** One line of the results table. */
export interface Row {
  measurement: string;
  authflow: string;
  baseline: string;
  ratio: string;
  target: string;
  met: 'yes' | 'no' | 'n/a' | 'ERROR';
}

/** What a measurement returns: its table rows and the details printed under the table. */
export interface MeasurementResult {
  rows: Row[];
  details: string[];
}

/** Shared state of one bench run. */
export interface BenchContext {
  op: DevOp;
  redis: Redis;
  /** Every key this run writes starts with it; deleted at the end (SCAN + UNLINK). */
  prefix: string;
  /** Spawn children with `--cpu-prof` into this directory. */
  profileDir: string | undefined;
  /** Scratch directory of this run (certificates), removed at the end. */
  tmpDir: string;
  /** Set-ups shared by several measurements (started once, on first use). */
  shared: Map<string, Promise<unknown>>;
  /** Run at the end, last registered first. */
  cleanups: Array<() => Promise<void>>;
}

/** Starts `make` once per run; later callers get the same promise. */
export function sharedSetup<T>(ctx: BenchContext, name: string, make: () => Promise<T>): Promise<T> {
  let setup = ctx.shared.get(name) as Promise<T> | undefined;
  if (!setup) {
    setup = make();
    ctx.shared.set(name, setup);
  }
  return setup;
}

/**
 * A connected client. ioredis is imported here, not at the top: loading ioredis 6 slows every
 * string method in the process until authflow is handed a client (src/util/stringPrototype.ts), so
 * workers that use no Redis (the bearer worker: a web API validating tokens) do not load it.
 */
export async function connectRedis(name?: string): Promise<Redis> {
  const { Redis } = await import('ioredis');
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, ...(name ? { connectionName: name } : {}) });
  await client.connect();
  return client;
}

export const uniquePrefix = (): string => `authflow-bench-${randomUUID().slice(0, 8)}:`;

/** Deletes every key under `prefix` (SCAN, never KEYS or FLUSH*). Returns how many. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

/** A ConfidentialClient for one of the dev OP's secret clients, over http (allowInsecureRequests). */
export function clientFor(op: DevOp, name: 'webApp' | 'orders' | 'inventory', overrides: Partial<ConfidentialClientOptions> = {}): ConfidentialClient {
  const registered = op.clients[name];
  return new ConfidentialClient({
    clientId: registered.clientId,
    authority: op.issuer,
    credential: { secret: registered.clientSecret! },
    allowInsecureRequests: true,
    authorityType: 'entra',
    ...overrides,
  });
}

/** The session secret of the bench's apps (authflow's and the floors'). */
export const SESSION_SECRET = 'bench-session-secret-0123456789-abcdefghij';

/**
 * The web app's client in a worker process, from `ISSUER`, `CLIENT_ID` and `CLIENT_SECRET` (the
 * dev OP over http), with its token cache and any other option in `options`.
 */
export function clientFromEnv(options: Partial<ConfidentialClientOptions>): ConfidentialClient {
  return new ConfidentialClient({
    clientId: env('CLIENT_ID'),
    authority: env('ISSUER'),
    credential: { secret: env('CLIENT_SECRET') },
    allowInsecureRequests: true,
    authorityType: 'entra',
    ...options,
  });
}

/** A full sign-in of `username` through the dev OP's pages (consenting to `scopes`), tokens cached in `partition`. */
export async function signIn(op: DevOp, client: ConfidentialClient, partition: string, scopes: string[] = [...ORDERS, ...INVENTORY], username = 'alice'): Promise<TokenResult> {
  const flow = await client.initiateAuthCodeFlow({ scopes, redirectUri: `${BASE_URL}/callback` });
  const callback = new URL(await op.signIn(flow.authUri, { username }));
  return client.acquireTokenByAuthCodeFlow(flow, callback.searchParams, { partition });
}

/** MSAL JSON as authflow exports it (only the sections the bench touches are typed). */
export interface MsalJson {
  AccessToken: Record<string, Record<string, string>>;
  RefreshToken: Record<string, Record<string, string>>;
  IdToken: Record<string, Record<string, string>>;
  Account: Record<string, Record<string, string>>;
  AppMetadata: Record<string, Record<string, string>>;
}

/**
 * Adds `count` access tokens for made-up APIs (`api://bench-<i>/Data.Read`) to an exported cache:
 * copies of its first real access token (same size), expiring in `lifetimeSeconds`.
 */
export function mintAccessTokens(cache: MsalJson, count: number, lifetimeSeconds = 86_400): MsalJson {
  const out = structuredClone(cache);
  const [, template] = Object.entries(out.AccessToken)[0] ?? [];
  if (!template) throw new Error('the cache has no access token to copy');
  const now = Math.floor(Date.now() / 1000);
  for (let i = 0; i < count; i++) {
    const target = `api://bench-${i}/Data.Read`;
    const entity: Record<string, string> = { ...template, target, cached_at: String(now), expires_on: String(now + lifetimeSeconds), extended_expires_on: String(now + lifetimeSeconds) };
    const key = [entity.home_account_id, entity.environment, 'accesstoken', entity.client_id, entity.realm, target].join('-').toLowerCase();
    out.AccessToken[key] = entity;
  }
  return out;
}

/** The scopes that hit each access token of a cache (one per entity, the first scope of its target). */
export function scopesOfCache(cache: MsalJson): string[][] {
  return Object.values(cache.AccessToken).map((at) => [at.target!.split(' ').find((s) => !['openid', 'profile', 'offline_access', 'email'].includes(s))!]);
}

// --- statistics ------------------------------------------------------------------------------

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/**
 * Runs each variant `rounds` times, alternating the order every round (A B, B A, A B, ...) so that
 * drift and warm-up hit every variant alike. Returns the samples per variant.
 */
export async function alternate<K extends string, T>(rounds: number, variants: Record<K, () => Promise<T>>): Promise<Record<K, T[]>> {
  const names = Object.keys(variants) as K[];
  const samples = Object.fromEntries(names.map((n) => [n, [] as T[]])) as Record<K, T[]>;
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) samples[name].push(await variants[name]());
  }
  return samples;
}

/**
 * The median of per-round ratios `candidate[i] / baseline[i]`: each pair ran back to back, so
 * machine-wide drift (other tenants, CPU frequency) cancels better than in a ratio of medians.
 */
export function pairedRatio(candidate: readonly number[], baseline: readonly number[]): number {
  return median(candidate.map((c, i) => c / baseline[i]!));
}

/** Calls `fn` sequentially (or `concurrency` loops at once) for `ms`; returns operations per second. */
export async function opsPerSecond(fn: (i: number) => Promise<unknown>, ms: number, concurrency = 1): Promise<number> {
  let count = 0;
  const end = performance.now() + ms;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      await fn(count);
      count++;
    }
  }));
  return count / ((performance.now() - started) / 1000);
}

/** Per-call latencies (ms) of `n` sequential calls. */
export async function latencies(fn: (i: number) => Promise<unknown>, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

/**
 * A ratio as the table prints it (`0.85x`), with more decimals (up to 4) while fewer would print it
 * as its target's limit: 0.899 against `>= 0.9x` reads `0.899x`, not a `0.90x` marked no.
 */
export function ratioText(value: number, limit: number): string {
  let digits = 2;
  while (digits < 4 && value !== limit && value.toFixed(digits) === limit.toFixed(digits)) digits++;
  return `${value.toFixed(digits)}x`;
}

/**
 * A row's ratio, target and verdict from one limit (stated once): `{ atLeast: 0.9 }` or
 * `{ atMost: 2 }`; `valid` false (failed requests, wrong answers) marks the row not met whatever the ratio.
 */
export function judged(value: number, limit: { atLeast: number } | { atMost: number }, valid = true): Pick<Row, 'ratio' | 'target' | 'met'> {
  const [op, bound, passes] = 'atLeast' in limit ? ['>=', limit.atLeast, value >= limit.atLeast] : ['<=', limit.atMost, value <= limit.atMost];
  return { ratio: ratioText(value, bound), target: `${op} ${bound}x`, met: valid && passes ? 'yes' : 'no' };
}

/** A row that only reports its ratio (no target): the ratio with two decimals. */
export function reported(value: number): Pick<Row, 'ratio' | 'target' | 'met'> {
  return { ratio: `${value.toFixed(2)}x`, target: '(reported)', met: 'n/a' };
}

export const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : String(n));

// --- child processes -------------------------------------------------------------------------

export interface Worker {
  child: ChildProcess;
  /** The next stdout line (JSON workers print one object per line). */
  next(): Promise<string>;
  send(line: string): void;
  stop(): Promise<void>;
}

/**
 * Starts `bench/workers/<file>` under tsx (with --cpu-prof when profiling), lines on stdout; with
 * authflow's build when this process measures it (bench/useBuild.mjs).
 */
export function startWorker(ctx: Pick<BenchContext, 'profileDir'>, file: string, env: Record<string, string>, label = file): Worker {
  const path = fileURLToPath(new URL(`./workers/${file}`, import.meta.url));
  const profile = ctx.profileDir ? ['--cpu-prof', '--cpu-prof-dir', ctx.profileDir, '--cpu-prof-name', `${label}-${process.pid}-${Date.now()}.cpuprofile`] : [];
  const build = process.env.AUTHFLOW_BENCH_BUILD ? ['--import', fileURLToPath(new URL('./useBuild.mjs', import.meta.url))] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', ...build, path], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const exited = new Promise<never>((_, reject) => child.once('exit', (code, signal) => reject(new Error(`worker ${label} exited (${code ?? signal})`))));
  exited.catch(() => {});
  return {
    child,
    async next() {
      const r = await Promise.race([lines.next(), exited]);
      if (r.done) throw new Error(`worker ${label} closed its output`);
      return r.value as string;
    },
    send(line) {
      child.stdin!.write(`${line}\n`);
    },
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.stdin!.end();
      // Workers exit on stdin end; SIGTERM is not used so that --cpu-prof can write its profile.
    }),
  };
}

/** Reads one JSON line from a worker, skipping anything else it printed. */
export async function nextJson<T>(worker: Worker): Promise<T> {
  for (;;) {
    const line = await worker.next();
    if (line.startsWith('{')) return JSON.parse(line) as T;
  }
}

/** Fails a promise after `ms` (each measurement is bounded). */
export function within<T>(ms: number, label: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: no result within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** A worker's stdin as lines (for files under bench/workers). */
export function stdinLines(): AsyncIterableIterator<string> {
  return createInterface({ input: process.stdin })[Symbol.asyncIterator]();
}

export const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`bench worker needs ${name}`);
  return value;
};
