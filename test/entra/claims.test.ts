/**
 * `clientCapabilities` and the `claims` parameter: the merge rule as msal-common's
 * `buildMergedClaims` applies it (a table: input -> output), and the option's refusals.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuthError, ConfidentialClient } from '../../src/index.js';
import { mergeClaims } from '../../src/flows/claims.js';

const CP1 = '{"access_token":{"xms_cc":{"values":["CP1"]}}}';

describe('mergeClaims (MSAL buildMergedClaims)', () => {
  const table: Array<[string, string | undefined, string[], string | undefined]> = [
    ['nothing to send', undefined, [], undefined],
    ['empty claims, no capabilities', '', [], undefined],
    ['claims alone pass unchanged', '{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}', [], '{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}'],
    ['capabilities alone', undefined, ['CP1'], CP1],
    ['two capabilities, in order', undefined, ['CP1', 'CP2'], '{"access_token":{"xms_cc":{"values":["CP1","CP2"]}}}'],
    ['a CAE challenge keeps its nbf beside xms_cc', '{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}', ['CP1'],
      '{"access_token":{"nbf":{"essential":true,"value":"1700000000"},"xms_cc":{"values":["CP1"]}}}'],
    ['id_token claims are kept', '{"id_token":{"acrs":{"essential":true,"value":"c1"}}}', ['CP1'],
      '{"id_token":{"acrs":{"essential":true,"value":"c1"}},"access_token":{"xms_cc":{"values":["CP1"]}}}'],
    ['the configured capabilities replace a request\'s xms_cc', '{"access_token":{"xms_cc":{"values":["XX"]}}}', ['CP1'], CP1],
    ['a non-object access_token member is replaced', '{"access_token":5}', ['CP1'], CP1],
  ];
  for (const [name, claims, capabilities, expected] of table) {
    it(name, () => assert.equal(mergeClaims(claims, capabilities), expected));
  }

  for (const bad of ['not json', '[1,2]', 'null', '"text"', '42']) {
    it(`refuses claims ${bad} (invalid_argument naming claims)`, () => {
      for (const caps of [[], ['CP1']]) {
        assert.throws(() => mergeClaims(bad, caps), (err: unknown) => err instanceof AuthError && err.code === 'invalid_argument' && /claims/.test(err.description));
      }
    });
  }
});

describe('clientCapabilities option', () => {
  const base = { clientId: 'app', authority: 'http://127.0.0.1:1/tenant/v2.0', allowInsecureRequests: true, credential: { secret: 'x'.repeat(20) } };
  it('accepts ["CP1"] and defaults to none', () => {
    assert.deepEqual(new ConfidentialClient({ ...base, clientCapabilities: ['CP1'] }).config.clientCapabilities, ['CP1']);
    assert.deepEqual(new ConfidentialClient(base).config.clientCapabilities, []);
  });
  for (const [value, why] of [['CP1', /array/], [['CP1', 'CP1'], /twice/], [[''], /array/], [['CP 1'], /array/], [[1], /array/], [null, /array/]] as const) {
    it(`refuses ${JSON.stringify(value)}, naming the option`, () => {
      assert.throws(() => new ConfidentialClient({ ...base, clientCapabilities: value as never }), (err: unknown) =>
        err instanceof AuthError && err.code === 'invalid_config' && err.description.includes('"clientCapabilities"') && why.test(err.description));
    });
  }
});

describe('claims refused before any request', () => {
  it('acquireTokenSilent refuses claims that are not a JSON object, naming them, before the cache or the OP', async () => {
    const client = new ConfidentialClient({ clientId: 'app', authority: 'http://127.0.0.1:1/tenant/v2.0', allowInsecureRequests: true, credential: { secret: 'x'.repeat(20) } });
    const account = { homeAccountId: 'uid.utid', environment: '127.0.0.1:1', tenantId: 'utid', username: 'u', localAccountId: 'uid' };
    await assert.rejects(client.acquireTokenSilent({ scopes: ['api://orders/Orders.Read'], account, claims: 'not json' }),
      (err: unknown) => err instanceof AuthError && err.code === 'invalid_argument' && /claims/.test(err.description));
  });
});
