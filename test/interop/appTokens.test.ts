/**
 * Issue 15, deliverable 1 (continued): app tokens across libraries. On-Behalf-Of tokens cached by
 * authflow are served by msal-node and the other way round (observation 3: the assertion hash is
 * `userAssertionHash` in msal-node, `user_assertion_hash` in authflow's first release); client
 * credentials tokens likewise, with `.default` scopes (observations 1 and 6: Entra aliases, and a
 * `.default` request served from the cache). MSAL Python 1.21 never reads its cache for OBO or
 * client credentials (`acquire_token_for_client`), so with it the check is its silent call for
 * the app (`acquire_token_silent(scopes, account=None)`) and authflow reading its cache.
 */
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appPartition, oboPartition } from '../../src/flows/context.js';
import { Matrix } from './matrix.js';
import {
  INVENTORY, ORDERS, authflowPeer, msalNodePeer, msalPythonPeer, pythonMsalAvailable, startInterop, type Interop, type Outcome,
} from './peers.js';

const python = pythonMsalAvailable();
const matrix = new Matrix();
const INVENTORY_DEFAULT = ['api://inventory/.default'];

async function counted(env: Interop, run: () => Promise<Outcome>): Promise<{ outcome: Outcome; requests: number }> {
  env.tokenRequests();
  const outcome = await run();
  return { outcome, requests: env.tokenRequests() };
}

function expectHit(result: { outcome: Outcome; requests: number }, label: string, token?: string): void {
  assert.ok(result.outcome.ok, `${label}: ${result.outcome.error} ${result.outcome.description ?? ''}`);
  assert.equal(result.requests, 0, `${label}: ${result.requests} token requests, expected a cache hit`);
  if (token) assert.equal(result.outcome.token, token, `${label}: the other library's token`);
}

describe('interop: On-Behalf-Of and client-credentials caches hit across libraries', () => {
  let env: Interop;
  let assertion: string;
  before(async () => {
    env = await startInterop();
    assertion = (await authflowPeer(env).rawSignIn('alice', ORDERS)).accessToken;
  });
  after(async () => {
    for (const line of matrix.lines()) console.log(line);
    await env?.close();
  });

  const oboPartitionOf = (token: string): string => oboPartition(createHash('sha256').update(token).digest('base64url'));

  it('OBO: authflow → msal-node, then msal-node → authflow (same assertion, .default and named scopes)', async () => {
    for (const scopes of [INVENTORY_DEFAULT, INVENTORY]) {
      const a = authflowPeer(env, { client: 'orders', partition: oboPartitionOf(assertion) });
      const first = await counted(env, () => a.onBehalfOf(assertion, scopes));
      assert.ok(first.outcome.ok, `${first.outcome.error} ${first.outcome.description}`);
      assert.equal(first.requests, 1);
      expectHit(await counted(env, () => a.onBehalfOf(assertion, scopes)), `authflow second OBO ${scopes}`, first.outcome.token);
      const m = await msalNodePeer(env, { client: 'orders' });
      await m.importCache(await a.exportCache());
      expectHit(await counted(env, () => m.onBehalfOf(assertion, scopes)), `msal-node OBO from authflow's cache ${scopes}`, first.outcome.token);
      matrix.record('msal-node + authflow', 'authflow → msal-node', `OBO ${scopes.join(' ')}: cache hit`, 'pass');

      const m2 = await msalNodePeer(env, { client: 'orders' });
      const own = await counted(env, () => m2.onBehalfOf(assertion, scopes));
      assert.ok(own.outcome.ok && own.requests === 1, `msal-node's own OBO: ${own.outcome.error}`);
      const a2 = authflowPeer(env, { client: 'orders', partition: oboPartitionOf(assertion) });
      await a2.importCache(await m2.exportCache());
      expectHit(await counted(env, () => a2.onBehalfOf(assertion, scopes)), `authflow OBO from msal-node's cache ${scopes}`, own.outcome.token);
      matrix.record('msal-node + authflow', 'msal-node → authflow', `OBO ${scopes.join(' ')}: cache hit`, 'pass');
    }
  });

  it('client credentials with .default: authflow ↔ msal-node, both directions', async () => {
    const partition = appPartition(env.op.clients.daemon.clientId, env.op.tenantId);
    const a = authflowPeer(env, { client: 'daemon', partition });
    const first = await counted(env, () => a.clientCredentials(INVENTORY_DEFAULT));
    assert.ok(first.outcome.ok && first.requests === 1, `${first.outcome.error} ${first.outcome.description}`);
    expectHit(await counted(env, () => a.clientCredentials(INVENTORY_DEFAULT)), 'authflow: two calls, one token request');
    const m = await msalNodePeer(env, { client: 'daemon' });
    await m.importCache(await a.exportCache());
    expectHit(await counted(env, () => m.clientCredentials(INVENTORY_DEFAULT)), 'msal-node from authflow\'s cache', first.outcome.token);
    matrix.record('msal-node + authflow', 'authflow → msal-node', 'client credentials .default: cache hit', 'pass');

    const m2 = await msalNodePeer(env, { client: 'daemon' });
    const own = await counted(env, () => m2.clientCredentials(INVENTORY_DEFAULT));
    assert.ok(own.outcome.ok && own.requests === 1);
    const a2 = authflowPeer(env, { client: 'daemon', partition });
    await a2.importCache(await m2.exportCache());
    expectHit(await counted(env, () => a2.clientCredentials(INVENTORY_DEFAULT)), 'authflow from msal-node\'s cache (login.windows.net)', own.outcome.token);
    matrix.record('msal-node + authflow', 'msal-node → authflow', 'client credentials .default: cache hit', 'pass');
  });

  it('client credentials with .default: MSAL Python → authflow', { skip: python ? false : 'python3-msal is not installed' }, async () => {
    const p = await msalPythonPeer(env, { client: 'daemon' });
    try {
      const own = await counted(env, () => p.clientCredentials(INVENTORY_DEFAULT));
      assert.ok(own.outcome.ok && own.requests === 1, `${own.outcome.error} ${own.outcome.description}`);
      const a = authflowPeer(env, { client: 'daemon', partition: appPartition(env.op.clients.daemon.clientId, env.op.tenantId) });
      await a.importCache(await p.exportCache());
      expectHit(await counted(env, () => a.clientCredentials(INVENTORY_DEFAULT)), 'authflow from MSAL Python\'s cache', own.outcome.token);
      matrix.record('msal-python + authflow', 'msal-python → authflow', 'client credentials .default: cache hit', 'pass');

      // The other way: MSAL Python 1.21's acquire_token_for_client never reads the cache; its
      // acquire_token_silent(account=None) does, but only at its authority's own host, without
      // Entra's aliases (those it tries only where a refresh token exists). authflow files app
      // tokens under login.windows.net as msal-node does, so MSAL Python misses both alike.
      const p2 = await msalPythonPeer(env, { client: 'daemon' });
      try {
        const a2 = authflowPeer(env, { client: 'daemon', partition: appPartition(env.op.clients.daemon.clientId, env.op.tenantId) });
        const mine = await counted(env, () => a2.clientCredentials(INVENTORY_DEFAULT));
        assert.ok(mine.outcome.ok && mine.requests === 1);
        await p2.importCache(await a2.exportCache());
        const fromAuthflow = await counted(env, () => p2.silent(INVENTORY_DEFAULT));
        const m = await msalNodePeer(env, { client: 'daemon' });
        assert.ok((await m.clientCredentials(INVENTORY_DEFAULT)).ok);
        await p2.importCache(await m.exportCache());
        const fromMsalNode = await counted(env, () => p2.silent(INVENTORY_DEFAULT));
        assert.equal(fromAuthflow.outcome.ok, fromMsalNode.outcome.ok, 'MSAL Python treats authflow\'s app tokens as it treats msal-node\'s');
        matrix.record('msal-python + authflow', 'authflow → msal-python', 'client credentials .default: acquire_token_silent(account=None)',
          fromAuthflow.outcome.ok ? 'pass' : 'miss, as with msal-node\'s cache (MSAL Python 1.21 looks app tokens up at its own host only)');
      } finally {
        await p2.close();
      }
    } finally {
      await p.close();
    }
  });
});
