/**
 * docker-compose.yml as docker-compose resolves it (`docker-compose config`, offline: nothing is
 * pulled or started): valid, node_modules in a named volume rather than the host's bind-mounted
 * one, ports published on loopback only. Needs Debian's docker-compose (`.ci/run` installs it);
 * without it the test is skipped and says so.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const root = new URL('../../', import.meta.url).pathname;

describe('docker-compose.yml', () => {
  it('is valid, keeps node_modules in a named volume, publishes on loopback only', (t) => {
    const { DEV_OP_CLIENT_SECRET: _secret, ...env } = process.env;
    const run = spawnSync('docker-compose', ['config'], { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
    if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      t.skip('docker-compose is not installed (apt-get install -y docker-compose)');
      return;
    }
    assert.equal(run.status, 0, run.stderr);
    const example = run.stdout.slice(run.stdout.indexOf('\n  example:'));
    // The checkout is bind-mounted; node_modules over it is the named volume `node_modules`.
    const mounts = [...example.matchAll(/^\s+- (\S+):(\/app\S*):rw$/gm)].map((m) => [m[1], m[2]]);
    assert.deepEqual(mounts, [[root.replace(/\/$/, ''), '/app'], ['node_modules', '/app/node_modules']]);
    assert.match(run.stdout, /\nvolumes:\n\s+node_modules: \{\}/);
    const published = [...example.matchAll(/^\s+- (\S+:\d+:\d+)\/tcp$/gm)].map((m) => m[1]);
    assert.deepEqual(published, ['127.0.0.1:3000:3000', '127.0.0.1:3001:3001', '127.0.0.1:3002:3002', '127.0.0.1:4000:4000']);
  });
});
