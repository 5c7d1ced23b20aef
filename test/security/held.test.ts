/**
 * Attacks of the review that held, but had no test of their own: a token carrying its own key
 * (`jwk` header) or pointing at the attacker's key set (`jku`). jose never takes keys from a
 * token's header; these tests pin that authflow does not either. Bearer tokens are checked
 * against our own small OP (test/bearer/keyServer.ts); the attacker's JWKS server counts hits.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { AuthError } from '../../src/errors.js';
import { validateBearer, type BearerOptions } from '../../src/bearer/index.js';
import { startKeyServer, type KeyServer } from '../bearer/keyServer.js';

const now = (): number => Math.floor(Date.now() / 1000);

describe('held: keys named or embedded by the token itself are never used', () => {
  let own: KeyServer;
  let options: BearerOptions;
  let attacker: { privateKey: CryptoKey; jwk: JWK };
  let jwksServer: Server;
  let jku: string;
  let attackerHits = 0;

  before(async () => {
    own = await startKeyServer();
    options = { authority: own.issuer, audience: 'api://orders', allowInsecureRequests: true };
    const pair = await generateKeyPair('RS256', { extractable: true });
    attacker = { privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), alg: 'RS256', use: 'sig' } };
    jwksServer = createServer((_req, res) => {
      attackerHits += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [{ ...attacker.jwk, kid: own.kid }] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    jku = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/keys`;
  });
  after(async () => {
    await own.close();
    await new Promise<void>((resolve) => jwksServer.close(() => resolve()));
  });

  const claims = () => ({ iss: own.issuer, aud: 'api://orders', sub: 'u1', scp: 'Orders.Read', iat: now(), exp: now() + 600 });
  const forge = (header: Record<string, unknown>) =>
    new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...header }).sign(attacker.privateKey);

  async function assertRefused(token: string, why: string): Promise<void> {
    const err = await validateBearer(token, options).then(() => assert.fail(`${why}: accepted`), (e: unknown) => e);
    assert.ok(err instanceof AuthError, why);
    assert.equal(err.code, 'token_invalid', `${why}: ${err.description}`);
    assert.equal(err.status, 401, why);
  }

  it('held: a token signed by the attacker with its public key embedded as "jwk" is refused (401 token_invalid)', async () => {
    await assertRefused(await forge({ jwk: attacker.jwk }), 'embedded jwk, no kid');
    await assertRefused(await forge({ jwk: attacker.jwk, kid: own.kid }), 'embedded jwk under the OP\'s kid');
  });

  it('held: a token naming the attacker\'s key set in "jku" (or "x5u") is refused, and that URL is never fetched', async () => {
    await assertRefused(await forge({ jku, kid: own.kid }), 'jku with the OP\'s kid');
    await assertRefused(await forge({ x5u: jku, kid: own.kid }), 'x5u with the OP\'s kid');
    assert.equal(attackerHits, 0, 'the attacker\'s key set was never asked for');
  });

  it('held: the control: a token signed by the OP\'s key is accepted (the test can tell)', async () => {
    const claimsOut = await validateBearer(await own.mint(claims()), options);
    assert.equal(claimsOut.sub, 'u1');
  });
});
