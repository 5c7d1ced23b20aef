/**
 * Back-channel logout where Koa differs (the shared behaviour is test/adapters/backchannelSuite.ts):
 * Koa sends the response only after every middleware above has finished, so a body refused for
 * its size must still be drained, not the connection reset, while slow middleware runs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import type { ConfidentialClient } from '../../src/index.js';
import { auth, authSession } from '../../src/koa/index.js';
import { clientFor, startDevOp, type DevOp } from '../helpers/op.js';
import { postRaw } from '../helpers/postRaw.js';

describe('back-channel logout (authflow/koa): where Koa differs', () => {
  let op: DevOp;
  let client: ConfidentialClient;

  before(async () => {
    op = await startDevOp();
    client = clientFor(op, 'webApp');
  });
  after(() => op.close());


  it('answers an oversized body with a 413 even when the response leaves later (slow middleware above)', async () => {
    const app = new Koa();
    app.silent = true;
    app.use(async (_ctx, next) => {
      await next();
      await new Promise((resolve) => setTimeout(resolve, 30)); // e.g. an access log written somewhere
    });
    app.use(authSession(app, { baseUrl: 'http://localhost:3000' }));
    app.use(auth({ client, baseUrl: 'http://localhost:3000', routes: { backchannelLogout: '/backchannel-logout' } }));
    const slow = createServer(app.callback());
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    try {
      const to = (slow.address() as AddressInfo).port;
      for (const size of [20_000, 2_000_000]) {
        const refused = await postRaw(to, '/backchannel-logout', Buffer.from(`logout_token=${'x'.repeat(size)}`));
        assert.equal(refused.status, 413, `${size} bytes`);
        assert.equal(refused.headers['cache-control'], 'no-store');
      }
      const small = await postRaw(to, '/backchannel-logout', Buffer.from('logout_token=a.b'));
      assert.equal(small.status, 400, 'the server still serves a normal request afterwards');
    } finally {
      slow.closeAllConnections();
      await new Promise<void>((resolve) => slow.close(() => resolve()));
    }
  });
});
