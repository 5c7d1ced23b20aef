/**
 * The MSAL cache format and the in-memory store, without an OP: a cache written in MSAL Python's
 * format (test/fixtures/msal-python-cache.json, hand-written from the documented schema) loads,
 * serves silent requests, and exports back to the same keys and fields.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AuthError, ConfidentialClient, MemoryTokenCacheStore } from '../../src/index.js';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/msal-python-cache.json', import.meta.url), 'utf8')) as Record<string, Record<string, Record<string, string>>>;
const account = Object.values(fixture.Account!)[0]!;
const clientId = Object.values(fixture.AppMetadata!)[0]!.client_id!;

/**
 * An Entra client whose authority is never contacted: every call below is answered from the
 * cache (refreshes are tested against the dev OP, never against the internet).
 */
function offlineClient(store = new MemoryTokenCacheStore()): ConfidentialClient {
  return new ConfidentialClient({
    clientId,
    authority: `https://login.microsoftonline.com/${account.realm}/v2.0`,
    credential: { secret: 'not-used-offline' },
    cacheStore: store,
    timeoutMs: 200,
  });
}

describe('MSAL JSON cache format', () => {
  it('loads a cache serialized by MSAL Python and lists its account', async () => {
    const client = offlineClient();
    await client.importCache('p1', JSON.stringify(fixture));
    const accounts = await client.getAccounts({ partition: 'p1' });
    assert.deepEqual(accounts, [{
      homeAccountId: account.home_account_id,
      environment: 'login.microsoftonline.com',
      tenantId: account.realm,
      localAccountId: account.local_account_id,
      username: 'alice@contoso.com',
      tenantProfiles: new Map([[account.realm, { tenantId: account.realm, localAccountId: account.local_account_id, isHomeTenant: true }]]),
    }]);
    assert.deepEqual(await client.getAccounts({ partition: 'p1', username: 'ALICE@contoso.com' }), accounts);
    assert.deepEqual(await client.getAccounts({ partition: 'p1', username: 'bob@contoso.com' }), []);
  });

  it('serves a silent request from the imported access token (scope subset, case-insensitive)', async () => {
    const client = offlineClient();
    await client.importCache('p1', fixture);
    const [info] = await client.getAccounts({ partition: 'p1' });
    const result = await client.acquireTokenSilent({ scopes: ['API://orders/orders.read', 'openid'], account: info!, partition: 'p1' });
    assert.equal(result.accessToken, 'fixture-access-token-orders');
    assert.equal(result.fromCache, true);
    assert.equal(result.tokenType, 'Bearer');
    assert.deepEqual(result.scopes, ['api://orders/Orders.Read', 'api://orders/Orders.Write']);
    assert.equal(result.idTokenClaims?.preferred_username, 'alice@contoso.com');
    assert.equal(result.account?.username, 'alice@contoso.com');
  });

  it('exports back to MSAL\'s keys and fields, loadable by MSAL again', async () => {
    const client = offlineClient();
    await client.importCache('p1', fixture);
    const exported = JSON.parse(await client.exportCache('p1')) as typeof fixture;
    for (const section of ['AccessToken', 'RefreshToken', 'IdToken', 'Account', 'AppMetadata']) {
      assert.deepEqual(Object.keys(exported[section]!).sort(), Object.keys(fixture[section]!).sort(), `${section} keys`);
      for (const [key, entity] of Object.entries(fixture[section]!)) {
        assert.deepEqual(exported[section]![key], entity, `${section} ${key.slice(0, 40)}`);
      }
    }
    // And our export loads into a fresh cache unchanged.
    const again = offlineClient();
    await again.importCache('p2', exported);
    assert.deepEqual(JSON.parse(await again.exportCache('p2')), exported);
  });

  it('refuses a cache that is not a JSON object, but only skips a malformed entry, with a warning naming its key (issue 15, observation 4)', async () => {
    const warnings: Array<Record<string, unknown>> = [];
    const logger = { debug: () => {}, info: () => {}, error: () => {}, warn: (obj: Record<string, unknown>) => { warnings.push(obj); } };
    const client = new ConfidentialClient({
      clientId, authority: `https://login.microsoftonline.com/${account.realm}/v2.0`, credential: { secret: 'not-used-offline' }, timeoutMs: 200, logger,
    });
    await assert.rejects(client.importCache('p', '{not json'), { code: 'cache_invalid' });
    await assert.rejects(client.importCache('p', '[1]'), { code: 'cache_invalid' });
    const broken = structuredClone(fixture);
    const [brokenKey, brokenAt] = Object.entries(broken.AccessToken!)[0]!;
    delete brokenAt.secret;
    await client.importCache('p', broken);
    const exported = JSON.parse(await client.exportCache('p')) as typeof fixture;
    assert.equal(exported.AccessToken![brokenKey], undefined, 'the entry without a secret is skipped');
    assert.deepEqual(exported.RefreshToken, fixture.RefreshToken, 'the rest of the cache is kept');
    assert.equal(warnings.length, 1);
    assert.ok(brokenKey.startsWith(String(warnings[0]!.key)) && String(warnings[0]!.key).length >= 150, 'the warning names the key');
    assert.match(String(warnings[0]!.problem), /lacks the string field "secret"/);
    assert.ok(!JSON.stringify(warnings).includes('fixture-'), 'no token in the warning');
  });

  it('keeps a family refresh token and the app\'s own apart (msal-node keys the family one by family id), and exports both', async () => {
    const client = offlineClient();
    const cache = structuredClone(fixture);
    const [rtKey, rt] = Object.entries(cache.RefreshToken!)[0]!;
    const familyKey = `${rt.home_account_id}-${rt.environment}-refreshtoken-1---`.toLowerCase();
    cache.RefreshToken![familyKey] = { ...rt, family_id: '1', secret: 'fixture-family-refresh-token' };
    await client.importCache('fam', cache);
    const exported = JSON.parse(await client.exportCache('fam')) as typeof fixture;
    assert.deepEqual(Object.keys(exported.RefreshToken!).sort(), [rtKey, familyKey].sort());
    assert.deepEqual(exported.RefreshToken, cache.RefreshToken);
  });

  it('lists one account per home account when peers filed it under two Entra aliases', async () => {
    const client = offlineClient();
    const cache = structuredClone(fixture);
    const [key, acc] = Object.entries(cache.Account!)[0]!;
    cache.Account![key.replace('login.microsoftonline.com', 'login.windows.net')] = { ...acc, environment: 'login.windows.net' };
    await client.importCache('aliases', cache);
    assert.equal((await client.getAccounts({ partition: 'aliases' })).length, 1);
  });

  it('tenant profiles: listed once (the home tenant\'s); silent for a tenant serves that tenant\'s token, never another\'s (issue 15, observation 6)', async () => {
    const client = offlineClient();
    const cache = structuredClone(fixture);
    const guestTenant = '0a0b0c0d-0000-4000-8000-00000000fab1';
    // The guest profile listed first, as a cache may hold it.
    const [accKey, acc] = Object.entries(cache.Account!)[0]!;
    cache.Account = { [accKey.replace(account.realm!, guestTenant)]: { ...acc, realm: guestTenant, local_account_id: 'guest-oid' }, [accKey]: acc };
    const [atKey, at] = Object.entries(cache.AccessToken!)[0]!;
    cache.AccessToken![atKey.replace(account.realm!, guestTenant)] = { ...at, realm: guestTenant, secret: 'fixture-access-token-orders-fabrikam' };
    await client.importCache('profiles', cache);
    const accounts = await client.getAccounts({ partition: 'profiles' });
    assert.equal(accounts.length, 1, 'one account per home account');
    assert.equal(accounts[0]!.tenantId, account.realm, 'the home tenant\'s profile');
    const home = await client.acquireTokenSilent({ scopes: ['api://orders/Orders.Read'], account: accounts[0]!, partition: 'profiles' });
    assert.equal(home.accessToken, 'fixture-access-token-orders');
    const guest = await client.acquireTokenSilent({ scopes: ['api://orders/Orders.Read'], account: { ...accounts[0]!, tenantId: guestTenant }, partition: 'profiles' });
    assert.equal(guest.accessToken, 'fixture-access-token-orders-fabrikam');
    assert.equal(guest.account?.tenantId, guestTenant);
    await assert.rejects(
      client.acquireTokenSilent({ scopes: ['api://orders/Orders.Read'], account: { ...accounts[0]!, tenantId: 'another-tenant' }, partition: 'profiles' }),
      { code: 'interaction_required' },
    );
  });

  it('importCache replaces the partition; removeAccount empties it of the account', async () => {
    const client = offlineClient();
    await client.importCache('p1', fixture);
    await client.importCache('p1', { Account: {}, AccessToken: {} });
    assert.deepEqual(await client.getAccounts({ partition: 'p1' }), []);
    await client.importCache('p1', fixture);
    const [info] = await client.getAccounts({ partition: 'p1' });
    await client.removeAccount(info!, { partition: 'p1' });
    const left = JSON.parse(await client.exportCache('p1')) as typeof fixture;
    assert.deepEqual(Object.keys(left.AccessToken!), []);
    assert.deepEqual(Object.keys(left.RefreshToken!), []);
    assert.deepEqual(Object.keys(left.Account!), []);
    await assert.rejects(
      client.acquireTokenSilent({ scopes: ['api://orders/Orders.Read'], account: info!, partition: 'p1' }),
      { code: 'interaction_required' },
    );
  });
});

describe('MemoryTokenCacheStore', () => {
  const entity = { client_id: 'c', environment: 'e' };

  it('keeps at most maxPartitions, dropping the least recently used', async () => {
    const store = new MemoryTokenCacheStore({ maxPartitions: 2 });
    await store.write('a', { set: { k: entity }, remove: [] });
    await store.write('b', { set: { k: entity }, remove: [] });
    await store.read('a'); // a is now the most recently used
    await store.write('c', { set: { k: entity }, remove: [] });
    assert.equal(store.size, 2);
    assert.deepEqual(await store.read('b'), {});
    assert.deepEqual(await store.read('a'), { k: entity });
    assert.deepEqual(await store.read('c'), { k: entity });
  });

  it('expires partitions after their ttl and hands out copies', async () => {
    const store = new MemoryTokenCacheStore();
    await store.write('a', { set: { k: entity }, remove: [] }, { ttlSeconds: 0.05 });
    const copy = await store.read('a');
    (copy.k as { client_id: string }).client_id = 'mutated';
    assert.deepEqual(await store.read('a'), { k: entity });
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.deepEqual(await store.read('a'), {});
  });

  it('writes only the given fields and deletes removed ones', async () => {
    const store = new MemoryTokenCacheStore();
    await store.write('a', { set: { k1: entity, k2: entity }, remove: [] });
    await store.write('a', { set: { k3: entity }, remove: ['k1'] });
    assert.deepEqual(Object.keys(await store.read('a')).sort(), ['k2', 'k3']);
  });

  it('refuses bad options by name', () => {
    assert.throws(() => new MemoryTokenCacheStore({ maxPartitions: 0 }), /"maxPartitions"/);
    assert.throws(() => new MemoryTokenCacheStore({ ttlSeconds: -1 }), /"ttlSeconds"/);
  });
});
