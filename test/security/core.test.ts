/**
 * Security review (issue 14), core findings 4, 7, 8, 10, 11 and 12: each case is the attack as a
 * call or request against real parts (the dev OP, our key server, the hostile OP, a real Redis),
 * and the refusal as the assertion (error code and HTTP status). Titles name the finding.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import type { JWTPayload } from 'jose';
import { AuthError, ConfidentialClient, MemoryTokenCacheStore, RedisTokenCacheStore, type Logger, type TokenResult } from '../../src/index.js';
import { validateBearer, type BearerOptions } from '../../src/bearer/index.js';
import { DEFAULT_JWKS_COOLDOWN_SECONDS } from '../../src/bearer/options.js';
import { clientFor, signIn, startDevOp, type DevOp } from '../helpers/op.js';
import { connectRedis, deleteKeys, uniquePrefix } from '../helpers/redis.js';
import { startKeyServer, type KeyServer } from '../bearer/keyServer.js';
import { startHostileOp, type HostileOp } from '../conformance/hostile-op.js';

const now = (): number => Math.floor(Date.now() / 1000);
const TENANT_A = '11111111-1111-4111-8111-111111111111';
const TENANT_B = '22222222-2222-4222-8222-222222222222';
const HOSTILE_CLIENT = { clientId: 'security-rp', clientSecret: 'security-rp-secret-0123456789abcdef', redirectUri: 'http://localhost:3000/callback' };

/** Awaits a refusal: an AuthError with this code and HTTP status (and, for bearer refusals, reason). */
async function refused(promise: Promise<unknown>, code: string, status: number, reason?: string): Promise<AuthError> {
  const err = await promise.then(() => assert.fail(`expected a refusal with ${code}`), (e: unknown) => e);
  assert.ok(err instanceof AuthError, `not an AuthError: ${String(err)}`);
  assert.equal(err.code, code, err.description);
  assert.equal(err.status, status, err.description);
  if (reason) assert.equal(err.reason, reason, err.description);
  return err;
}

function startHostile(): Promise<HostileOp> {
  return startHostileOp({ clientId: HOSTILE_CLIENT.clientId, clientSecret: HOSTILE_CLIENT.clientSecret, redirectUris: [HOSTILE_CLIENT.redirectUri] });
}

function hostileClient(op: HostileOp, cacheStore = new MemoryTokenCacheStore()): ConfidentialClient {
  return new ConfidentialClient({ clientId: HOSTILE_CLIENT.clientId, authority: op.issuer, credential: { secret: HOSTILE_CLIENT.clientSecret }, allowInsecureRequests: true, cacheStore });
}

/** A whole sign-in at the hostile OP: flow, authorize (it redirects straight back), code redemption. */
async function hostileSignIn(op: HostileOp, client: ConfidentialClient): Promise<TokenResult> {
  const flow = await client.initiateAuthCodeFlow({ scopes: [], redirectUri: HOSTILE_CLIENT.redirectUri });
  const authorize = await fetch(flow.authUri, { redirect: 'manual' });
  assert.equal(authorize.status, 302);
  return client.acquireTokenByAuthCodeFlow(flow, new URL(authorize.headers.get('location')!).searchParams);
}

describe('security review: core findings', () => {
  let op: DevOp;
  let own: KeyServer;
  let redis: Redis;
  const prefixes: string[] = [];
  /** Valid access-token claims for our key server; override one at a time. */
  const claims = (overrides: JWTPayload = {}): JWTPayload => ({
    iss: own.issuer, aud: 'api://orders', sub: 'u1', tid: TENANT_A, scp: 'Orders.Read', iat: now(), nbf: now(), exp: now() + 600, ...overrides,
  });

  before(async () => {
    op = await startDevOp();
    own = await startKeyServer();
    redis = await connectRedis();
  });
  after(async () => {
    for (const prefix of prefixes) await deleteKeys(redis, prefix);
    redis.disconnect();
    await own?.close();
    await op?.close();
  });

  test('finding 4: validateBearer enforces options mutated after first use (scopes, allowedTenants), 403 insufficient_scope / 401 token_invalid', async () => {
    const options: BearerOptions & { scopes: string[]; allowedTenants: string[] } = {
      authority: own.issuer, audience: 'api://orders', allowInsecureRequests: true, scopes: ['Orders.Read'], allowedTenants: [TENANT_A],
    };
    const token = await own.mint(claims());
    assert.equal((await validateBearer(token, options)).sub, 'u1', 'first use: accepted');
    options.scopes = ['Orders.Write'];
    await refused(validateBearer(token, options), 'insufficient_scope', 403, 'missing_scope');
    options.scopes = ['Orders.Read'];
    assert.equal((await validateBearer(token, options)).sub, 'u1', 'back to the first rules: accepted');
    options.scopes.push('Orders.Delete'); // in place, same array
    await refused(validateBearer(token, options), 'insufficient_scope', 403, 'missing_scope');
    options.scopes.pop();
    options.allowedTenants[0] = TENANT_B; // in place, same array
    await refused(validateBearer(token, options), 'token_invalid', 401, 'tenant_not_allowed');
  });

  test('finding 7: a cache value whose AES-GCM tag is cut to 4 bytes is refused (read as absent, logged "invalid")', async () => {
    const prefix = uniquePrefix('sec7');
    prefixes.push(prefix);
    const warnings: Array<Record<string, unknown>> = [];
    const logger: Logger = { debug() {}, info() {}, error() {}, warn: (fields) => { warnings.push(fields as Record<string, unknown>); } };
    const store = new RedisTokenCacheStore({ client: redis, prefix, encryptionKeys: [{ id: 'k1', key: randomBytes(32) }], logger });
    const entity = { credential_type: 'RefreshToken', secret: 'a-refresh-token-secret' };
    await store.write('p1', { set: { 'rt-1': entity as never, 'rt-2': entity as never }, remove: [] });
    assert.equal(Object.keys(await store.read('p1')).length, 2, 'control: both values decrypt');
    const raw = await redis.hget(store.keyOf('p1'), 'rt-1');
    const parts = raw!.split('.');
    const tag = Buffer.from(parts[4]!, 'base64url');
    assert.equal(tag.length, 16);
    parts[4] = tag.subarray(0, 4).toString('base64url'); // the truncated tag GCM would verify without a fixed length
    await redis.hset(store.keyOf('p1'), 'rt-1', parts.join('.'));
    const read = await store.read('p1');
    assert.deepEqual(Object.keys(read), ['rt-2'], 'the forged value is absent');
    assert.ok(warnings.some((w) => w.problem === 'invalid'), JSON.stringify(warnings));
    assert.ok(!JSON.stringify(warnings).includes('a-refresh-token-secret'));
  });

  test('finding 8: in production RedisTokenCacheStore refuses to build without encryptionKeys unless encryption: "off" (500 invalid_config)', () => {
    const saved = process.env.NODE_ENV;
    try {
      process.env.NODE_ENV = 'production';
      const err = (() => {
        try {
          new RedisTokenCacheStore({ client: redis });
        } catch (e) {
          return e;
        }
        return assert.fail('built without encryption in production');
      })();
      assert.ok(err instanceof AuthError);
      assert.equal(err.code, 'invalid_config');
      assert.equal(err.status, 500);
      assert.match(err.description, /"encryptionKeys"/);
      assert.match(err.description, /encryption: 'off'/);
      const warned: string[] = [];
      const logger: Logger = { debug() {}, info() {}, error() {}, warn: (_fields, message) => { warned.push(String(message)); } };
      assert.ok(new RedisTokenCacheStore({ client: redis, encryption: 'off', logger }), 'explicitly off: builds');
      assert.ok(warned.some((m) => /clear text/.test(m)), 'and says so in the log');
      assert.ok(new RedisTokenCacheStore({ client: redis, encryptionKeys: [{ id: 'k1', key: randomBytes(32) }] }), 'with keys: builds');
      assert.throws(() => new RedisTokenCacheStore({ client: redis, encryption: 'of' as 'off' }), (e: unknown) => e instanceof AuthError && /"encryption"/.test(e.description));
      assert.throws(
        () => new RedisTokenCacheStore({ client: redis, encryption: 'off', encryptionKeys: [{ id: 'k1', key: randomBytes(32) }] }),
        (e: unknown) => e instanceof AuthError && /"encryption"/.test(e.description),
      );
      process.env.NODE_ENV = 'development';
      assert.ok(new RedisTokenCacheStore({ client: redis }), 'outside production: builds as before');
    } finally {
      if (saved === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = saved;
    }
  });

  test('finding 10: a real ID token of the dev OP is refused as a bearer token with audience = client id (401 token_invalid, wrong_type)', async () => {
    const client = clientFor(op, 'webApp');
    await signIn(op, client, { partition: 'sec10' });
    const cache = JSON.parse(await client.exportCache('sec10')) as { IdToken: Record<string, { secret: string }> };
    const idToken = Object.values(cache.IdToken)[0]!.secret;
    const options = { authority: op.issuer, audience: op.clients.webApp.clientId, allowInsecureRequests: true };
    await refused(validateBearer(idToken, options), 'token_invalid', 401, 'wrong_type');
  });

  test('finding 10: bearer tokens shaped like ID tokens (at_hash, c_hash, s_hash, nonce without scopes, Entra idtyp, typ "ID") are refused (401 token_invalid)', async () => {
    const options = { authority: own.issuer, audience: 'client-id-1', allowInsecureRequests: true, roles: ['Orders.Admin'] };
    const idTokenShape = { aud: 'client-id-1', scp: undefined, roles: ['Orders.Admin'] }; // an ID token can carry app roles
    assert.ok(await validateBearer(await own.mint(claims({ ...idTokenShape, idtyp: 'user' })), options), 'control: an access token passes');
    assert.ok(await validateBearer(await own.mint(claims({ ...idTokenShape, nonce: 'n', scope: 'openid profile' })), options), 'control: Keycloak < 25 copies nonce into access tokens, which carry scope');
    for (const extra of [{ nonce: 'n-0S6_WzA2Mj' }, { at_hash: 'HK6E_P6Dh8Y93mRNtsDB1Q' }, { c_hash: 'LDktKdoQak3Pk0cnXxCltA', scp: 'Orders.Read' }, { s_hash: 'x' }, { idtyp: 'id' }, { typ: 'ID' }]) {
      await refused(validateBearer(await own.mint(claims({ ...idTokenShape, ...extra })), options), 'token_invalid', 401, 'wrong_type');
    }
  });

  test('finding 10: a bearer token issued a year in the future (iat) is refused (401 token_invalid, not_yet_valid)', async () => {
    const options = { authority: own.issuer, audience: 'api://orders', allowInsecureRequests: true, clockToleranceSeconds: 60 };
    assert.ok(await validateBearer(await own.mint(claims({ iat: now() + 30 })), options), 'within the tolerance: accepted');
    await refused(validateBearer(await own.mint(claims({ iat: now() + 365 * 24 * 3600 })), options), 'token_invalid', 401, 'not_yet_valid');
    await refused(validateBearer(await own.mint(claims({ iat: now() + 120 })), options), 'token_invalid', 401, 'not_yet_valid');
  });

  test('finding 10: a sign-in whose ID token is issued a year in the future (iat) is refused (401 id_token_invalid), nothing cached', async () => {
    const hostile = await startHostile();
    try {
      assert.ok((await hostileSignIn(hostile, hostileClient(hostile))).idTokenClaims, 'control: a normal sign-in succeeds');
      hostile.misbehave('iat-future');
      const store = new MemoryTokenCacheStore();
      await refused(hostileSignIn(hostile, hostileClient(hostile, store)), 'id_token_invalid', 401);
      assert.equal(store.size, 0, 'nothing was cached');
    } finally {
      await hostile.close();
    }
  });

  test('finding 11: an OP slower than timeoutMs is 504 op_timeout (whole seconds and not), within timeoutMs', async () => {
    op.faults.set({ tokenEndpoint: 'slow', slowMs: 3000 });
    try {
      for (const timeoutMs of [1000, 2000, 700]) {
        const client = clientFor(op, 'daemon', { timeoutMs });
        await client.discover();
        const started = Date.now();
        const err = await refused(client.acquireTokenForClient({ scopes: ['api://inventory/.default'] }), 'op_timeout', 504);
        const elapsed = Date.now() - started;
        assert.ok(elapsed >= timeoutMs - 20 && elapsed < timeoutMs + 500, `timeoutMs ${timeoutMs}: answered after ${elapsed} ms`);
        assert.match(err.description, new RegExp(`within ${timeoutMs} ms`));
      }
    } finally {
      op.faults.clear();
    }
  });

  test('finding 11: a JWKS slower than timeoutMs during sign-in is 504 op_timeout, not 502 op_unreachable', async () => {
    const client = clientFor(op, 'webApp', { timeoutMs: 1000 });
    op.faults.set({ jwks: 'slow', slowMs: 3000 });
    try {
      const started = Date.now();
      await refused(signIn(op, client), 'op_timeout', 504);
      assert.ok(Date.now() - started < 2900, 'refused before the OP answered');
    } finally {
      op.faults.clear();
    }
  });

  test('finding 12: ID tokens with unknown kids cost at most one JWKS fetch per cooldown; a real key rotation still signs in (one refetch)', async () => {
    const hostile = await startHostile();
    try {
      const client = hostileClient(hostile);
      await hostileSignIn(hostile, client);
      assert.equal(hostile.counters.jwks, 1, 'the first sign-in fetched the JWKS once');
      hostile.misbehave('unknown-kid');
      const started = Date.now();
      const attempts = await Promise.allSettled(Array.from({ length: 8 }, () => hostileSignIn(hostile, client)));
      for (const attempt of attempts) {
        assert.equal(attempt.status, 'rejected');
        assert.ok(attempt.reason instanceof AuthError && attempt.reason.code === 'id_token_invalid' && attempt.reason.status === 401, String(attempt.reason));
      }
      await refused(hostileSignIn(hostile, client), 'id_token_invalid', 401);
      const windows = Math.ceil((Date.now() - started) / (DEFAULT_JWKS_COOLDOWN_SECONDS * 1000));
      const fetched = hostile.counters.jwks - 1;
      assert.ok(fetched >= 1 && fetched <= windows, `9 forged kids cost ${fetched} JWKS fetches over ${windows} cooldown window(s)`);

      hostile.misbehave(undefined);
      await hostile.rotateSigningKey();
      const beforeRotation = hostile.counters.jwks;
      assert.ok((await hostileSignIn(hostile, client)).idTokenClaims, 'the rotated key is fetched and the sign-in succeeds');
      assert.equal(hostile.counters.jwks, beforeRotation + 1, 'one refetch for the rotation');
      await hostileSignIn(hostile, client);
      assert.equal(hostile.counters.jwks, beforeRotation + 1, 'the next sign-in fetches nothing');
    } finally {
      await hostile.close();
    }
  });
});
