/**
 * requireBearer, one suite for every adapter, over real HTTP against the dev OP: the caller's
 * token validated, On-Behalf-Of through getToken and client credentials through getAppToken below
 * it, RFC 6750 answers for a missing, bad or under-scoped token, and the OP's claims challenge
 * passed back as a 401, and a revoked user's CAE token refused with Entra's claims challenge.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestListener } from 'node:http';
import request from 'supertest';
import type { ConfidentialClient } from '../../src/index.js';
import type { RequireBearerOptions } from '../../src/web/kit.js';
import { clientFor, signIn, startDevOp, type DevOp } from '../helpers/op.js';

/** What the suite needs: a web API whose `/` answers `{ caller }`, `/obo` `{ aud, caller }` (OBO), `/app` `{ aud }` (app token). */
export interface ApiAdapterUnderTest {
  name: string;
  api(orders: ConfidentialClient, extra?: Partial<RequireBearerOptions>): RequestListener;
}

export function bearerSuite(adapter: ApiAdapterUnderTest): void {
  describe(`requireBearer: authflow/${adapter.name}`, () => {
    let op: DevOp;
    let api: RequestListener;

    before(async () => {
      op = await startDevOp();
      api = adapter.api(clientFor(op, 'orders'));
    });
    after(() => op.close());

    const userToken = async (scopes = ['api://orders/Orders.Read']): Promise<string> =>
      (await signIn(op, clientFor(op, 'webApp'), { scopes, partition: `p-${Math.random()}` })).accessToken;

    it('accepts a valid token and does On-Behalf-Of and client credentials below it', async () => {
      const token = await userToken();
      const who = await request(api).get('/').set('authorization', `Bearer ${token}`);
      assert.deepEqual(who.body, { caller: op.users.alice.oid });
      const obo = await request(api).get('/obo').set('authorization', `Bearer ${token}`);
      assert.deepEqual(obo.body, { aud: 'api://inventory', caller: op.users.alice.oid });
      const appToken = await request(api).get('/app').set('authorization', `Bearer ${token}`);
      assert.deepEqual(appToken.body, { aud: 'api://inventory' });
    });

    it('answers 401 without an error attribute when no token is sent, invalid_token for a bad one', async () => {
      const none = await request(api).get('/');
      assert.equal(none.status, 401);
      assert.equal(none.headers['www-authenticate'], 'Bearer realm="api"');
      assert.equal(none.headers['cache-control'], 'no-store');
      const bad = await request(api).get('/').set('authorization', 'Bearer not.a.token');
      assert.equal(bad.status, 401);
      assert.match(bad.headers['www-authenticate']!, /error="invalid_token"/);
      assert.equal(bad.body.error, 'token_invalid');
    });

    it('answers 403 insufficient_scope for a token without the required scope', async () => {
      const answer = await request(api).get('/').set('authorization', `Bearer ${await userToken(['api://orders/Orders.Write'])}`);
      assert.equal(answer.status, 403);
      assert.match(answer.headers['www-authenticate']!, /error="insufficient_scope", error_description="[^"]*", scope="Orders.Read"/);
    });

    it('refuses a revoked user\'s CAE token with 401 insufficient_claims and the nbf challenge (tokensValidFrom)', async () => {
      const cae = adapter.api(clientFor(op, 'orders'), { tokensValidFrom: (claims) => op.tokensValidFrom(String(claims.oid)) });
      const token = (await signIn(op, clientFor(op, 'webApp', { clientCapabilities: ['CP1'] }), { username: 'bob', partition: `p-${Math.random()}` })).accessToken;
      assert.equal((await request(cae).get('/').set('authorization', `Bearer ${token}`)).status, 200);
      const validFrom = await op.revoke('bob');
      const answer = await request(cae).get('/').set('authorization', `Bearer ${token}`);
      assert.equal(answer.status, 401);
      const claims = /claims="([^"]+)"/.exec(answer.headers['www-authenticate']!)?.[1];
      assert.match(answer.headers['www-authenticate']!, /error="insufficient_claims"/);
      assert.deepEqual(JSON.parse(Buffer.from(claims!, 'base64').toString()), { access_token: { nbf: { essential: true, value: String(validFrom) } } });
    });

    it('passes a claims challenge from the OBO exchange back as a 401', async () => {
      const token = await userToken();
      op.faults.set({ oboClaimsChallenge: '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}' });
      try {
        const answer = await request(api).get('/obo').set('authorization', `Bearer ${token}`);
        assert.equal(answer.status, 401);
        assert.match(answer.headers['www-authenticate']!, /error="insufficient_claims", claims="[A-Za-z0-9+/=]+"/);
      } finally {
        op.faults.clear();
      }
    });
  });
}
