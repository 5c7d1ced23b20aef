/**
 * On-Behalf-Of and client credentials against the dev OP, one test per client credential kind
 * (secret post, secret basic, certificate RS256 and PS256).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { decodeJwt } from 'jose';
import { AuthError, type ConfidentialClient } from '../../src/index.js';
import { clientFor, expireAccessTokens, signIn, startDevOp, tokenRequests, type DevOp } from '../helpers/op.js';

const OBO = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const INVENTORY = ['api://inventory/Inventory.Read'];

describe('acquireTokenOnBehalfOf', () => {
  let op: DevOp;
  let webApp: ConfidentialClient;

  before(async () => {
    op = await startDevOp();
    webApp = clientFor(op, 'webApp');
  });
  after(() => op.close());

  /** A fresh orders-API access token for alice, as the web app would send it. */
  async function ordersToken(): Promise<string> {
    const result = await signIn(op, webApp, { scopes: ['api://orders/Orders.Read'], partition: `web-${Math.random()}` });
    op.resetStats();
    return result.accessToken;
  }

  it('exchanges an orders token for an inventory token for the same user, then serves it from cache', async () => {
    const orders = clientFor(op, 'orders');
    const assertion = await ordersToken();
    const first = await orders.acquireTokenOnBehalfOf({ userAssertion: assertion, scopes: INVENTORY });
    const claims = decodeJwt(first.accessToken);
    assert.equal(claims.aud, 'api://inventory');
    assert.equal(claims.oid, op.users.alice.oid);
    assert.equal(claims.azp, op.clients.orders.clientId);
    assert.equal(first.fromCache, false);
    assert.equal(tokenRequests(op, OBO), 1);

    const second = await orders.acquireTokenOnBehalfOf({ userAssertion: assertion, scopes: INVENTORY });
    assert.equal(second.fromCache, true);
    assert.equal(second.accessToken, first.accessToken);
    assert.equal(tokenRequests(op, OBO), 1, 'the second call makes no request');
  });

  it('shares one exchange among concurrent calls with the same assertion', async () => {
    const orders = clientFor(op, 'orders');
    const assertion = await ordersToken();
    const results = await Promise.all(Array.from({ length: 10 }, () => orders.acquireTokenOnBehalfOf({ userAssertion: assertion, scopes: INVENTORY })));
    assert.equal(new Set(results.map((r) => r.accessToken)).size, 1);
    assert.equal(tokenRequests(op, OBO), 1);
  });

  it('renews an expired OBO token with the OBO refresh token, without a new exchange', async () => {
    const orders = clientFor(op, 'orders');
    const assertion = await ordersToken();
    await orders.acquireTokenOnBehalfOf({ userAssertion: assertion, scopes: INVENTORY });
    // OBO tokens live in the partition `obo.<base64url(sha256(assertion))>` (msal-node's userAssertionHash).
    const partition = `obo.${createHash('sha256').update(assertion).digest('base64url')}`;
    const cache = JSON.parse(await orders.exportCache(partition)) as { RefreshToken: Record<string, unknown> };
    assert.equal(Object.keys(cache.RefreshToken).length, 1, 'the OP gave an OBO refresh token (offline_access)');
    await expireAccessTokens(orders, partition);
    const renewed = await orders.acquireTokenOnBehalfOf({ userAssertion: assertion, scopes: INVENTORY });
    assert.equal(renewed.fromCache, false);
    assert.equal(tokenRequests(op, 'refresh_token'), 1);
    assert.equal(tokenRequests(op, OBO), 1);
  });

  it('works with a certificate credential (private_key_jwt)', async () => {
    const ordersCert = clientFor(op, 'ordersCert');
    const result = await ordersCert.acquireTokenOnBehalfOf({ userAssertion: await ordersToken(), scopes: INVENTORY });
    assert.equal(decodeJwt(result.accessToken).azp, op.clients.ordersCert.clientId);
  });

  it('surfaces the OP\'s invalid_grant when the assertion was not issued to the calling API', async () => {
    const orders = clientFor(op, 'orders');
    const inventoryToken = (await orders.acquireTokenOnBehalfOf({ userAssertion: await ordersToken(), scopes: INVENTORY })).accessToken;
    // An inventory token is not an orders token: orders may not exchange it.
    await assert.rejects(
      orders.acquireTokenOnBehalfOf({ userAssertion: inventoryToken, scopes: INVENTORY }),
      (err: unknown) => err instanceof AuthError && err.code === 'invalid_grant' && err.description.length > 0,
    );
  });

  it('refuses an assertion that is not a JWT before calling the OP', async () => {
    const orders = clientFor(op, 'orders');
    op.resetStats();
    await assert.rejects(orders.acquireTokenOnBehalfOf({ userAssertion: 'not-a-jwt', scopes: INVENTORY }), { code: 'invalid_argument' });
    await assert.rejects(orders.acquireTokenOnBehalfOf({ userAssertion: '', scopes: INVENTORY }), { code: 'invalid_argument' });
    assert.equal(tokenRequests(op, OBO), 0);
  });
});

describe('acquireTokenForClient', () => {
  let op: DevOp;
  before(async () => {
    op = await startDevOp();
  });
  after(() => op.close());

  it('gets an app token with roles for .default (client_secret_post), served from cache afterwards', async () => {
    const daemon = clientFor(op, 'daemon');
    const first = await daemon.acquireTokenForClient({ scopes: ['api://inventory/.default'] });
    const claims = decodeJwt(first.accessToken);
    assert.equal(claims.aud, 'api://inventory');
    assert.ok(Array.isArray(claims.roles) && claims.roles.length > 0, 'app roles in the token');
    assert.equal(first.account, null);
    const second = await daemon.acquireTokenForClient({ scopes: ['api://inventory/.default'] });
    assert.equal(second.fromCache, true);
    assert.equal(second.accessToken, first.accessToken);
    assert.equal(tokenRequests(op, 'client_credentials'), 1);
  });

  it('authenticates with client_secret_basic', async () => {
    const orders = clientFor(op, 'orders', { credential: { secret: op.clients.orders.clientSecret!, authMethod: 'client_secret_basic' } });
    const result = await orders.acquireTokenForClient({ scopes: ['api://inventory/.default'] });
    assert.equal(decodeJwt(result.accessToken).azp, op.clients.orders.clientId);
  });

  for (const algorithm of ['RS256', 'PS256'] as const) {
    it(`authenticates with a certificate (private_key_jwt, ${algorithm}, x5t#S256)`, async () => {
      const registered = op.clients.ordersCert;
      const ordersCert = clientFor(op, 'ordersCert', { credential: { privateKey: registered.privateKey!, certificate: registered.certificate!, algorithm } });
      const result = await ordersCert.acquireTokenForClient({ scopes: ['api://inventory/.default'] });
      assert.equal(decodeJwt(result.accessToken).azp, registered.clientId);
    });
  }

  it('surfaces invalid_client for a wrong certificate', async () => {
    const registered = op.clients.ordersCert;
    const { selfSignedCertificate } = await import('../../examples/dev-op/keys.js');
    const other = selfSignedCertificate('not-registered');
    const impostor = clientFor(op, 'ordersCert', { credential: { privateKey: other.privateKey, certificate: other.certificate } });
    await assert.rejects(impostor.acquireTokenForClient({ scopes: ['api://inventory/.default'] }), { code: 'invalid_client' });
    assert.ok(registered.clientId);
  });
});
