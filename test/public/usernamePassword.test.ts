/**
 * ROPC (not recommended; tested because legacy automation uses it) and silent acquisition for a
 * public client against the dev OP: cache hits, refresh after expiry, removeAccount.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { PublicClient, type AccountInfo } from '../../src/index.js';
import { ORDERS, expireAccessTokens, publicClientFor, refusedWith, startDevOp, tokenRequests, type DevOp } from './helpers.js';

describe('username/password (ROPC) and silent acquisition', () => {
  let op: DevOp;
  let client: PublicClient;

  before(async () => {
    op = await startDevOp();
    client = publicClientFor(op);
  });
  after(() => op.close());

  it('signs alice in with her password: verified ID token, tokens cached', async () => {
    op.resetStats();
    const result = await client.acquireTokenByUsernamePassword({ username: 'alice', password: 'password', scopes: ORDERS });
    assert.equal(tokenRequests(op, 'password'), 1);
    const alice = op.users.alice;
    assert.equal(result.fromCache, false);
    assert.equal(result.account?.homeAccountId, `${alice.oid}.${op.tenantId}`, 'client_info gives the Entra home account id');
    assert.equal(result.account?.username, 'alice');
    assert.equal(result.idTokenClaims?.iss, op.issuer);
    assert.equal(result.idTokenClaims?.aud, op.clients.cli.clientId);
    const at = decodeJwt(result.accessToken);
    assert.equal(at.aud, 'api://orders');
    assert.equal(at.scp, 'Orders.Read');
    assert.ok(result.scopes.includes('api://orders/Orders.Read'));
    assert.deepEqual((await client.getAccounts()).map((a) => a.username), ['alice']);
  });

  it('refuses a wrong password with invalid_grant and caches nothing', async () => {
    const other = publicClientFor(op);
    await assert.rejects(other.acquireTokenByUsernamePassword({ username: 'alice', password: 'wrong', scopes: ORDERS }), refusedWith('invalid_grant'));
    await assert.rejects(other.acquireTokenByUsernamePassword({ username: 'mallory', password: 'password', scopes: ORDERS }), refusedWith('invalid_grant'));
    assert.deepEqual(await other.getAccounts(), []);
    await assert.rejects(other.acquireTokenByUsernamePassword({ username: 'alice', password: '', scopes: ORDERS }), refusedWith('invalid_argument'));
  });

  it('acquireTokenSilent: a cache hit, then one refresh after expiry, then a cache hit again', async () => {
    const [account] = await client.getAccounts({ username: 'alice' });
    assert.ok(account);
    op.resetStats();
    const hit = await client.acquireTokenSilent({ scopes: ORDERS, account });
    assert.equal(hit.fromCache, true);
    assert.equal(op.stats().tokenRequests, 0);

    await expireAccessTokens(client);
    const refreshed = await client.acquireTokenSilent({ scopes: ORDERS, account });
    assert.equal(refreshed.fromCache, false);
    assert.notEqual(refreshed.accessToken, hit.accessToken);
    assert.equal(tokenRequests(op, 'refresh_token'), 1);
    assert.equal(refreshed.account?.homeAccountId, account.homeAccountId);

    const again = await client.acquireTokenSilent({ scopes: ORDERS, account });
    assert.equal(again.fromCache, true);
    assert.equal(again.accessToken, refreshed.accessToken);
    assert.equal(tokenRequests(op, 'refresh_token'), 1);
  });

  it('the refresh token serves another API the grant allows (multi-resource refresh)', async () => {
    const [account] = await client.getAccounts();
    const token = await client.acquireTokenSilent({ scopes: ['api://orders/Orders.Write'], account: account! });
    assert.equal(token.fromCache, false);
    assert.equal(decodeJwt(token.accessToken).aud, 'api://orders');
  });

  it('removeAccount signs the user out: silent then needs interaction', async () => {
    const [account] = await client.getAccounts();
    await client.removeAccount(account as AccountInfo);
    assert.deepEqual(await client.getAccounts(), []);
    await assert.rejects(client.acquireTokenSilent({ scopes: ORDERS, account: account! }), refusedWith('interaction_required'));
  });

  it('uses its one partition (option partition) for everything', async () => {
    const named = publicClientFor(op, { partition: 'tool-a' });
    assert.equal(named.partition, 'tool-a');
    assert.equal(client.partition, 'default');
    await named.acquireTokenByUsernamePassword({ username: 'bob', password: 'password', scopes: ORDERS });
    assert.deepEqual((await named.getAccounts()).map((a) => a.username), ['bob']);
    assert.deepEqual(await client.getAccounts(), []);
    await named.clearCache();
    assert.deepEqual(await named.getAccounts(), []);
  });
});

describe('PublicClient options', () => {
  const base = { clientId: 'cli', authority: 'http://127.0.0.1:1/tenant/v2.0', allowInsecureRequests: true };

  it('refuses a credential, naming it', () => {
    assert.throws(() => new PublicClient({ ...base, credential: { secret: 's' } } as never), (err: unknown) => {
      refusedWith('invalid_config')(err);
      assert.match((err as Error).message, /"credential"/);
      return true;
    });
  });

  it('validates the shared options like ConfidentialClient does', () => {
    assert.throws(() => new PublicClient({ ...base, clientId: '' }), /"clientId"/);
    assert.throws(() => new PublicClient({ ...base, allowInsecureRequests: false }), refusedWith('invalid_config'));
    assert.throws(() => new PublicClient({ ...base, timeoutMs: -1 }), /"timeoutMs"/);
    assert.throws(() => new PublicClient({ ...base, partition: '' }), /"partition"/);
    assert.throws(() => new PublicClient({ ...base, cacheStore: {} as never }), /"cacheStore"/);
    assert.equal(new PublicClient(base).config.credential.kind, 'none');
  });
});
