/**
 * The OpenID Foundation's RP conformance tests of the Basic and Config profiles (code flow),
 * reproduced against a hostile OP of our own (./hostile-op.ts): each test is named by its RP test
 * id and runs the whole sign-in through the Express adapter (supertest), asserting what a
 * certified RP must reach. A refusal is an AuthError with its own code, a 4xx answer from the
 * middleware, no session and nothing cached. The README's "Conformance" table is written from
 * the observed outcomes (./report.ts).
 *
 * @see https://openid.net/certification/rp_testing/
 */
import { after, afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';
import request from 'supertest';
import { AuthError, ConfidentialClient, MemoryTokenCacheStore } from '../../src/index.js';
import { auth, authErrors, authSession, requireAuth } from '../../src/express/index.js';
import { startHostileOp, type HostileOp, type Misbehaviour } from './hostile-op.js';
import { ConformanceReport, writeConformanceTable } from './report.js';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const BASE_URL = 'http://localhost:3000';
const REDIRECT_URI = `${BASE_URL}/callback`;
const CLIENT_ID = 'conformance-rp';
const CLIENT_SECRET = 'conformance-rp-secret-0123456789abcdef';
const NOT_APPLICABLE_USERINFO = 'not applicable (authflow does not call userinfo)';

/** The table's row order: the profiles' test ids, then the mix-up case. */
const ORDER = [
  'rp-response_type-code',
  'rp-token_endpoint-client_secret_basic',
  'rp-nonce-invalid',
  'rp-id_token-issuer-mismatch',
  'rp-id_token-aud',
  'rp-id_token-sub',
  'rp-id_token-iat',
  'rp-id_token-sig-none',
  'rp-id_token-bad-sig-rs256',
  'rp-id_token-kid-absent-single-jwks',
  'rp-id_token-kid-absent-multiple-jwks',
  'rp-key-rotation-op-sign-key',
  'rp-discovery-issuer-not-matching-config',
  'rp-userinfo-bad-sub-claim',
  'mix-up-iss',
];

type Agent = ReturnType<typeof request.agent>;

interface Rp {
  op: HostileOp;
  client: ConfidentialClient;
  store: MemoryTokenCacheStore;
  app: Express;
}

interface SignIn {
  agent: Agent;
  callback: request.Response;
}

describe('RP conformance (Basic and Config profiles, code flow) against a hostile OP', () => {
  const report = new ConformanceReport();
  const running: HostileOp[] = [];

  afterEach(async () => {
    await Promise.all(running.splice(0).map((op) => op.close()));
  });
  after(async () => {
    if (!(await writeConformanceTable(README, report.table(ORDER)))) {
      console.warn('conformance: README.md has no conformance markers; the table was not written');
    }
  });

  /** One conformance test: its outcome goes into the README table (`result` replaces "pass" when given). */
  function conformance(testId: string, expected: string, body: () => Promise<void>, result = 'pass'): void {
    it(testId, async () => {
      try {
        await body();
      } catch (err) {
        report.record({ testId, expected, result: 'fail' });
        throw err;
      }
      report.record({ testId, expected, result });
    });
  }

  async function startRp(options: { authMethod?: 'client_secret_basic' | 'client_secret_post'; misbehave?: Misbehaviour } = {}): Promise<Rp> {
    const op = await startHostileOp({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] });
    running.push(op);
    op.misbehave(options.misbehave);
    const store = new MemoryTokenCacheStore();
    const client = new ConfidentialClient({
      clientId: CLIENT_ID,
      authority: op.issuer,
      credential: { secret: CLIENT_SECRET, ...(options.authMethod ? { authMethod: options.authMethod } : {}) },
      cacheStore: store,
      allowInsecureRequests: true,
    });
    const app = express();
    app.use(authSession({ baseUrl: BASE_URL }));
    app.use(auth({ client, baseUrl: BASE_URL, scopes: [] }));
    app.get('/profile', requireAuth(), (req, res) => res.json({ sub: req.user?.sub, name: req.user?.name }));
    app.use(authErrors());
    return { op, client, store, app };
  }

  /** `/login`, then the OP's authorize redirect (followed by hand), then the callback in the same session. */
  async function signIn(rp: Rp): Promise<SignIn> {
    const agent = request.agent(rp.app);
    const login = await agent.get('/login?returnTo=%2Fprofile');
    assert.equal(login.status, 302, login.text);
    const authorize = await fetch(login.headers.location!, { redirect: 'manual' });
    assert.equal(authorize.status, 302, 'the OP redirects straight back');
    const back = new URL(authorize.headers.get('location')!);
    assert.equal(`${back.origin}${back.pathname}`, REDIRECT_URI);
    const callback = await agent.get(`${back.pathname}${back.search}`).set('accept', 'application/json');
    return { agent, callback };
  }

  async function assertSignedIn(rp: Rp, { agent, callback }: SignIn): Promise<void> {
    assert.equal(callback.status, 302, callback.text);
    assert.equal(callback.headers.location, `${BASE_URL}/profile`);
    const profile = await agent.get('/profile');
    assert.equal(profile.status, 200, profile.text);
    assert.deepEqual(profile.body, { sub: 'alice-subject-0001', name: 'Alice' });
    assert.ok(rp.store.size >= 1, 'the tokens are cached');
  }

  async function assertRefused(rp: Rp, { agent, callback }: SignIn, status: number, code: string): Promise<void> {
    assert.equal(callback.status, status, callback.text);
    assert.equal(callback.body.error, code, callback.text);
    const profile = await agent.get('/profile');
    assert.equal(profile.status, 302, 'no session was created');
    assert.match(profile.headers.location ?? '', /^\/login\?/);
    assert.equal(rp.store.size, 0, 'nothing was cached');
  }

  conformance('rp-response_type-code', 'sign-in succeeds', async () => {
    const rp = await startRp();
    await assertSignedIn(rp, await signIn(rp));
    assert.deepEqual(rp.op.clientAuthMethods, ['client_secret_post'], 'the default client authentication');
  });

  conformance('rp-token_endpoint-client_secret_basic', 'sign-in succeeds', async () => {
    const rp = await startRp({ authMethod: 'client_secret_basic' });
    await assertSignedIn(rp, await signIn(rp));
    assert.deepEqual(rp.op.clientAuthMethods, ['client_secret_basic']);
  });

  const refusals: Array<[Misbehaviour, string, number, string]> = [
    ['rp-nonce-invalid', 'ID token with another nonce', 401, 'nonce_mismatch'],
    ['rp-id_token-issuer-mismatch', 'ID token from another issuer', 401, 'id_token_invalid'],
    ['rp-id_token-aud', 'ID token for another audience', 401, 'id_token_invalid'],
    ['rp-id_token-sub', 'ID token without `sub`', 401, 'id_token_invalid'],
    ['rp-id_token-iat', 'ID token without `iat`', 401, 'id_token_invalid'],
    ['rp-id_token-sig-none', 'ID token with `alg: none`', 401, 'id_token_invalid'],
    ['rp-id_token-bad-sig-rs256', 'ID token with a broken RS256 signature', 401, 'id_token_invalid'],
    ['rp-id_token-kid-absent-multiple-jwks', 'ID token without `kid`, JWKS with two keys (refused: the spec allows it)', 401, 'id_token_invalid'],
  ];
  for (const [testId, what, status, code] of refusals) {
    conformance(testId, `${what}: refused, ${status} \`${code}\``, async () => {
      const rp = await startRp({ misbehave: testId });
      const attempt = await signIn(rp);
      await assertRefused(rp, attempt, status, code);
      assert.equal(rp.op.counters.token, 1, 'the code was redeemed once');
    });
  }

  conformance('rp-id_token-kid-absent-single-jwks', 'ID token without `kid`, JWKS with one key: sign-in succeeds', async () => {
    const rp = await startRp({ misbehave: 'rp-id_token-kid-absent-single-jwks' });
    await assertSignedIn(rp, await signIn(rp));
  });

  conformance('rp-key-rotation-op-sign-key', 'OP rotates its signing key between two sign-ins: both succeed, one JWKS refetch', async () => {
    const rp = await startRp();
    await assertSignedIn(rp, await signIn(rp));
    assert.equal(rp.op.counters.jwks, 1, 'the first sign-in fetched the JWKS once');
    await rp.op.rotateSigningKey();
    await assertSignedIn(rp, await signIn(rp));
    assert.equal(rp.op.counters.jwks, 2, 'the second sign-in refetched the JWKS exactly once');
    await assertSignedIn(rp, await signIn(rp));
    assert.equal(rp.op.counters.jwks, 2, 'a third sign-in with the same key fetches nothing');
  });

  conformance('rp-discovery-issuer-not-matching-config', 'discovery names another issuer: the client refuses to start, `issuer_mismatch` (502 at /login)', async () => {
    const rp = await startRp({ misbehave: 'rp-discovery-issuer-not-matching-config' });
    await assert.rejects(rp.client.discover(), (err: unknown) => {
      assert.ok(err instanceof AuthError, String(err));
      assert.equal(err.code, 'issuer_mismatch');
      assert.ok(err.description.includes(`${rp.op.issuer}/another-issuer`), err.description);
      assert.ok(err.description.includes(rp.op.issuer), err.description);
      return true;
    });
    const agent = request.agent(rp.app);
    const login = await agent.get('/login').set('accept', 'application/json');
    assert.equal(login.status, 502, login.text);
    assert.equal(login.body.error, 'issuer_mismatch');
    assert.equal(rp.op.counters.authorize, 0, 'the browser was never sent to that OP');
    assert.equal((await agent.get('/profile')).status, 302, 'no session');
    assert.equal(rp.store.size, 0);
  });

  conformance('rp-userinfo-bad-sub-claim', 'userinfo `sub` differs from the ID token\'s: refused', async () => {
    const rp = await startRp({ misbehave: 'rp-userinfo-bad-sub-claim' });
    await assertSignedIn(rp, await signIn(rp));
    assert.equal(rp.op.counters.userinfo, 0, 'a sign-in makes no userinfo request');
  }, NOT_APPLICABLE_USERINFO);

  conformance('mix-up-iss', 'authorization response `iss` of another OP (RFC 9207 mix-up): refused, 400 `issuer_mismatch`', async () => {
    const rp = await startRp({ misbehave: 'mix-up-iss' });
    await assertRefused(rp, await signIn(rp), 400, 'issuer_mismatch');
    assert.equal(rp.op.counters.token, 0, 'the code was never sent to a token endpoint');
  });
});
