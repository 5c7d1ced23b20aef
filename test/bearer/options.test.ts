/**
 * Bearer options are checked once, when the validator is built: each refusal is `invalid_config`
 * naming the option. No OP is needed (nothing is fetched before the first token).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AuthError } from '../../src/errors.js';
import { createBearerValidator, validateBearer, type BearerOptions } from '../../src/bearer/index.js';

const base: BearerOptions = { authority: 'https://login.microsoftonline.com/7d1f0a3e-2c4b-4e8a-9f61-5a0c3b2d1e47/v2.0', audience: 'api://orders' };

function refusedOption(options: unknown, option: string): void {
  assert.throws(() => createBearerValidator(options as BearerOptions), (err: unknown) => {
    assert.ok(err instanceof AuthError);
    assert.equal(err.code, 'invalid_config');
    assert.ok(err.description.startsWith(`option "${option}"`), err.description);
    return true;
  });
}

describe('bearer options', () => {
  test('valid options build a validator without any request', () => {
    assert.equal(typeof createBearerValidator(base), 'function');
    assert.equal(typeof createBearerValidator({ ...base, audience: ['api://orders', 'orders-api'], scopes: ['Orders.Read'], roles: ['Orders.Read.All'], algorithms: ['RS256', 'ES384'] }), 'function');
  });

  test('missing authority is refused', () => {
    refusedOption({ audience: 'api://orders' }, 'authority');
    refusedOption({ ...base, authority: '' }, 'authority');
  });

  test('missing or empty audience is refused', () => {
    refusedOption({ authority: base.authority }, 'audience');
    refusedOption({ ...base, audience: [] }, 'audience');
    refusedOption({ ...base, audience: [''] }, 'audience');
  });

  test('algorithms containing "none" are refused', () => {
    refusedOption({ ...base, algorithms: ['RS256', 'none'] }, 'algorithms');
  });

  test('algorithms containing HS256 (or any HS*) are refused', () => {
    refusedOption({ ...base, algorithms: ['HS256'] }, 'algorithms');
    refusedOption({ ...base, algorithms: ['RS256', 'hs512'] }, 'algorithms');
  });

  test('unknown or empty algorithms are refused', () => {
    refusedOption({ ...base, algorithms: [] }, 'algorithms');
    refusedOption({ ...base, algorithms: ['RSA-OAEP'] }, 'algorithms');
  });

  test('a multi-tenant authority without allowedTenants is refused', () => {
    refusedOption({ ...base, authority: 'https://login.microsoftonline.com/common/v2.0' }, 'allowedTenants');
    refusedOption({ ...base, authority: 'https://login.microsoftonline.com/organizations/v2.0' }, 'allowedTenants');
    refusedOption({ ...base, authority: 'https://login.microsoftonline.com/common/v2.0', allowedTenants: [] }, 'allowedTenants');
    assert.ok(createBearerValidator({ ...base, authority: 'https://login.microsoftonline.com/common/v2.0', allowedTenants: ['7d1f0a3e-2c4b-4e8a-9f61-5a0c3b2d1e47'] }));
  });

  test('an http:// authority without allowInsecureRequests is refused', () => {
    refusedOption({ ...base, authority: 'http://127.0.0.1:4000/tenant/v2.0' }, 'authority');
    assert.ok(createBearerValidator({ ...base, authority: 'http://127.0.0.1:4000/tenant/v2.0', allowInsecureRequests: true }));
  });

  test('empty scopes or roles (which would let "scopes OR roles" pass anything) are refused', () => {
    refusedOption({ ...base, scopes: [] }, 'scopes');
    refusedOption({ ...base, roles: [] }, 'roles');
    refusedOption({ ...base, scopes: ['Orders.Read Orders.Write'] }, 'scopes');
  });

  test('acceptV1Issuer on a non-Entra authority is refused', () => {
    refusedOption({ ...base, authority: 'https://op.example.com', acceptV1Issuer: true }, 'acceptV1Issuer');
  });

  test('bad numbers, fetch and logger are refused', () => {
    refusedOption({ ...base, clockToleranceSeconds: -1 }, 'clockToleranceSeconds');
    refusedOption({ ...base, jwksCooldownSeconds: 0 }, 'jwksCooldownSeconds');
    refusedOption({ ...base, timeoutMs: 0 }, 'timeoutMs');
    refusedOption({ ...base, fetch: 'fetch' }, 'fetch');
    refusedOption({ ...base, logger: console.log }, 'logger');
    refusedOption(null, 'options');
  });

  test('validateBearer rejects with the same invalid_config', async () => {
    await assert.rejects(validateBearer('a.b.c', { ...base, algorithms: ['none'] }), (err: unknown) => err instanceof AuthError && err.code === 'invalid_config');
  });
});
