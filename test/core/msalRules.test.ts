/**
 * Issue 15, observation 6: MSAL's lookup rules, against the dev OP. `.default` requests are served
 * from the cache; several matching access tokens are dropped and one new token is asked for;
 * forceRefresh never serves a cached token; a proof-of-possession token is never returned to a
 * Bearer request; FOCI family refresh tokens are used as MSAL Python uses them. Requests are
 * counted at the dev OP's token endpoint; caches are edited through exportCache/importCache.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AccountInfo, ConfidentialClient } from '../../src/index.js';
import { clientFor, signIn, startDevOp, type DevOp } from '../helpers/op.js';

const ORDERS = ['api://orders/Orders.Read'];
type Entity = Record<string, string>;
type Json = Record<string, Record<string, Entity>>;

describe('MSAL lookup rules', () => {
  let op: DevOp;
  let client: ConfidentialClient;
  let count = 0;
  before(async () => {
    op = await startDevOp();
    client = clientFor(op, 'webApp');
  });
  after(() => op.close());

  async function signedIn(): Promise<{ partition: string; account: AccountInfo; token: string }> {
    const partition = `rules-${++count}`;
    const result = await signIn(op, client, { scopes: ORDERS, partition });
    op.resetStats();
    return { partition, account: result.account!, token: result.accessToken };
  }
  const exported = async (partition: string): Promise<Json> => JSON.parse(await client.exportCache(partition)) as Json;
  const requests = (): number => op.stats().tokenRequests;

  it('serves <api>/.default from the cache: two calls, no token request', async () => {
    const { partition, account, token } = await signedIn();
    for (let i = 0; i < 2; i++) {
      const result = await client.acquireTokenSilent({ scopes: ['api://orders/.default'], account, partition });
      assert.equal(result.fromCache, true);
      assert.equal(result.accessToken, token);
    }
    assert.equal(requests(), 0);
  });

  it('several matching access tokens: drops them all and asks for one new token', async () => {
    const { partition, account, token } = await signedIn();
    const cache = await exported(partition);
    const [key, at] = Object.entries(cache.AccessToken!)[0]!;
    // The same token filed again under MSAL Python's 6-part key, as a peer sharing the cache would leave it.
    cache.AccessToken![key.replace(/-$/, '').replace(/-$/, '-copy')] = { ...at, secret: 'another-copy' };
    await client.importCache(partition, cache);
    const result = await client.acquireTokenSilent({ scopes: ORDERS, account, partition });
    assert.equal(result.fromCache, false);
    assert.notEqual(result.accessToken, token);
    assert.equal(requests(), 1);
    const after = await exported(partition);
    assert.equal(Object.keys(after.AccessToken!).length, 1, 'both old tokens dropped, one new one cached');
  });

  it('forceRefresh never serves a cached token, even one cached within the same second', async () => {
    const { partition, account, token } = await signedIn();
    const first = await client.acquireTokenSilent({ scopes: ORDERS, account, partition, forceRefresh: true });
    const second = await client.acquireTokenSilent({ scopes: ORDERS, account, partition, forceRefresh: true });
    assert.equal(first.fromCache, false);
    assert.equal(second.fromCache, false);
    assert.equal(new Set([token, first.accessToken, second.accessToken]).size, 3);
    assert.equal(requests(), 2);
  });

  it('forceRefresh ignores cached_at: a token another machine cached "after" the call started (its clock ahead) is not served', async () => {
    const { partition, account, token } = await signedIn();
    const cache = await exported(partition);
    for (const at of Object.values(cache.AccessToken!)) at.cached_at = String(Math.floor(Date.now() / 1000) + 5);
    await client.importCache(partition, cache);
    const result = await client.acquireTokenSilent({ scopes: ORDERS, account, partition, forceRefresh: true });
    assert.equal(result.fromCache, false);
    assert.notEqual(result.accessToken, token);
    assert.equal(requests(), 1);
  });

  it('never returns a pop token to a Bearer request (msal-node\'s AccessToken_With_AuthScheme, MSAL Python\'s token_type)', async () => {
    for (const pop of [{ credential_type: 'AccessToken_With_AuthScheme', token_type: 'pop', key_id: 'k1' }, { token_type: 'pop', key_id: 'k2' }]) {
      const { partition, account } = await signedIn();
      const cache = await exported(partition);
      const [key, at] = Object.entries(cache.AccessToken!)[0]!;
      delete cache.AccessToken![key];
      cache.AccessToken![`${key}pop`] = { ...at, ...(pop as Entity), secret: 'a-pop-token' };
      await client.importCache(partition, cache);
      const result = await client.acquireTokenSilent({ scopes: ORDERS, account, partition });
      assert.notEqual(result.accessToken, 'a-pop-token');
      assert.equal(result.tokenType, 'Bearer');
      assert.equal(requests(), 1);
      const kept = await exported(partition);
      assert.equal(kept.AccessToken![`${key}pop`]?.secret, 'a-pop-token', 'the pop token stays for its owner');
    }
  });

  it('a tenant profile refreshed at another tenant\'s authority: no token of that tenant is cached or served, the rotated refresh token is kept', async () => {
    const { partition, account } = await signedIn();
    const guest = 'a0b1c2d3-0000-4000-8000-00000000fab1';
    const cache = await exported(partition);
    const [accKey, acc] = Object.entries(cache.Account!)[0]!;
    cache.Account![accKey.replace(account.tenantId, guest)] = { ...acc, realm: guest };
    const [atKey, at] = Object.entries(cache.AccessToken!)[0]!;
    cache.AccessToken![atKey.replace(account.tenantId, guest)] = { ...at, realm: guest, secret: 'guest-token', expires_on: String(Math.floor(Date.now() / 1000) - 10) };
    await client.importCache(partition, cache);
    await assert.rejects(client.acquireTokenSilent({ scopes: ORDERS, account: { ...account, tenantId: guest }, partition }), { code: 'interaction_required' });
    assert.equal(requests(), 1, 'the dev OP (one tenant) was asked once');
    const after = await exported(partition);
    const guestTokens = Object.values(after.AccessToken!).filter((t) => t.realm === guest && t.secret !== 'guest-token');
    assert.deepEqual(guestTokens, [], 'nothing cached as the guest tenant\'s');
    const home = await client.acquireTokenSilent({ scopes: ORDERS, account, partition, forceRefresh: true });
    assert.equal(home.fromCache, false, 'the rotated refresh token was kept: no invalid_grant');
    assert.equal(home.account?.tenantId, account.tenantId);
  });

  /** A cache whose access token has expired, whose own refresh token is dead, and a family member's refresh token that works. */
  async function familyCache(familyOfThisApp: string | undefined): Promise<{ partition: string; account: AccountInfo }> {
    const { partition, account } = await signedIn();
    const cache = await exported(partition);
    for (const at of Object.values(cache.AccessToken!)) at.expires_on = String(Math.floor(Date.now() / 1000) - 10);
    const [rtKey, rt] = Object.entries(cache.RefreshToken!)[0]!;
    cache.RefreshToken![rtKey] = { ...rt, secret: 'a-dead-refresh-token', last_modification_time: String(Math.floor(Date.now() / 1000) + 60) };
    // The OP's refresh token (bound to web-app at the dev OP) filed as another family member's, as MSAL Python would see it.
    cache.RefreshToken![`${rt.home_account_id}-${rt.environment}-refreshtoken-other-family-app--`] = { ...rt, client_id: 'other-family-app', family_id: '1' };
    for (const meta of Object.values(cache.AppMetadata!)) {
      if (familyOfThisApp) meta.family_id = familyOfThisApp;
      else delete meta.family_id;
    }
    await client.importCache(partition, cache);
    return { partition, account };
  }

  it('FOCI: uses the family\'s refresh token first when the app metadata names the family', async () => {
    const { partition, account } = await familyCache('1');
    const result = await client.acquireTokenSilent({ scopes: ORDERS, account, partition });
    assert.equal(result.fromCache, false);
    assert.equal(requests(), 1);
  });

  it('FOCI: an app whose metadata names no family never uses a family member\'s refresh token', async () => {
    const { partition, account } = await familyCache(undefined);
    await assert.rejects(client.acquireTokenSilent({ scopes: ORDERS, account, partition }), { code: 'interaction_required' });
    assert.equal(requests(), 1, 'only its own (dead) refresh token was tried');
  });
});
