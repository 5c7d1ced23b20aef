/**
 * `OTEL=console npm start`: the example prints authflow's spans through the console exporter (a
 * sign-in started at /login shows `authflow.web.login` and the discovery request); an unknown
 * OTEL value stops the start with one line.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

const root = new URL('../../', import.meta.url).pathname;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs examples/start.ts; `onStdout` sees the output so far and may stop the child (returns true). */
async function start(env: Record<string, string>, onStdout: (stdout: string) => boolean = () => false): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { REDIS_URL: _redis, HOST: _host, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/start.ts'], { cwd: root, env: { ...inherited, NODE_ENV: 'development', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    if (onStdout(stdout)) child.kill('SIGTERM');
  });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

describe('OTEL=console npm start', () => {
  it('prints the spans of a sign-in started at /login', async () => {
    const ports = { PORT: await freePort(), ORDERS_PORT: await freePort(), INVENTORY_PORT: await freePort(), DEV_OP_PORT: await freePort() };
    let asked = false;
    const run = await start({ OTEL: 'console', ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) }, (stdout) => {
      if (!asked && /demo users:/.test(stdout)) {
        asked = true;
        void fetch(`http://127.0.0.1:${ports.PORT}/login`, { redirect: 'manual' });
      }
      return /name: 'authflow\.web\.login'/.test(stdout);
    });
    assert.match(run.stdout, /name: 'authflow\.web\.login'/, run.stderr);
    assert.match(run.stdout, /'authflow\.op\.endpoint': 'discovery'/);
    assert.match(run.stdout, /'http\.route': '\/login'/);
  });

  it('refuses an OTEL value it does not know, in one line', async () => {
    const run = await start({ OTEL: 'otlp', PORT: String(await freePort()) });
    assert.equal(run.code, 1);
    assert.deepEqual(run.stderr.split('\n').filter((l) => l.trim() && !/^oidc-provider WARNING/.test(l)), ['OTEL=otlp is not supported: use OTEL=console, or unset it']);
  });
});
