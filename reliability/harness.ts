/**
 * Pieces shared by the reliability suites: app instances as child processes, sign-ins that
 * produce a session cookie, a bounded load loop, percentiles, and the report lines every suite
 * appends to test-output/reliability.jsonl (printed together by reliability/report.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { DevOp } from '../test/helpers/op.js';

export const REPORT_FILE = new URL('../test-output/reliability.jsonl', import.meta.url).pathname;

export interface Worker {
  url: string;
  process: ChildProcess;
}

/** Starts `count` app instances (reliability/app-worker.ts) and resolves when all listen. */
export async function startWorkers(count: number, env: Record<string, string>): Promise<{ workers: Worker[]; stop(): Promise<void> }> {
  const workers = await Promise.all(Array.from({ length: count }, async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', new URL('./app-worker.ts', import.meta.url).pathname], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const first = await Promise.race([
      lines.next(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('an app instance did not start within 20 s')), 20_000)),
    ]);
    const port = /^listening (\d+)$/.exec(String(first.value))?.[1];
    if (!port) throw new Error(`unexpected output from an app instance: ${String(first.value)}`);
    return { url: `http://127.0.0.1:${port}`, process: child };
  }));
  return {
    workers,
    async stop() {
      await Promise.all(workers.map((w) => new Promise<void>((resolve) => {
        if (w.process.exitCode !== null) return resolve();
        w.process.once('exit', () => resolve());
        w.process.kill('SIGTERM');
      })));
    },
  };
}

/** Signs `username` in through an app instance; resolves to the session cookie (`name=value`). */
export async function signInSession(op: DevOp, appUrl: string, username: string): Promise<string> {
  const login = await fetch(`${appUrl}/login`, { redirect: 'manual' });
  const preCookie = sessionCookie(login);
  const callback = new URL(await op.signIn(login.headers.get('location')!, { username }));
  const done = await fetch(`${appUrl}${callback.pathname}${callback.search}`, { redirect: 'manual', headers: { cookie: preCookie } });
  if (done.status !== 302) throw new Error(`sign-in failed: ${done.status} ${await done.text()}`);
  return sessionCookie(done);
}

function sessionCookie(response: Response): string {
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('authflow.sid='));
  if (!cookie) throw new Error(`no session cookie (status ${response.status})`);
  return cookie.split(';')[0]!;
}

export interface Sample {
  user: number;
  status: number;
  ms: number;
  at: number;
  body: string;
}

/**
 * `users` loops, each sending its requests one after another to the next URL in turn (round robin
 * over the instances), until `durationMs` has passed. Every request is bounded by `timeoutMs`
 * (a timed-out one is recorded with status 0).
 */
export async function runLoad(options: {
  users: number;
  durationMs: number;
  urls: (user: number, i: number) => string;
  headers: (user: number) => Record<string, string>;
  timeoutMs?: number;
  pauseMs?: number;
}): Promise<Sample[]> {
  const samples: Sample[] = [];
  const deadline = Date.now() + options.durationMs;
  let counter = 0;
  await Promise.all(Array.from({ length: options.users }, async (_, user) => {
    while (Date.now() < deadline) {
      const started = performance.now();
      let status = 0;
      let body = '';
      try {
        const response = await fetch(options.urls(user, counter++), {
          headers: { accept: 'application/json', ...options.headers(user) },
          redirect: 'manual',
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
        status = response.status;
        body = await response.text();
      } catch {
        status = 0;
      }
      samples.push({ user, status, ms: performance.now() - started, at: Date.now(), body });
      if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  }));
  return samples;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Records figures for the end-of-run report and prints them now. */
export function report(suite: string, figures: Record<string, string | number | boolean>): void {
  mkdirSync(new URL('../test-output/', import.meta.url).pathname, { recursive: true });
  appendFileSync(REPORT_FILE, `${JSON.stringify({ suite, figures })}\n`);
  console.log(`[reliability] ${suite}: ${Object.entries(figures).map(([k, v]) => `${k}=${v}`).join(', ')}`);
}

export const countBy = <T>(items: T[], key: (item: T) => string | number): Map<string | number, number> => {
  const counts = new Map<string | number, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
};
