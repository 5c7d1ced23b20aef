/**
 * Continuous Access Evaluation end to end on the dev OP: `clientCapabilities: ['CP1']` reaches
 * the OP in every grant's `claims` (and a request's own claims are merged, as MSAL does); CAE
 * requests get Entra's long-lived tokens carrying `xms_cc`; `op.revoke(user)` makes an API built
 * on requireBearer answer Entra's `insufficient_claims` challenge, the refresh with the revoked
 * user's refresh token fail with AADSTS50173, and a new sign-in with the challenge's claims work.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import request from 'supertest';
import { decodeJwt } from 'jose';
import { AuthError, caeClaimsChallenge, insufficientClaimsChallenge, parseClaimsChallenge, type ConfidentialClient } from '../../src/index.js';
import { authErrors, requireBearer } from '../../src/express/index.js';
import { CAE_ACCESS_TOKEN_TTL } from '../../examples/dev-op/index.js';
import { clientFor, redirectUriOf, signIn, startDevOp, type DevOp } from '../helpers/op.js';
import { publicClientFor } from '../public/helpers.js';

const ORDERS = ['api://orders/Orders.Read'];
const CP1 = { values: ['CP1'] };

/** The xms_cc the OP saw in the last token request of `grantType`. */
function lastXmsCc(op: DevOp, grantType: string): unknown {
  const seen = op.tokenRequestClaims().filter((c) => c.grantType === grantType).at(-1);
  assert.ok(seen, `no ${grantType} request reached the OP`);
  return seen.claims === undefined ? undefined : (JSON.parse(seen.claims) as { access_token?: { xms_cc?: unknown } }).access_token?.xms_cc;
}

describe('clientCapabilities on the wire (dev OP)', () => {
  let op: DevOp;
  before(async () => { op = await startDevOp(); });
  after(() => op.close());

  it('auth code (authorize URL and token request) and refresh carry xms_cc; the tokens are CAE tokens', async () => {
    const client = clientFor(op, 'webApp', { clientCapabilities: ['CP1'] });
    const flow = await client.initiateAuthCodeFlow({ scopes: ORDERS, redirectUri: redirectUriOf(op) });
    assert.deepEqual(JSON.parse(new URL(flow.authUri).searchParams.get('claims')!), { access_token: { xms_cc: CP1 } });
    const callback = new URL(await op.signIn(flow.authUri, { username: 'alice' }));
    const result = await client.acquireTokenByAuthCodeFlow(flow, callback.searchParams, { partition: 'cae-1' });
    assert.deepEqual(lastXmsCc(op, 'authorization_code'), CP1);
    const at = decodeJwt(result.accessToken);
    assert.deepEqual(at['xms_cc'], ['CP1']);
    assert.equal(at.exp! - at.iat!, CAE_ACCESS_TOKEN_TTL, 'a CAE token lives 24 h');

    const refreshed = await client.acquireTokenSilent({ scopes: ORDERS, account: result.account!, partition: 'cae-1', forceRefresh: true });
    assert.deepEqual(lastXmsCc(op, 'refresh_token'), CP1);
    assert.deepEqual(decodeJwt(refreshed.accessToken)['xms_cc'], ['CP1']);
  });

  it('a claims challenge is merged with the capabilities and skips the cache', async () => {
    const client = clientFor(op, 'webApp', { clientCapabilities: ['CP1'] });
    const result = await signIn(op, client, { partition: 'cae-2' });
    const challenge = caeClaimsChallenge(Math.floor(Date.now() / 1000) - 5);
    op.resetStats();
    const again = await client.acquireTokenSilent({ scopes: ORDERS, account: result.account!, partition: 'cae-2', claims: challenge });
    assert.equal(again.fromCache, false);
    assert.equal(op.stats().token['refresh_token'], 1);
    const sent = JSON.parse(op.tokenRequestClaims().at(-1)!.claims!) as Record<string, unknown>;
    assert.deepEqual(sent, { access_token: { nbf: { essential: true, value: String(JSON.parse(challenge).access_token.nbf.value) }, xms_cc: CP1 } });
  });

  it('OBO and client credentials carry xms_cc; without capabilities nothing is sent and tokens live an hour', async () => {
    const user = await signIn(op, clientFor(op, 'webApp'), { partition: 'cae-3' });
    assert.equal(decodeJwt(user.accessToken)['xms_cc'], undefined);
    assert.equal(lastXmsCc(op, 'authorization_code'), undefined);
    const at = decodeJwt(user.accessToken);
    assert.equal(at.exp! - at.iat!, 3600);

    const orders = clientFor(op, 'orders', { clientCapabilities: ['CP1'] });
    const obo = await orders.acquireTokenOnBehalfOf({ userAssertion: user.accessToken, scopes: ['api://inventory/Inventory.Read'] });
    assert.deepEqual(lastXmsCc(op, 'urn:ietf:params:oauth:grant-type:jwt-bearer'), CP1);
    assert.deepEqual(decodeJwt(obo.accessToken)['xms_cc'], ['CP1']);

    const app = await clientFor(op, 'daemon', { clientCapabilities: ['CP1'] }).acquireTokenForClient({ scopes: ['api://inventory/.default'] });
    assert.deepEqual(lastXmsCc(op, 'client_credentials'), CP1);
    assert.deepEqual(decodeJwt(app.accessToken)['xms_cc'], ['CP1']);
  });
});

describe('clientCapabilities on a public client (device code)', () => {
  let op: DevOp;
  before(async () => { op = await startDevOp(); });
  after(() => op.close());

  it('the device authorization and the device-code grant carry xms_cc; the token is a CAE token', async () => {
    const cli = publicClientFor(op, { clientCapabilities: ['CP1'] });
    const flow = await cli.initiateDeviceFlow({ scopes: ORDERS });
    const [result] = await Promise.all([cli.acquireTokenByDeviceFlow(flow), op.signIn(flow.verificationUriComplete!, { username: 'bob' })]);
    assert.deepEqual(lastXmsCc(op, 'urn:ietf:params:oauth:grant-type:device_code'), CP1);
    assert.deepEqual(decodeJwt(result.accessToken)['xms_cc'], ['CP1']);
  });
});

describe('revocation (op.revoke) and the API\'s claims challenge', () => {
  let op: DevOp;
  let web: ConfidentialClient;
  let api: express.Express;
  before(async () => {
    op = await startDevOp();
    web = clientFor(op, 'webApp', { clientCapabilities: ['CP1'] });
    api = express();
    api.get('/orders', requireBearer({
      client: clientFor(op, 'orders'), audience: 'api://orders', scopes: ['Orders.Read'],
      tokensValidFrom: (claims) => op.tokensValidFrom(String(claims.oid)),
    }), (req, res) => res.json({ user: req.auth?.oid }));
    api.use(authErrors());
  });
  after(() => op.close());

  it('a revoked CAE token gets 401 insufficient_claims; the refresh fails with AADSTS50173; a sign-in with the claims works', async () => {
    const first = await signIn(op, web, { partition: 'rev-1' });
    const token = first.accessToken;
    assert.equal((await request(api).get('/orders').set('authorization', `Bearer ${token}`)).status, 200);

    const validFrom = await op.revoke('alice');
    const refused = await request(api).get('/orders').set('authorization', `Bearer ${token}`);
    assert.equal(refused.status, 401);
    const header = refused.headers['www-authenticate']!;
    assert.match(header, /^Bearer realm="api", client_id="orders-api", error="insufficient_claims", claims="[A-Za-z0-9+/]+=*"$/);
    const claims = parseClaimsChallenge(header);
    assert.deepEqual(JSON.parse(claims!), { access_token: { nbf: { essential: true, value: String(validFrom) } } });

    // getToken with the claims: skips the cache, the OP refuses the revoked refresh token.
    await assert.rejects(web.acquireTokenSilent({ scopes: ORDERS, account: first.account!, partition: 'rev-1', claims }), (err: unknown) => {
      assert.ok(err instanceof AuthError);
      assert.equal(err.code, 'interaction_required');
      assert.equal(err.reason, 'grant_revoked');
      assert.equal(err.claims, claims, 'the next sign-in carries the challenge');
      assert.match(err.description, /^AADSTS50173: /);
      return true;
    });
    const last = op.lastErrors().at(-1)!;
    assert.match(last.description ?? last.error, /AADSTS50173/);

    // The new sign-in, with the claims: its token is accepted.
    const flow = await web.initiateAuthCodeFlow({ scopes: ORDERS, redirectUri: redirectUriOf(op), claims });
    const callback = new URL(await op.signIn(flow.authUri, { username: 'alice' }));
    const second = await web.acquireTokenByAuthCodeFlow(flow, callback.searchParams, { partition: 'rev-1' });
    assert.ok(decodeJwt(second.accessToken).iat! >= validFrom);
    assert.equal((await request(api).get('/orders').set('authorization', `Bearer ${second.accessToken}`)).status, 200);
  });

  it('a revoked token of a client without CP1 gets 401 invalid_token (it cannot answer a challenge)', async () => {
    const plain = await signIn(op, clientFor(op, 'webApp'), { username: 'bob', partition: 'rev-2' });
    await op.revoke('bob');
    const refused = await request(api).get('/orders').set('authorization', `Bearer ${plain.accessToken}`);
    assert.equal(refused.status, 401);
    assert.match(refused.headers['www-authenticate']!, /error="invalid_token"/);
    assert.doesNotMatch(refused.headers['www-authenticate']!, /claims=/);
    assert.match(refused.text, /revoked/);
  });

  it('refuses a tokensValidFrom that is not a function, naming it', () => {
    assert.throws(() => requireBearer({ client: clientFor(op, 'orders'), audience: 'api://orders', tokensValidFrom: 5 as never }),
      (err: unknown) => err instanceof AuthError && err.code === 'invalid_config' && /"tokensValidFrom"/.test(err.description));
  });
});

describe('claims challenge header helpers', () => {
  const claims = '{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}';
  it('round-trips Entra\'s header shape', () => {
    const header = insufficientClaimsChallenge(claims, { clientId: '00000003-0000-0000-c000-000000000000' });
    assert.equal(header, `Bearer realm="", client_id="00000003-0000-0000-c000-000000000000", error="insufficient_claims", claims="${Buffer.from(claims).toString('base64')}"`);
    assert.equal(parseClaimsChallenge(header), claims);
  });
  it('reads Microsoft Graph\'s header', () => {
    const graph = 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwgInZhbHVlIjoiMTYwNDEwNjY1MSJ9fX0="';
    assert.deepEqual(JSON.parse(parseClaimsChallenge(graph)!), { access_token: { nbf: { essential: true, value: '1604106651' } } });
  });
  const refused: Array<[string, string | null | undefined]> = [
    ['no header', undefined], ['null', null], ['another error', 'Bearer error="invalid_token", claims="e30="'],
    ['no claims', 'Bearer error="insufficient_claims"'], ['not base64', 'Bearer error="insufficient_claims", claims="%%%"'],
    ['not JSON', `Bearer error="insufficient_claims", claims="${Buffer.from('nope').toString('base64')}"`],
    ['a JSON array', `Bearer error="insufficient_claims", claims="${Buffer.from('[1]').toString('base64')}"`],
    ['another scheme', `Basic error="insufficient_claims", claims="${Buffer.from('{}').toString('base64')}"`],
  ];
  for (const [name, header] of refused) it(`reads nothing from ${name}`, () => assert.equal(parseClaimsChallenge(header), undefined));
  it('refuses a validFrom that is not epoch seconds', () => assert.throws(() => caeClaimsChallenge(1.5), TypeError));
});
