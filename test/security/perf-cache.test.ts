/**
 * The verified-token cache of bearer validation (issue 17 part 1): a cached token must never be a
 * way around a check. Each test makes the attack as a call (or a request) and asserts the refusal.
 * Tokens come from a key server of our own (test/bearer/keyServer.ts: real HTTP discovery + JWKS,
 * real RS256 signatures), so expiry and key rotation can be driven on demand.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import request from 'supertest';
import type { JWTPayload } from 'jose';
import { AuthError } from '../../src/errors.js';
import { createBearerValidator, type BearerOptions } from '../../src/bearer/index.js';
import { signatureChecks } from '../../src/bearer/validate.js';
import { requireBearer } from '../../src/express/index.js';
import { startKeyServer, type KeyServer } from '../bearer/keyServer.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const now = (): number => Math.floor(Date.now() / 1000);

async function refused(promise: Promise<unknown>, code: string, reason?: string): Promise<AuthError> {
  const err = await promise.then(() => assert.fail('expected a refusal'), (e: unknown) => e);
  assert.ok(err instanceof AuthError, `not an AuthError: ${String(err)}`);
  assert.equal(err.code, code, err.description);
  if (reason) assert.equal(err.reason, reason, err.description);
  return err;
}

describe('verified-token cache (bearer)', () => {
  let own: KeyServer;
  let base: BearerOptions;
  const claims = (overrides: JWTPayload = {}): JWTPayload => ({
    iss: own.issuer, aud: 'api://orders', sub: 'u1', scp: 'Orders.Read', iat: now(), exp: now() + 600, ...overrides,
  });

  before(async () => {
    own = await startKeyServer();
    base = { authority: own.issuer, audience: 'api://orders', allowInsecureRequests: true };
  });
  after(async () => {
    await own?.close();
  });

  test('a second validation of the same token does no signature verification (the cache answers)', async () => {
    // Counted through validate.ts's signatureChecks counter (incremented on each jose.jwtVerify
    // call): the only observable difference between a cache hit and a miss is that jose is skipped.
    const validate = createBearerValidator(base);
    const token = await own.mint(claims());
    const before = signatureChecks.count;
    const first = await validate(token);
    assert.equal(signatureChecks.count, before + 1);
    const second = await validate(token);
    assert.equal(signatureChecks.count, before + 1, 'the repeated token was verified again');
    assert.deepEqual(second, first);
  });

  test('with verifiedTokenCache: false every validation verifies the signature', async () => {
    const validate = createBearerValidator({ ...base, verifiedTokenCache: false });
    const token = await own.mint(claims());
    const before = signatureChecks.count;
    await validate(token);
    await validate(token);
    assert.equal(signatureChecks.count, before + 2);
  });

  test('a tampered copy of a cached token is refused (the key is the hash of the whole token)', async () => {
    const validate = createBearerValidator(base);
    const token = await own.mint(claims());
    await validate(token);
    await validate(token); // cached now
    const [h, , s] = token.split('.');
    // The attack: the cached token's header and signature around a payload granting more.
    const forgedPayload = Buffer.from(JSON.stringify(claims({ scp: 'Orders.Read Orders.Admin', sub: 'admin' }))).toString('base64url');
    await refused(validate(`${h}.${forgedPayload}.${s}`), 'token_invalid', 'signature_invalid');
    // One changed character in the middle of the signature.
    const mid = Math.floor(s!.length / 2);
    const flipped = `${s!.slice(0, mid)}${s![mid] === 'A' ? 'B' : 'A'}${s!.slice(mid + 1)}`;
    await refused(validate(`${h}.${token.split('.')[1]}.${flipped}`), 'token_invalid', 'signature_invalid');
  });

  test('an expired cached token is refused (exp passes while it is cached)', async () => {
    const validate = createBearerValidator({ ...base, clockToleranceSeconds: 0 });
    const token = await own.mint(claims({ exp: now() + 2 }));
    await validate(token);
    await validate(token); // cached, with about 1-2 s to live
    await sleep((now() + 2 - Date.now() / 1000) * 1000 + 1100);
    await refused(validate(token), 'token_invalid', 'expired');
  });

  test('a cached token whose key left the JWKS (key rotation at the OP) is refused', async () => {
    const rotating = await startKeyServer();
    try {
      const validate = createBearerValidator({
        authority: rotating.issuer, audience: 'api://orders', allowInsecureRequests: true, jwksCooldownSeconds: 1, jwksCacheMaxAgeSeconds: 1,
      });
      const oldToken = await rotating.mint({ iss: rotating.issuer, aud: 'api://orders', scp: 'Orders.Read', exp: now() + 600 });
      await validate(oldToken);
      await validate(oldToken); // cached
      await rotating.rotate(); // the OP retires the old key: its JWKS holds only the new one
      await sleep(1100); // past jwksCacheMaxAgeSeconds: the next use of the cache looks at the JWKS again
      await refused(validate(oldToken), 'token_invalid', 'unknown_key');
      const newToken = await rotating.mint({ iss: rotating.issuer, aud: 'api://orders', scp: 'Orders.Read', exp: now() + 600 });
      assert.equal((await validate(newToken)).aud, 'api://orders');
      await refused(validate(oldToken), 'token_invalid', 'unknown_key');
    } finally {
      await rotating.close();
    }
  });

  test('a cached token is refused on a route needing a scope it lacks (403 insufficient_scope)', async () => {
    const app = express();
    app.get('/read', requireBearer({ ...base, scopes: ['Orders.Read'] }), (_req, res) => res.json({ ok: true }));
    app.get('/write', requireBearer({ ...base, scopes: ['Orders.Write'] }), (_req, res) => res.json({ ok: true }));
    const token = await own.mint(claims({ scp: 'Orders.Read' }));
    const auth = { authorization: `Bearer ${token}` };
    await request(app).get('/read').set(auth).expect(200);
    await request(app).get('/read').set(auth).expect(200); // cached
    const res = await request(app).get('/write').set(auth).expect(403);
    assert.match(String(res.headers['www-authenticate']), /insufficient_scope/);
  });

  test('validateBearer: scopes changed in place refuse a token cached under the old ones', async () => {
    // The token is cached under the first rule set; the same options object then requires a scope
    // the token lacks (finding 4 of issue 14): the cache must not let the old answer through.
    const { validateBearer } = await import('../../src/bearer/index.js');
    const options: BearerOptions = { ...base, scopes: ['Orders.Read'] };
    const token = await own.mint(claims());
    await validateBearer(token, options);
    await validateBearer(token, options);
    (options as { scopes: readonly string[] }).scopes = ['Orders.Write'];
    await refused(validateBearer(token, options), 'insufficient_scope', 'missing_scope');
  });

  test('refused tokens are never cached: each attempt is verified in full', async () => {
    const validate = createBearerValidator({ ...base, scopes: ['Orders.Write'] });
    const token = await own.mint(claims({ scp: 'Orders.Read' }));
    const before = signatureChecks.count;
    await refused(validate(token), 'insufficient_scope');
    await refused(validate(token), 'insufficient_scope');
    assert.equal(signatureChecks.count, before + 2);
    const wrongAudience = await own.mint(claims({ aud: 'api://other' }));
    await refused(validate(wrongAudience), 'token_invalid', 'wrong_audience');
    await refused(validate(wrongAudience), 'token_invalid', 'wrong_audience');
  });

  test('cached claims are frozen: a caller changing them cannot grant a later call a scope', async () => {
    const validate = createBearerValidator({ ...base, scopes: ['Orders.Read'] });
    const token = await own.mint(claims({ roles: ['Reader'] }));
    const got = await validate(token);
    assert.throws(() => { (got as { scp: string }).scp = 'Orders.Read Orders.Admin'; }, TypeError);
    assert.throws(() => { (got.roles as string[]).push('Admin'); }, TypeError);
    assert.equal((await validate(token)).scp, 'Orders.Read');
  });

  test('bad verifiedTokenCache options are refused naming the option', () => {
    for (const bad of [{ max: 0 }, { max: 1.5 }, { ttlSeconds: -1 }, 'yes', null]) {
      assert.throws(() => createBearerValidator({ ...base, verifiedTokenCache: bad as never }), (e: unknown) => {
        assert.ok(e instanceof AuthError && e.code === 'invalid_config');
        assert.match(e.message, /verifiedTokenCache/);
        return true;
      });
    }
  });
});
