/**
 * `npm start` (examples/start.ts) as a child process: a port already taken, a port that is not a
 * number, a Redis that does not answer — each ends in one line naming the variable to change and a
 * non-zero exit code, never a raw stack. All ports are random free ones (never 3000-3002/4000).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';

const root = new URL('../../', import.meta.url).pathname;
const PORT_VARIABLES = ['PORT', 'ORDERS_PORT', 'INVENTORY_PORT', 'DEV_OP_PORT'] as const;

/** A port that was free a moment ago (the OS picks it). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Run { code: number | null; stdout: string; stderr: string }

/** Runs examples/start.ts with `env` on top of a copy of this process's environment (no REDIS_URL). */
async function start(env: Record<string, string>): Promise<Run> {
  const { REDIS_URL: _redis, HOST: _host, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/start.ts'], {
    cwd: root, env: { ...inherited, NODE_ENV: 'development', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** stderr without the runtime warning oidc-provider prints on import under Node 20. */
const ownLines = (stderr: string): string[] => stderr.split('\n').filter((l) => l.trim() && !/^oidc-provider WARNING/.test(l));

describe('npm start (examples/start.ts)', () => {
  let taken: Server;
  let takenPort: number;

  before(async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    takenPort = (taken.address() as { port: number }).port;
  });
  after(() => new Promise<void>((resolve) => taken.close(() => resolve())));

  for (const variable of PORT_VARIABLES) {
    it(`a port in use (${variable}) ends in one line naming ${variable}, exit code 1, no stack`, async () => {
      const env: Record<string, string> = {};
      for (const v of PORT_VARIABLES) env[v] = String(await freePort());
      env[variable] = String(takenPort);
      const run = await start(env);
      assert.equal(run.code, 1, run.stderr);
      const lines = ownLines(run.stderr);
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0]!, new RegExp(`^port ${takenPort} is in use: set ${variable}=<a free port>`));
      assert.doesNotMatch(run.stderr, /EADDRINUSE|\n\s+at /);
    });
  }

  it('a port that is not a number is refused by name before anything starts', async () => {
    const run = await start({ PORT: String(await freePort()), ORDERS_PORT: 'orders', INVENTORY_PORT: String(await freePort()), DEV_OP_PORT: String(await freePort()) });
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(ownLines(run.stderr), ['ORDERS_PORT="orders" is not a port number (0-65535; see README "Try it")']);
  });

  it('a Redis that does not answer is named with REDIS_URL, in one line', async () => {
    const env: Record<string, string> = { REDIS_URL: `redis://127.0.0.1:${await freePort()}` };
    for (const v of PORT_VARIABLES) env[v] = String(await freePort());
    const run = await start(env);
    assert.equal(run.code, 1, run.stderr);
    const lines = ownLines(run.stderr);
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0]!, /^cannot reach Redis at 127\.0\.0\.1:\d+ \(REDIS_URL\): /);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
  });
});
