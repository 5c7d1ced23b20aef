/**
 * The cache's pure functions as tables (issue 15): the keys authflow writes (msal-node 7's
 * format), what makes two entries the same token whatever their key, Entra's aliases, and the
 * scope rule with `.default`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { accessTokenKey, accountKey, identityOf, idTokenKey, refreshTokenKey, type CacheEntity } from '../../src/cache/entities.js';
import { cacheEnvironment, sameEnvironment } from '../../src/cache/environments.js';
import { coversScopes } from '../../src/cache/lookup.js';

const owner = { home_account_id: 'uid.utid', environment: 'login.windows.net', client_id: 'web-app' };

describe('cache keys and identities', () => {
  it('writes msal-node 7\'s 7-part keys', () => {
    const cases: Array<[string, string]> = [
      [refreshTokenKey(owner), 'uid.utid-login.windows.net-refreshtoken-web-app---'],
      [refreshTokenKey({ ...owner, family_id: '1' }), 'uid.utid-login.windows.net-refreshtoken-1---'],
      [accessTokenKey({ ...owner, realm: 'TID', target: 'api://orders/Orders.Read' }), 'uid.utid-login.windows.net-accesstoken-web-app-tid-api://orders/orders.read-'],
      [accessTokenKey({ ...owner, realm: 'tid', target: 'x', token_type: 'pop' }), 'uid.utid-login.windows.net-accesstoken-web-app-tid-x-pop'],
      [idTokenKey({ ...owner, realm: 'tid' }), 'uid.utid-login.windows.net-idtoken-web-app-tid--'],
      [accountKey({ ...owner, realm: 'tid' }), 'uid.utid-login.windows.net-tid'],
    ];
    for (const [actual, expected] of cases) assert.equal(actual, expected);
  });

  it('gives the same identity to one token under either key format, Entra alias or target order', () => {
    const rt = (fields: Record<string, unknown>): CacheEntity => ({ credential_type: 'RefreshToken', secret: 's', ...owner, ...fields }) as CacheEntity;
    const at = (fields: Record<string, unknown>): CacheEntity => ({ credential_type: 'AccessToken', secret: 's', ...owner, realm: 'tid', target: 'b a', expires_on: '1', cached_at: '1', ...fields }) as CacheEntity;
    const same: Array<[CacheEntity, CacheEntity]> = [
      [rt({}), rt({ environment: 'login.microsoftonline.com', target: 'api://orders/Orders.Read openid' })],
      [at({}), at({ environment: 'LOGIN.MICROSOFT.COM', target: 'A B' })],
      [at({ user_assertion_hash: 'h' }), at({ userAssertionHash: 'h' })],
    ];
    for (const [a, b] of same) assert.equal(identityOf(a, cacheEnvironment), identityOf(b, cacheEnvironment));
    const different: Array<[CacheEntity, CacheEntity]> = [
      [rt({}), rt({ family_id: '1' })],
      [at({}), at({ token_type: 'pop' })],
      [at({}), at({ credential_type: 'AccessToken_With_AuthScheme' })],
      [at({}), at({ realm: 'other' })],
      [at({}), at({ userAssertionHash: 'h' })],
    ];
    for (const [a, b] of different) assert.notEqual(identityOf(a, cacheEnvironment), identityOf(b, cacheEnvironment));
  });

  it('treats Entra\'s aliases as one environment, each cloud apart', () => {
    const cases: Array<[string, string]> = [
      ['login.microsoftonline.com', 'login.windows.net'], ['sts.windows.net', 'login.windows.net'], ['LOGIN.MICROSOFT.COM', 'login.windows.net'],
      ['login.chinacloudapi.cn', 'login.partner.microsoftonline.cn'], ['login.usgovcloudapi.net', 'login.microsoftonline.us'],
      ['127.0.0.1:8080', '127.0.0.1:8080'], ['op.example', 'op.example'],
    ];
    for (const [host, cache] of cases) assert.equal(cacheEnvironment(host), cache, host);
    assert.equal(sameEnvironment('login.microsoftonline.com', 'sts.windows.net'), true);
    assert.equal(sameEnvironment('login.microsoftonline.com', 'login.microsoftonline.us'), false);
  });

  it('meets <api>/.default with any scope of that API', () => {
    const set = (...scopes: string[]): Set<string> => new Set(scopes);
    const cases: Array<[Set<string>, Set<string>, boolean]> = [
      [set('api://orders/orders.read'), set('api://orders/.default'), true],
      [set('api://orders/.default'), set('api://orders/.default'), true],
      [set('api://inventory/inventory.read'), set('api://orders/.default'), false],
      [set('api://orders/orders.read'), set('api://orders/orders.write'), false],
      [set('https://graph.microsoft.com/user.read', 'api://orders/orders.read'), set('https://graph.microsoft.com/.default', 'api://orders/orders.read'), true],
    ];
    for (const [have, want, expected] of cases) assert.equal(coversScopes(have, want), expected, [...want].join(' '));
  });
});
