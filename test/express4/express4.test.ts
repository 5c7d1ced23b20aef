/**
 * authflow/express on Express 4: the adapter suites for Express (sign-in, refusals, open redirects,
 * incremental consent, logout, back-channel logout, requireBearer, the drift items, leak scan, the first hour) run again in a child process in
 * which `express` resolves to Express 4.22 (a resolve hook; the adapter's own code is unchanged).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const root = new URL('../../', import.meta.url).pathname;
// A test runner of its own: without NODE_TEST_CONTEXT the child does not think it is nested.
const { NODE_TEST_CONTEXT: _nested, ...env } = process.env;
const node = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', '--import', './test/express4/register.mjs', ...args], { cwd: root, env: { ...env, AUTHFLOW_ADAPTERS: 'express' }, encoding: 'utf8', timeout: 140_000 });

describe('Express 4', () => {
  it('the hook really gives the adapter Express 4', () => {
    const probe = node(['--input-type=module', '-e', "const { default: express } = await import('express'); console.log(typeof express.query === 'function' ? 'express4' : 'express5')"]);
    assert.equal(probe.stdout.trim(), 'express4', probe.stderr);
  });

  it('passes the Express suites', { timeout: 150_000 }, () => {
    const run = node(['--test', '--test-concurrency=1', 'test/adapters/web.test.ts', 'test/adapters/bearer.test.ts', 'test/adapters/drift.test.ts', 'test/web/chain.test.ts', 'test/web/first-hour-express.test.ts']);
    const summary = /# pass (\d+)\n# fail (\d+)/.exec(run.stdout);
    assert.ok(summary, `${run.stdout.slice(-2000)}\n${run.stderr.slice(-2000)}`);
    assert.equal(summary[2], '0', run.stdout.split('\n').filter((l) => /not ok|Error/.test(l)).slice(0, 20).join('\n'));
    assert.ok(Number(summary[1]) >= 20, `ran ${summary[1]} tests`);
    assert.equal(run.status, 0);
  });
});
