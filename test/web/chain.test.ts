/**
 * The example stack end to end over real HTTP: a browser session signs in to the web app, which
 * calls the orders API with its token; the orders API validates it and calls the inventory API
 * with an On-Behalf-Of token. The second call is served from the OBO cache (counted at the OP).
 * Also requireBearer's refusals as a client of the orders API sees them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, decodeJwt, generateKeyPair } from 'jose';
import { startStack, type Stack } from '../../examples/stack.js';
import { Browser } from '../helpers/browser.js';
import { clientFor, tokenRequests } from '../helpers/op.js';

const OBO = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

describe('web app -> orders API -> inventory API', () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack({ ports: { app: 0, op: 0, orders: 0, inventory: 0 } });
  });
  after(() => stack.close());

  /** The web app's token for alice, as the app would send it (signed in through the OP's pages). */
  async function aliceToken(scopes = ['api://orders/Orders.Read']): Promise<string> {
    const webApp = clientFor(stack.op, 'webApp');
    const flow = await webApp.initiateAuthCodeFlow({ scopes, redirectUri: `${stack.appUrl}/callback` });
    const callback = new URL(await stack.op.signIn(flow.authUri, { username: 'alice' }));
    return (await webApp.acquireTokenByAuthCodeFlow(flow, callback.searchParams)).accessToken;
  }

  it('signs in, calls the orders API, which calls inventory on the user\'s behalf; the second call uses the OBO cache', async () => {
    const browser = new Browser(stack.appUrl);
    const home = await browser.get('/');
    assert.match(home.body, /not signed in/);
    const toOp = await browser.get('/login?returnTo=%2Fprofile');
    assert.ok(toOp.location?.startsWith(stack.op.url));
    const profile = await browser.get(await stack.op.signIn(toOp.location!, { username: 'alice' }));
    assert.equal(profile.status, 200);
    assert.match(profile.body, new RegExp(stack.op.users.alice.name));

    stack.op.resetStats();
    const first = await browser.get('/call-api');
    assert.equal(first.status, 200, first.body);
    assert.match(first.body, /inventory/);
    assert.match(first.body, new RegExp(stack.op.users.alice.oid), 'inventory saw alice as the user');
    assert.match(first.body, new RegExp(stack.op.clients.orders.clientId), 'inventory saw the orders API as the caller');
    assert.equal(tokenRequests(stack.op, OBO), 1);

    const second = await browser.get('/call-api');
    assert.equal(second.status, 200);
    assert.equal(tokenRequests(stack.op, OBO), 1, 'the second call is served from the OBO cache');
    assert.equal(stack.op.stats().tokenRequests, 1, 'and the web app\'s token from its cache');
  });

  it('answers a missing, malformed or doubled Authorization header with a 401 Bearer challenge', async () => {
    const token = await aliceToken();
    const cases: Array<[Record<string, string>, string | undefined]> = [
      [{}, undefined],
      [{ authorization: '' }, undefined],
      [{ authorization: `Basic ${token}` }, 'invalid_token'],
      [{ authorization: `Bearer Bearer ${token}` }, 'invalid_token'],
      [{ authorization: `Bearer ${token}, Bearer ${token}` }, 'invalid_token'],
      [{ authorization: 'Bearer' }, 'invalid_token'],
      [{ authorization: 'Bearer a.b' }, 'invalid_token'],
      [{ authorization: `Bearer ${'x'.repeat(15_000)}` }, 'invalid_token'],
    ];
    for (const [headers, error] of cases) {
      const answer = await fetch(`${stack.ordersUrl}/orders`, { headers });
      assert.equal(answer.status, 401, JSON.stringify(Object.keys(headers)));
      const challenge = answer.headers.get('www-authenticate') ?? '';
      assert.match(challenge, /^Bearer realm="api"/);
      if (error) assert.match(challenge, new RegExp(`error="${error}"`));
      else assert.doesNotMatch(challenge, /error=/, 'no error attribute without credentials (RFC 6750 §3.1)');
      const body = await answer.text();
      assert.ok(!body.includes(token.slice(0, 30)), 'the token is not echoed');
    }
  });

  it('refuses a token from another key and a token for another API', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const real = decodeJwt(await aliceToken());
    const forged = await new SignJWT({ ...real }).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).sign(privateKey);
    const forgedAnswer = await fetch(`${stack.ordersUrl}/orders`, { headers: { authorization: `Bearer ${forged}` } });
    assert.equal(forgedAnswer.status, 401);
    assert.match(forgedAnswer.headers.get('www-authenticate')!, /error="invalid_token"/);

    const inventoryToken = (await clientFor(stack.op, 'daemon').acquireTokenForClient({ scopes: ['api://inventory/.default'] })).accessToken;
    const wrongAudience = await fetch(`${stack.ordersUrl}/orders`, { headers: { authorization: `Bearer ${inventoryToken}` } });
    assert.equal(wrongAudience.status, 401);
    assert.match(wrongAudience.headers.get('www-authenticate')!, /wrong_audience/);
  });

  it('answers 403 insufficient_scope when the token lacks the required scope', async () => {
    // An orders token with only Orders.Write: valid for the API, but /orders needs Orders.Read.
    const token = await aliceToken(['api://orders/Orders.Write']);
    const answer = await fetch(`${stack.ordersUrl}/orders`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(answer.status, 403);
    assert.match(answer.headers.get('www-authenticate')!, /error="insufficient_scope", .*scope="Orders.Read"/);
  });

  it('passes a Conditional Access claims challenge from the OBO exchange back to the caller as a 401', async () => {
    const token = await aliceToken();
    const claims = JSON.stringify({ access_token: { capolids: { essential: true, values: ['mfa-policy'] } } });
    stack.op.faults.set({ oboClaimsChallenge: claims });
    try {
      const answer = await fetch(`${stack.ordersUrl}/orders`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(answer.status, 401);
      const challenge = answer.headers.get('www-authenticate')!;
      assert.match(challenge, /error="insufficient_claims"/);
      const encoded = /claims="([^"]+)"/.exec(challenge)?.[1];
      assert.equal(Buffer.from(encoded!, 'base64').toString('utf8'), claims);
      assert.match(challenge, new RegExp(`client_id="${stack.op.clients.orders.clientId}"`));
      assert.equal((await answer.json() as { error: string }).error, 'interaction_required');
    } finally {
      stack.op.faults.clear();
    }
  });
});
