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

  it('a meter provider alone (no context manager): acquisitions are counted, without the cache layer', async () => {
    // Before the next test registers the full SDK in this process (node --test: one process per file).
    const { metrics } = await import('@opentelemetry/api');
    const sdk = await import('@opentelemetry/sdk-metrics');
    const reader = new sdk.PeriodicExportingMetricReader({ exporter: new sdk.InMemoryMetricExporter(sdk.AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000 });
    metrics.setGlobalMeterProvider(new sdk.MeterProvider({ readers: [reader] }));
    const { startDevOp, clientFor, signIn } = await import('../helpers/op.js');
    const op = await startDevOp();
    try {
      const client = clientFor(op, 'webApp');
      const { account } = await signIn(op, client, { partition: 'p' });
      await client.acquireTokenSilent({ scopes: ['api://orders/Orders.Read'], account: account!, partition: 'p' });
      const { resourceMetrics } = await reader.collect();
      const acquisitions = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === 'authflow.token.acquisitions');
      const points: Array<Record<string, unknown>> = (acquisitions?.dataPoints ?? []).map((p) => ({ ...p.attributes, value: p.value }));
      assert.deepEqual(points.sort((a, b) => String(a['authflow.flow']).localeCompare(String(b['authflow.flow']))), [
        { 'authflow.flow': 'auth_code', 'authflow.outcome': 'network', value: 1 },
        { 'authflow.flow': 'silent', 'authflow.outcome': 'cache_hit', value: 1 },
      ]);
    } finally {
      metrics.disable();
      await op.close();
    }
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
