/**
 * Silent acquisition against the dev OP: cache hits make no request, expiry costs one refresh,
 * one refresh token serves several APIs, rotation holds, and concurrent callers share a refresh.
 * Requests are counted at the dev OP's token endpoint.
 */
import { after, before, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { AuthError, MemoryTokenCacheStore, type AccountInfo, type ConfidentialClient } from '../../src/index.js';
import { cachedRefreshToken, clientFor, expireAccessTokens, signIn, startDevOp, tokenRequests, type DevOp } from '../helpers/op.js';

const ORDERS = ['api://orders/Orders.Read'];
const INVENTORY = ['api://inventory/Inventory.Read'];

describe('acquireTokenSilent', () => {
  let op: DevOp;
  let client: ConfidentialClient;
  let partitionCount = 0;

  before(async () => {
    op = await startDevOp();
    client = clientFor(op, 'webApp');
  });
  after(() => op.close());

  /** A fresh partition with alice signed in (consenting to both APIs), and her account. */
  async function signedIn(): Promise<{ partition: string; account: AccountInfo }> {
    const partition = `silent-${++partitionCount}`;
    const result = await signIn(op, client, { scopes: [...ORDERS, ...INVENTORY], partition });
    op.resetStats();
    return { partition, account: result.account! };
  }

  it('serves a cached token with no request to the OP', async () => {
    const { partition, account } = await signedIn();
    const first = await client.acquireTokenSilent({ scopes: ORDERS, account, partition });
    const second = await client.acquireTokenSilent({ scopes: ['API://ORDERS/orders.read', 'offline_access'], account, partition });
    assert.equal(first.fromCache, true);
    assert.equal(second.accessToken, first.accessToken);
    assert.equal(op.stats().tokenRequests, 0);
  });

  it('never serves an expired token from a remembered hit: the token\'s expiry is decided on every call', async () => {
    // A local copy that outlives the token, so the snapshot (and what was remembered with it) is still
    // there when the token expires. The clock is moved with node:test's mock timers: waiting an hour is not an option.
    const longLived = clientFor(op, 'webApp', { localCacheSeconds: 86_400 });
    const partition = `silent-${++partitionCount}`;
    const { account } = await signIn(op, longLived, { scopes: ORDERS, partition });
    op.resetStats();
    const first = await longLived.acquireTokenSilent({ scopes: ORDERS, account: account!, partition });
    for (let i = 0; i < 3; i++) assert.equal((await longLived.acquireTokenSilent({ scopes: ORDERS, account: account!, partition })).accessToken, first.accessToken);
    assert.equal(op.stats().tokenRequests, 0);
    // Inside the renewal offset (300 s before expiry) the token no longer counts as live.
    mock.timers.enable({ apis: ['Date'], now: first.expiresOn.getTime() - 299_000 });
    try {
      const renewed = await longLived.acquireTokenSilent({ scopes: ORDERS, account: account!, partition });
      assert.equal(renewed.fromCache, false);
      assert.notEqual(renewed.accessToken, first.accessToken);
      assert.equal(tokenRequests(op, 'refresh_token'), 1);
      const again = await longLived.acquireTokenSilent({ scopes: ORDERS, account: account!, partition });
      assert.equal(again.accessToken, renewed.accessToken, 'the refreshed token, from the snapshot the write made');
      assert.equal(tokenRequests(op, 'refresh_token'), 1);
    } finally {
      mock.timers.reset();
    }
  });

  it('redeems the refresh token once when the access token expired, and stores the rotated one', async () => {
    const { partition, account } = await signedIn();
    const before = await client.acquireTokenSilent({ scopes: ORDERS, account, partition });
    const oldRefreshToken = await cachedRefreshToken(client, partition);
    await expireAccessTokens(client, partition);
    const renewed = await client.acquireTokenSilent({ scopes: ORDERS, account, partition });
    assert.equal(renewed.fromCache, false);
    assert.notEqual(renewed.accessToken, before.accessToken);
    assert.equal(tokenRequests(op, 'refresh_token'), 1);
    assert.notEqual(await cachedRefreshToken(client, partition), oldRefreshToken, 'rotated refresh token stored');
    const again = await client.acquireTokenSilent({ scopes: ORDERS, account, partition });
    assert.equal(again.accessToken, renewed.accessToken);
    assert.equal(tokenRequests(op, 'refresh_token'), 1);
  });

  it('serves a second API from the same refresh token, keeping the first API\'s token', async () => {
    const { partition, account } = await signedIn();
    const orders = await client.acquireTokenSilent({ scopes: ORDERS, account, partition });
    const inventory = await client.acquireTokenSilent({ scopes: INVENTORY, account, partition });
    assert.equal(decodeJwt(inventory.accessToken).aud, 'api://inventory');
    assert.equal(decodeJwt(inventory.accessToken).oid, op.users.alice.oid);
    assert.equal(tokenRequests(op, 'refresh_token'), 1);
    const ordersAgain = await client.acquireTokenSilent({ scopes: ORDERS, account, partition });
    const inventoryAgain = await client.acquireTokenSilent({ scopes: INVENTORY, account, partition });
    assert.equal(ordersAgain.accessToken, orders.accessToken);
    assert.equal(inventoryAgain.accessToken, inventory.accessToken);
    assert.equal(tokenRequests(op, 'refresh_token'), 1);
  });

  it('keeps refreshing over 5 rotations; a rotated-out refresh token is refused', async () => {
    const { partition, account } = await signedIn();
    const exportedBefore = await client.exportCache(partition);
    const seen = new Set([await cachedRefreshToken(client, partition)]);
    for (let i = 0; i < 5; i++) {
      const result = await client.acquireTokenSilent({ scopes: ORDERS, account, partition, forceRefresh: true });
      assert.equal(result.fromCache, false);
      const rt = await cachedRefreshToken(client, partition);
      assert.ok(rt && !seen.has(rt), `rotation ${i + 1} stored a new refresh token`);
      seen.add(rt);
    }
    assert.equal(tokenRequests(op, 'refresh_token'), 5);
    // The first refresh token was rotated out: the OP refuses it and the user must sign in again.
    await client.importCache(`${partition}-stale`, exportedBefore);
    await assert.rejects(
      client.acquireTokenSilent({ scopes: ORDERS, account, partition: `${partition}-stale`, forceRefresh: true }),
      (err: unknown) => err instanceof AuthError && err.code === 'interaction_required' && err.scopes?.includes(ORDERS[0]!) === true,
    );
  });

  it('shares one refresh among 20 concurrent calls on an expired token', async () => {
    const { partition, account } = await signedIn();
    await expireAccessTokens(client, partition);
    const results = await Promise.all(Array.from({ length: 20 }, () => client.acquireTokenSilent({ scopes: ORDERS, account, partition })));
    assert.equal(tokenRequests(op, 'refresh_token'), 1);
    assert.equal(new Set(results.map((r) => r.accessToken)).size, 1);
  });

  it('serialises refreshes of one partition for different scopes (no rotated-token race)', async () => {
    const { partition, account } = await signedIn();
    await expireAccessTokens(client, partition);
    const [orders, inventory] = await Promise.all([
      client.acquireTokenSilent({ scopes: ORDERS, account, partition }),
      client.acquireTokenSilent({ scopes: INVENTORY, account, partition }),
    ]);
    assert.equal(decodeJwt(orders.accessToken).aud, 'api://orders');
    assert.equal(decodeJwt(inventory.accessToken).aud, 'api://inventory');
    assert.equal(tokenRequests(op, 'refresh_token'), 2);
  });

  it('asks for interaction with the scopes to consent to when the user never consented to them', async () => {
    const partition = `silent-${++partitionCount}`;
    // bob: alice consented to inventory in the other tests, and consent is kept per user and client, as in Entra.
    const { account } = await signIn(op, client, { scopes: ORDERS, partition, username: 'bob' });
    await assert.rejects(client.acquireTokenSilent({ scopes: INVENTORY, account: account!, partition }), (err: unknown) => {
      assert.ok(err instanceof AuthError);
      assert.ok(['interaction_required', 'consent_required'].includes(err.code), err.code);
      assert.ok(err.interactionRequired);
      assert.deepEqual(err.scopes, INVENTORY);
      assert.equal(err.status, 401);
      return true;
    });
    // The refresh token survived the refusal.
    await expireAccessTokens(client, partition);
    const orders = await client.acquireTokenSilent({ scopes: ORDERS, account: account!, partition });
    assert.equal(orders.fromCache, false);
  });

  it('asks for interaction when the partition is gone (flushed or evicted cache)', async () => {
    const { partition, account } = await signedIn();
    await client.clearCache(partition);
    await assert.rejects(client.acquireTokenSilent({ scopes: ORDERS, account, partition }), { code: 'interaction_required' });
  });

  it('keeps a local copy for localCacheSeconds: changes made here show at once, another instance\'s after the TTL', async () => {
    const shared = new MemoryTokenCacheStore();
    const here = clientFor(op, 'webApp', { cacheStore: shared, localCacheSeconds: 1 });
    const elsewhere = clientFor(op, 'webApp', { cacheStore: shared, localCacheSeconds: 1 });
    const { account } = await signIn(op, here, { partition: 'l1', scopes: ORDERS });
    assert.equal((await here.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'l1' })).fromCache, true);

    await elsewhere.clearCache('l1');
    const stale = await here.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'l1' });
    assert.equal(stale.fromCache, true, 'another instance\'s clear is not seen before the TTL');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await assert.rejects(here.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'l1' }), { code: 'interaction_required' });

    const again = await signIn(op, here, { partition: 'l1b', scopes: ORDERS });
    await here.acquireTokenSilent({ scopes: ORDERS, account: again.account!, partition: 'l1b' });
    await here.removeAccount(again.account!, { partition: 'l1b' });
    await assert.rejects(here.acquireTokenSilent({ scopes: ORDERS, account: again.account!, partition: 'l1b' }), { code: 'interaction_required' }, 'its own changes at once');
  });

  it('skips the cache for a claims challenge and sends the claims with the refresh', async () => {
    const { partition, account } = await signedIn();
    const claims = JSON.stringify({ access_token: { acrs: { essential: true, value: 'c1' } } });
    const result = await client.acquireTokenSilent({ scopes: ORDERS, account, partition, claims });
    assert.equal(result.fromCache, false);
    assert.equal(tokenRequests(op, 'refresh_token'), 1);
  });

  it('refreshes proactively past refresh_on, and serves the cached token when that refresh fails', async () => {
    const { partition, account } = await signedIn();
    const cache = JSON.parse(await client.exportCache(partition)) as { AccessToken: Record<string, { refresh_on?: string }> };
    for (const at of Object.values(cache.AccessToken)) at.refresh_on = String(Math.floor(Date.now() / 1000) - 1);
    await client.importCache(partition, cache);
    const cached = JSON.parse(await client.exportCache(partition)) as { AccessToken: Record<string, { secret: string; target: string }> };
    const ordersToken = Object.values(cached.AccessToken).find((at) => at.target.includes('Orders.Read'))!.secret;

    op.faults.set({ tokenEndpoint: 500 });
    try {
      const served = await client.acquireTokenSilent({ scopes: ORDERS, account, partition });
      assert.equal(served.fromCache, true);
      assert.equal(served.accessToken, ordersToken);
    } finally {
      op.faults.clear();
    }
    const refreshed = await client.acquireTokenSilent({ scopes: ORDERS, account, partition });
    assert.equal(refreshed.fromCache, false);
    assert.notEqual(refreshed.accessToken, ordersToken);
  });

  it('maps OP faults to clear errors: 500 and garbage -> op_bad_response, down -> op_unreachable, slow -> op_timeout', async () => {
    const { partition, account } = await signedIn();
    const quick = clientFor(op, 'webApp', { timeoutMs: 300, cacheStore: undefined });
    await quick.importCache(partition, await client.exportCache(partition));
    await expireAccessTokens(quick, partition);
    const attempt = () => quick.acquireTokenSilent({ scopes: ORDERS, account, partition });
    await quick.discover();
    const cases: Array<[Parameters<DevOp['faults']['set']>[0], string, number]> = [
      [{ tokenEndpoint: 500 }, 'op_bad_response', 502],
      [{ tokenEndpoint: 'garbage' }, 'op_bad_response', 502],
      [{ tokenEndpoint: 'down' }, 'op_unreachable', 502],
      // Last: the OP may still redeem (and rotate) the refresh token after we gave up waiting.
      [{ tokenEndpoint: 'slow', slowMs: 1500 }, 'op_timeout', 504],
    ];
    try {
      for (const [fault, code, status] of cases) {
        if (fault.tokenEndpoint === 'slow') {
          op.faults.clear();
          const recovered = await attempt();
          assert.equal(recovered.fromCache, false, 'service resumes once the fault is gone');
          await expireAccessTokens(quick, partition);
        }
        op.faults.set(fault);
        const started = Date.now();
        await assert.rejects(attempt(), (err: unknown) => {
          assert.ok(err instanceof AuthError, String(err));
          assert.equal(err.code, code, `${JSON.stringify(fault)}: ${err.message}`);
          assert.equal(err.status, status);
          assert.equal(err.expose, false);
          return true;
        });
        assert.ok(Date.now() - started < 1200, `${JSON.stringify(fault)} answered within the timeout`);
      }
    } finally {
      op.faults.clear();
    }
  });
});
