/**
 * requireBearer for Koa, over real HTTP against the dev OP: the caller's token validated, OBO
 * through ctx.getToken, app tokens through ctx.getAppToken, RFC 6750 answers for bad tokens and
 * missing scopes, and the OP's claims challenge passed back as a 401.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Koa from 'koa';
import request from 'supertest';
import { decodeJwt } from 'jose';
import { requireBearer } from '../../src/koa/index.js';
import { clientFor, signIn, startDevOp, type DevOp } from '../helpers/op.js';

describe('authflow/koa requireBearer', () => {
  let op: DevOp;
  let app: Koa;

  before(async () => {
    op = await startDevOp();
    app = new Koa();
    app.use(requireBearer({ client: clientFor(op, 'orders'), audience: 'api://orders', scopes: ['Orders.Read'] }));
    app.use(async (ctx) => {
      if (ctx.path === '/obo') ctx.body = { aud: decodeJwt(await ctx.getToken(['api://inventory/Inventory.Read'])).aud, caller: ctx.state.auth?.oid };
      else if (ctx.path === '/app') ctx.body = { aud: decodeJwt(await ctx.getAppToken(['api://inventory/.default'])).aud };
      else ctx.body = { caller: ctx.state.auth?.oid };
    });
  });
  after(() => op.close());

  const userToken = async (scopes = ['api://orders/Orders.Read']): Promise<string> =>
    (await signIn(op, clientFor(op, 'webApp'), { scopes, partition: `p-${Math.random()}` })).accessToken;

  it('accepts a valid token and does On-Behalf-Of and client credentials below it', async () => {
    const token = await userToken();
    const who = await request(app.callback()).get('/').set('authorization', `Bearer ${token}`);
    assert.deepEqual(who.body, { caller: op.users.alice.oid });
    const obo = await request(app.callback()).get('/obo').set('authorization', `Bearer ${token}`);
    assert.deepEqual(obo.body, { aud: 'api://inventory', caller: op.users.alice.oid });
    const appToken = await request(app.callback()).get('/app').set('authorization', `Bearer ${token}`);
    assert.deepEqual(appToken.body, { aud: 'api://inventory' });
  });

  it('answers 401 without an error attribute when no token is sent, invalid_token for a bad one', async () => {
    const none = await request(app.callback()).get('/');
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="api"');
    const bad = await request(app.callback()).get('/').set('authorization', 'Bearer not.a.token');
    assert.equal(bad.status, 401);
    assert.match(bad.headers['www-authenticate']!, /error="invalid_token"/);
  });

  it('answers 403 insufficient_scope for a token without the required scope', async () => {
    const answer = await request(app.callback()).get('/').set('authorization', `Bearer ${await userToken(['api://orders/Orders.Write'])}`);
    assert.equal(answer.status, 403);
    assert.match(answer.headers['www-authenticate']!, /error="insufficient_scope"/);
  });

  it('passes a claims challenge from the OBO exchange back as a 401', async () => {
    const token = await userToken();
    op.faults.set({ oboClaimsChallenge: '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}' });
    try {
      const answer = await request(app.callback()).get('/obo').set('authorization', `Bearer ${token}`);
      assert.equal(answer.status, 401);
      assert.match(answer.headers['www-authenticate']!, /error="insufficient_claims", claims="[A-Za-z0-9+/=]+"/);
    } finally {
      op.faults.clear();
    }
  });
});
