/**
 * `npm run bench`: every figure as a ratio against a baseline measured in the same run on the same
 * machine (loopback only, bounded in time). Prints the table and writes bench/results.md.
 *
 *   npm run bench                       all ten measurements
 *   BENCH_FRAMEWORKS=hono npm run bench -- --only 8   (8) for some frameworks only (koa, fastify, hono)
 *   npm run bench -- --only 1,3         some of them (results.md is written only for a full run)
 *   npm run bench -- --profile          child processes write --cpu-prof profiles to bench/profiles/
 *
 * Redis: REDIS_URL or 127.0.0.1:6379; every key starts with a per-run prefix and is deleted at the end.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDevOp } from '../examples/dev-op/index.js';
import { connectRedis, deleteKeys, uniquePrefix, type BenchContext, type MeasurementResult, type Row } from './common.js';
import { protectedRoute } from './protectedRoute.js';
import { silentVsMsal } from './silentVsMsal.js';
import { redisCommands } from './redisCommands.js';
import { bearer } from './bearer.js';
import { refreshStorm } from './refreshStorm.js';
import { scale } from './scale.js';
import { defaultScope } from './defaultScope.js';
import { frameworks } from './frameworks.js';
import { appTokens } from './appTokens.js';
import { telemetry } from './telemetry.js';
import { renderChart } from './chart.js';

const MEASUREMENTS: Array<{ id: number; name: string; budgetMs: number; run: (ctx: BenchContext) => Promise<MeasurementResult> }> = [
  { id: 1, name: 'protected route (autocannon)', budgetMs: 130_000, run: protectedRoute },
  { id: 2, name: 'silent cache hit vs msal-node', budgetMs: 90_000, run: silentVsMsal },
  { id: 3, name: 'Redis commands per request', budgetMs: 60_000, run: redisCommands },
  { id: 4, name: 'bearer validation', budgetMs: 90_000, run: bearer },
  { id: 5, name: 'refresh storm', budgetMs: 90_000, run: refreshStorm },
  { id: 6, name: 'scale in sessions', budgetMs: 120_000, run: scale },
  { id: 7, name: '.default silent cache hit', budgetMs: 30_000, run: defaultScope },
  { id: 8, name: 'protected route on Koa, Fastify, Hono (autocannon)', budgetMs: 220_000, run: frameworks },
  { id: 9, name: 'OBO and client credentials cache hits vs msal-node', budgetMs: 60_000, run: appTokens },
  { id: 10, name: 'OpenTelemetry SDK registered vs not', budgetMs: 90_000, run: telemetry },
];
/** The whole run is cut off after this (each measurement also has its own budget). */
const TOTAL_BUDGET_MS = 600_000;

const args = process.argv.slice(2);
const onlyArg = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const only = onlyArg ? new Set(onlyArg.split(',').map(Number)) : undefined;
const benchDir = fileURLToPath(new URL('.', import.meta.url));
const profileDir = args.includes('--profile') ? join(benchDir, 'profiles') : undefined;
if (profileDir) mkdirSync(profileDir, { recursive: true });

const started = performance.now();
const watchdog = setTimeout(() => {
  process.stderr.write(`bench: over the ${TOTAL_BUDGET_MS / 1000} s budget, giving up\n`);
  process.exit(2);
}, TOTAL_BUDGET_MS);
watchdog.unref();

const log = (line: string): void => {
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1)}s] ${line}\n`);
};

const op = await startDevOp();
const redis = await connectRedis('bench-main');
const tmpDir = mkdtempSync(join(tmpdir(), 'authflow-bench-'));
const ctx: BenchContext = { op, redis, prefix: uniquePrefix(), profileDir, tmpDir, shared: new Map(), cleanups: [] };
const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';

const rows: Row[] = [];
const details: string[] = [];
const durations: string[] = [];
try {
  for (const m of MEASUREMENTS) {
    if (only && !only.has(m.id)) continue;
    log(`(${m.id}) ${m.name}...`);
    const t = performance.now();
    try {
      const result = await boundedRun(m.budgetMs, `(${m.id}) ${m.name}`, m.run(ctx));
      rows.push(...result.rows);
      details.push(...result.details, '');
    } catch (err) {
      rows.push({ measurement: `${m.id}. ${m.name}`, authflow: 'ERROR', baseline: '', ratio: '', target: '', met: 'ERROR' });
      details.push(`(${m.id}) failed: ${(err as Error)?.stack ?? String(err)}`, '');
      log(`(${m.id}) failed: ${(err as Error)?.message ?? String(err)}`);
    }
    durations.push(`(${m.id}) ${((performance.now() - t) / 1000).toFixed(1)} s`);
    log(`(${m.id}) done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
} finally {
  for (const cleanup of ctx.cleanups.reverse()) await cleanup().catch((err: unknown) => log(`clean-up failed: ${(err as Error)?.message}`));
  const deleted = await deleteKeys(redis, ctx.prefix).catch(() => -1);
  log(`deleted ${deleted} Redis keys under ${ctx.prefix}`);
  redis.disconnect();
  await op.close();
  rmSync(tmpDir, { recursive: true, force: true });
}

const totalSeconds = (performance.now() - started) / 1000;
const table = renderTable(rows);
const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
const header = [
  `Date: ${new Date().toISOString()}`,
  `Machine: ${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM (${(freemem() / 2 ** 30).toFixed(1)} GiB free); Node ${process.version}; Redis ${redisVersion}; loopback only`,
  `Total time: ${totalSeconds.toFixed(1)} s (${durations.join(', ')})`,
  process.env.AUTHFLOW_BENCH_BUILD
    ? 'authflow as the package ships it: dist/ from npm run build (the bench\'s own code and floors through tsx)'
    : 'authflow from its sources through tsx (npm run bench measures the build instead)',
];
process.stdout.write(`\n${header.join('\n')}\n\n${table}\n\n${details.join('\n')}\n`);
if (!only) {
  const md = [
    '# authflow benchmarks',
    '',
    'Written by `npm run bench` (bench/run.ts). Every figure is a ratio against a baseline measured in the same run on the same machine;',
    'baselines and candidates alternate (A B, B A, ...) and the median is shown. Absolute numbers depend on the machine; the ratios are the result.',
    '',
    ...header.map((l) => `${l}  `),
    '',
    '![Each ratio as a bar against its target](results.svg)',
    '',
    table,
    '',
    '## Details',
    '',
    '```',
    ...details,
    '```',
    '',
  ].join('\n');
  writeFileSync(join(benchDir, 'results.md'), md);
  writeFileSync(join(benchDir, 'results.svg'), renderChart(rows, `authflow benchmarks, ${new Date().toISOString().slice(0, 10)}: ${cpu}, ${cpus().length} cores`));
}
clearTimeout(watchdog);
process.exit(rows.some((r) => r.met === 'ERROR') ? 1 : 0);

function renderTable(list: Row[]): string {
  const head = ['measurement', 'authflow', 'baseline (named)', 'ratio', 'target', 'met?'];
  const cells = list.map((r) => [r.measurement, r.authflow, r.baseline, r.ratio, r.target, r.met]);
  const escape = (s: string): string => s.replace(/\|/g, '\\|');
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...cells.map((c) => `| ${c.map(escape).join(' | ')} |`),
  ].join('\n');
}

async function boundedRun<T>(ms: number, label: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${label}: over its ${ms / 1000} s budget`)), ms);
    })]);
  } finally {
    clearTimeout(timer);
  }
}
