/**
 * authflow without `@opentelemetry/api` (an optional peer dependency): in a child process whose
 * resolver hides the package, sign-in and token acquisition work and log lines are written.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

describe('telemetry: the OpenTelemetry API absent', () => {
  it('loads, signs in, serves a hit and refreshes, logs through console; the API is not loaded', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--require', here('./fixtures/hide-otel-api.cjs'), '--import', 'tsx', here('./fixtures/withoutApi.ts'),
    ], { timeout: 60_000, env: { ...process.env, NODE_ENV: 'test' } });
    const seen = JSON.parse(stdout.trim().split('\n').at(-1)!) as { resolvable: boolean; apiLoaded: boolean; fromCache: boolean[]; lines: string[] };
    assert.equal(seen.resolvable, false, 'the hook hides the package');
    assert.equal(seen.apiLoaded, false);
    assert.deepEqual(seen.fromCache, [false, true, false]);
    const line = seen.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.code === 'x_test');
    assert.deepEqual(line, { level: 'warn', msg: 'authflow: a line', code: 'x_test', correlationId: 'c-1' });
  });

  it('installed without an SDK: nothing is on; registering providers later turns tracing and metrics on', async () => {
    // node --test runs each file in its own process: nothing is registered here yet.
    const { api, tracingOn, activeMeter } = await import('../../src/telemetry/otel.js');
    assert.ok(api, 'the API is installed as a devDependency');
    assert.equal(tracingOn(), false);
    assert.equal(activeMeter(), undefined);
    const { installTelemetry } = await import('../helpers/otel.js');
    installTelemetry();
    assert.equal(tracingOn(), true);
    assert.ok(activeMeter());
  });
});
