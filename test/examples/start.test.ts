/**
 * `npm start` (examples/start.ts) and `npm run dev-op` as child processes: a port already taken, a port that is not a
 * number, a Redis that does not answer — each ends in one line naming the variable to change and a
 * non-zero exit code, never a raw stack. All ports are random free ones (never 3000-3002/4000).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { frameworkFrom } from '../../examples/env.js';

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

interface Run { code: number | null; stdout: string; stderr: string; timedOut: boolean }

/** The whole run, for an assertion's message: a failure shows what the child printed and whether it was killed. */
const shown = (run: Run): string => `exit code ${run.code}${run.timedOut ? ' (killed after 60 s)' : ''}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`;

/**
 * Runs an example script with `env` on top of a copy of this process's environment (no REDIS_URL,
 * HOST or DEV_OP_CLIENT_SECRET). With `until`, stops it (SIGTERM) once stdout matches.
 */
async function start(env: Record<string, string>, script = 'examples/start.ts', until?: RegExp, whileUp?: () => Promise<void>): Promise<Run> {
  const { REDIS_URL: _redis, HOST: _host, DEV_OP_CLIENT_SECRET: _secret, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: root, env: { ...inherited, NODE_ENV: 'development', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let stopping = false;
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    if (until?.test(stdout) && !stopping) {
      stopping = true;
      // What the caller checks while everything runs, then the stop.
      void (whileUp ?? (async () => {}))().finally(() => child.kill('SIGTERM'));
    }
  });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, 60_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr, timedOut };
}

/** Four free ports for the four variables. */
async function freePorts(): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const v of PORT_VARIABLES) env[v] = String(await freePort());
  return env;
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
      const env = { ...await freePorts(), [variable]: String(takenPort) };
      const run = await start(env);
      assert.equal(run.code, 1, shown(run));
      const lines = ownLines(run.stderr);
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0]!, new RegExp(`^port ${takenPort} is in use: set ${variable}=<a free port>`));
      assert.doesNotMatch(run.stderr, /EADDRINUSE|\n\s+at /);
    });
  }

  it('a port that is not a number is refused by name before anything starts', async () => {
    const run = await start({ PORT: String(await freePort()), ORDERS_PORT: 'orders', INVENTORY_PORT: String(await freePort()), DEV_OP_PORT: String(await freePort()) });
    assert.equal(run.code, 1, shown(run));
    assert.deepEqual(ownLines(run.stderr), ['ORDERS_PORT="orders" is not a port number (0-65535; see README "Try it")']);
  });

  it('a Redis that does not answer is named with REDIS_URL, in one line', async () => {
    const env = { ...await freePorts(), REDIS_URL: `redis://127.0.0.1:${await freePort()}` };
    const run = await start(env);
    assert.equal(run.code, 1, shown(run));
    const lines = ownLines(run.stderr);
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0]!, /^cannot reach Redis at 127\.0\.0\.1:\d+ \(REDIS_URL\): /);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
  });

  it('starts on the ports given, prints where everything is, and stops on SIGTERM with exit code 0', async () => {
    const env = await freePorts();
    const run = await start(env, 'examples/start.ts', /demo users:.*\n/);
    assert.equal(run.code, 0, shown(run));
    assert.match(run.stdout, new RegExp(`example app: +http://localhost:${env['PORT']}/`));
    assert.match(run.stdout, new RegExp(`orders API: +http://127\\.0\\.0\\.1:${env['ORDERS_PORT']}/orders`));
    assert.match(run.stdout, new RegExp(`dev OP: +http://127\\.0\\.0\\.1:${env['DEV_OP_PORT']}/`));
  });

  it('runs the web app on Hono and the orders API on Fastify when asked (APP_FRAMEWORK, ORDERS_FRAMEWORK)', async () => {
    const env: Record<string, string> = { ...await freePorts(), APP_FRAMEWORK: 'hono', ORDERS_FRAMEWORK: 'fastify' };
    let home = 0;
    let orders = 0;
    const run = await start(env, 'examples/start.ts', /demo users:.*\n/, async () => {
      home = (await fetch(`http://127.0.0.1:${env['PORT']}/`)).status;
      orders = (await fetch(`http://127.0.0.1:${env['ORDERS_PORT']}/orders`)).status;
    });
    assert.equal(run.code, 0, shown(run));
    assert.match(run.stdout, /example app: +http:\/\/localhost:\d+\/ \(hono\)/);
    assert.match(run.stdout, /orders API: +http:\/\/127\.0\.0\.1:\d+\/orders \(fastify\)/);
    assert.deepEqual([home, orders], [200, 401], 'the Hono home page answers; the Fastify API wants a token');
  });

  it('a framework the example does not come in is refused by name', async () => {
    const run = await start({ ...await freePorts(), APP_FRAMEWORK: 'django' });
    assert.equal(run.code, 1, shown(run));
    assert.deepEqual(ownLines(run.stderr), ['--app / APP_FRAMEWORK="django" is not one of express, hono (see README "Try it")']);
  });

  it('frameworkFrom: the flag wins over the variable, the first choice is the default', () => {
    const previous = process.env.ORDERS_FRAMEWORK;
    try {
      delete process.env.ORDERS_FRAMEWORK;
      assert.equal(frameworkFrom('orders', 'ORDERS_FRAMEWORK', ['express', 'fastify'], []), 'express');
      assert.equal(frameworkFrom('orders', 'ORDERS_FRAMEWORK', ['express', 'fastify'], ['--orders=fastify']), 'fastify');
      process.env.ORDERS_FRAMEWORK = 'fastify';
      assert.equal(frameworkFrom('orders', 'ORDERS_FRAMEWORK', ['express', 'fastify'], []), 'fastify');
      assert.equal(frameworkFrom('orders', 'ORDERS_FRAMEWORK', ['express', 'fastify'], ['--orders=express']), 'express');
      assert.throws(() => frameworkFrom('orders', 'ORDERS_FRAMEWORK', ['express', 'fastify'], ['--orders=koa']), /--orders \/ ORDERS_FRAMEWORK="koa" is not one of express, fastify/);
    } finally {
      if (previous === undefined) delete process.env.ORDERS_FRAMEWORK;
      else process.env.ORDERS_FRAMEWORK = previous;
    }
  });

  it('a DEV_OP_CLIENT_SECRET too short to be a secret is refused by name', async () => {
    const run = await start({ ...await freePorts(), DEV_OP_CLIENT_SECRET: 'secret' });
    assert.equal(run.code, 1, shown(run));
    assert.deepEqual(ownLines(run.stderr), ['DEV_OP_CLIENT_SECRET must be at least 16 characters (e.g. openssl rand -base64 24), or unset for the development secrets']);
  });
});

describe('npm start: the token cache key', () => {
  it('a CACHE_KEY that is not 32 bytes of base64 is refused by name', async () => {
    const run = await start({ ...await freePorts(), CACHE_KEY: 'not-a-key' });
    assert.equal(run.code, 1, shown(run));
    assert.deepEqual(ownLines(run.stderr), ['CACHE_KEY must be 32 bytes in base64 (openssl rand -base64 32), or unset for a key of this run only']);
  });
});

describe('npm run dev-op (examples/dev-op/main.ts)', () => {
  const webAppSecret = (stdout: string): string | undefined => / webApp +client_id=\S+ secret=(\S+)/.exec(stdout)?.[1];

  it('prints the same development secrets at every start (a .env does not go stale), or DEV_OP_CLIENT_SECRET', async () => {
    const first = await start({ DEV_OP_PORT: String(await freePort()) }, 'examples/dev-op/main.ts', /users:.*\n/);
    const second = await start({ DEV_OP_PORT: String(await freePort()) }, 'examples/dev-op/main.ts', /users:.*\n/);
    assert.equal(first.code, 0, shown(first));
    assert.ok(webAppSecret(first.stdout), shown(first));
    assert.equal(webAppSecret(second.stdout), webAppSecret(first.stdout), shown(second));
    assert.match(first.stdout, /fixed development secrets, accepted from loopback only/);

    const own = await start({ DEV_OP_PORT: String(await freePort()), DEV_OP_CLIENT_SECRET: 'an-own-secret-for-the-dev-op' }, 'examples/dev-op/main.ts', /users:.*\n/);
    assert.equal(webAppSecret(own.stdout), 'an-own-secret-for-the-dev-op', shown(own));
    assert.equal(own.code, 0, shown(own));
  });

  it('DEV_OP_PORT in use ends in one line naming DEV_OP_PORT', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as { port: number }).port;
      const run = await start({ DEV_OP_PORT: String(port) }, 'examples/dev-op/main.ts');
      assert.equal(run.code, 1, shown(run));
      assert.deepEqual(ownLines(run.stderr), [`port ${port} is in use: set DEV_OP_PORT=<a free port> for the dev OP (see README "Try it")`]);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
