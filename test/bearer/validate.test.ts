/**
 * validateBearer / createBearerValidator against the dev OP (real access tokens, its JWKS and
 * stats) and against a key server of our own (tokens minted claim by claim). Each test says which.
 */
import assert from 'node:assert/strict';
import { createPublicKey, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SignJWT, decodeProtectedHeader, generateKeyPair, type JWTPayload } from 'jose';
import { AuthError } from '../../src/errors.js';
import { createBearerValidator, validateBearer, type BearerOptions } from '../../src/bearer/index.js';
import { clientFor, signIn, startDevOp, type DevOp } from '../helpers/op.js';
import { routeHostTo, startKeyServer, unsignedJwt, type KeyServer } from './keyServer.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const now = (): number => Math.floor(Date.now() / 1000);
const TENANT_A = '11111111-1111-4111-8111-111111111111';
const TENANT_B = '22222222-2222-4222-8222-222222222222';

/** Asserts an AuthError with `code`, its `reason`, and no token material in it. */
async function refused(promise: Promise<unknown>, code: string, reason?: string, token?: string): Promise<AuthError> {
  const err = await promise.then(() => assert.fail('expected a refusal'), (e: unknown) => e);
  assert.ok(err instanceof AuthError, `not an AuthError: ${String(err)}`);
  assert.equal(err.code, code, err.description);
  if (reason) assert.equal(err.reason, reason, err.description);
  if (token) {
    for (const part of token.split('.').filter((p) => p.length > 8)) assert.ok(!err.message.includes(part), 'description leaks the token');
  }
  return err;
}

describe('bearer validation', () => {
  let op: DevOp;
  let own: KeyServer;
  let userToken: string; // alice, aud api://orders, scp Orders.Read (dev OP)
  let appToken: string; // daemon, aud api://inventory, roles Inventory.Read.All (dev OP)
  let devOp: BearerOptions;
  let ownOp: BearerOptions;

  /** Valid claims for our own key server; override one at a time. */
  const claims = (overrides: JWTPayload = {}): JWTPayload => ({
    iss: own.issuer, aud: 'api://orders', sub: 'u1', tid: TENANT_A, scp: 'Orders.Read', iat: now(), nbf: now(), exp: now() + 600, ...overrides,
  });

  before(async () => {
    op = await startDevOp();
    own = await startKeyServer();
    userToken = (await signIn(op, clientFor(op, 'webApp'), { scopes: ['api://orders/Orders.Read'] })).accessToken;
    appToken = (await clientFor(op, 'daemon').acquireTokenForClient({ scopes: ['api://inventory/.default'] })).accessToken;
    devOp = { authority: op.issuer, audience: 'api://orders', allowInsecureRequests: true };
    ownOp = { authority: own.issuer, audience: 'api://orders', allowInsecureRequests: true };
  });
  after(async () => {
    await op?.close();
    await own?.close();
  });

  test('dev OP: a valid user token is accepted and its claims returned', async () => {
    const claims = await validateBearer(userToken, { ...devOp, scopes: ['Orders.Read'] });
    assert.equal(claims.aud, 'api://orders');
    assert.equal(claims.iss, op.issuer);
    assert.equal(claims.oid, op.users.alice.oid);
    assert.equal(claims.tid, op.tenantId);
    assert.equal(claims.scp, 'Orders.Read');
  });

  test('own OP: an expired token is refused (beyond the tolerance)', async () => {
    const validate = createBearerValidator({ ...ownOp, clockToleranceSeconds: 30 });
    assert.ok(await validate(await own.mint(claims({ exp: now() - 20 }))), 'within tolerance: accepted');
    const token = await own.mint(claims({ iat: now() - 700, nbf: now() - 700, exp: now() - 120 }));
    await refused(validate(token), 'token_invalid', 'expired', token);
  });

  test('own OP: a token not yet valid (nbf in the future beyond the tolerance) is refused', async () => {
    const validate = createBearerValidator(ownOp); // tolerance 60 s
    assert.ok(await validate(await own.mint(claims({ nbf: now() + 30 }))), 'within tolerance: accepted');
    await refused(validate(await own.mint(claims({ nbf: now() + 300 }))), 'token_invalid', 'not_yet_valid');
  });

  test('dev OP: a token for another audience is refused', async () => {
    const err = await refused(validateBearer(userToken, { ...devOp, audience: ['api://inventory', 'inventory-api'] }), 'token_invalid', 'wrong_audience', userToken);
    assert.equal(err.status, 401);
  });

  test('own OP: a token from another issuer (signed with the right key) is refused', async () => {
    await refused(validateBearer(await own.mint(claims({ iss: 'https://evil.example.com/oidc' })), ownOp), 'token_invalid', 'wrong_issuer');
  });

  test('own OP as Entra /organizations: the {tenantid} template, tenants allow-listed, v1 issuer only when asked', async () => {
    const entra = await startKeyServer({
      issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0',
      jwksUri: 'https://login.microsoftonline.com/organizations/discovery/v2.0/keys',
    });
    try {
      const options: BearerOptions = {
        authority: 'https://login.microsoftonline.com/organizations/v2.0', audience: 'api://orders',
        allowedTenants: [TENANT_A], fetch: routeHostTo('login.microsoftonline.com', entra),
      };
      const v2 = (tid: string, over: JWTPayload = {}): JWTPayload => ({ ...claims(), iss: `https://login.microsoftonline.com/${tid}/v2.0`, tid, ...over });
      const validate = createBearerValidator(options);
      assert.equal((await validate(await entra.mint(v2(TENANT_A)))).tid, TENANT_A);
      await refused(validate(await entra.mint(v2(TENANT_B))), 'token_invalid', 'tenant_not_allowed');
      await refused(validate(await entra.mint(v2(TENANT_A, { tid: TENANT_B }))), 'token_invalid', 'wrong_issuer'); // iss and tid disagree
      const v1 = await entra.mint(v2(TENANT_A, { iss: `https://sts.windows.net/${TENANT_A}/` }));
      await refused(validate(v1), 'token_invalid', 'wrong_issuer');
      assert.ok(await createBearerValidator({ ...options, acceptV1Issuer: true })(v1));
    } finally {
      await entra.close();
    }
  });

  test('own OP as an Entra tenant named by domain: its GUID issuer is learnt from discovery; logs never carry the token', async () => {
    const entra = await startKeyServer({
      issuer: `https://login.microsoftonline.com/${TENANT_A}/v2.0`,
      jwksUri: `https://login.microsoftonline.com/${TENANT_A}/discovery/v2.0/keys`,
    });
    const lines: string[] = [];
    const record = (obj: Record<string, unknown>, msg?: string): void => { lines.push(`${msg ?? ''} ${JSON.stringify(obj)}`); };
    try {
      const validate = createBearerValidator({
        authority: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0', audience: 'api://orders', acceptV1Issuer: true,
        fetch: routeHostTo('login.microsoftonline.com', entra), logger: { debug: record, info: record, warn: record, error: record },
      });
      const v2 = await entra.mint({ ...claims(), iss: `https://login.microsoftonline.com/${TENANT_A}/v2.0` });
      assert.equal((await validate(v2)).tid, TENANT_A);
      assert.ok(await validate(await entra.mint({ ...claims(), iss: `https://sts.windows.net/${TENANT_A}/` })));
      const other = await entra.mint({ ...claims(), iss: `https://login.microsoftonline.com/${TENANT_B}/v2.0` });
      await refused(validate(other), 'token_invalid', 'wrong_issuer', other);
      assert.ok(lines.some((l) => l.includes('wrong_issuer')), 'refusals are logged with their reason');
      for (const token of [v2, other]) {
        for (const part of token.split('.')) assert.ok(!lines.some((l) => l.includes(part)), 'a log line carries the token');
      }
    } finally {
      await entra.close();
    }
  });

  test('dev OP: a user token without the required scope is refused with insufficient_scope (403)', async () => {
    const err = await refused(validateBearer(userToken, { ...devOp, scopes: ['Orders.Read', 'Orders.Write'] }), 'insufficient_scope', 'missing_scope', userToken);
    assert.equal(err.status, 403);
    assert.deepEqual(err.scopes, ['Orders.Read', 'Orders.Write']);
    assert.match(err.description, /"Orders\.Write"/);
    assert.doesNotMatch(err.description, /"Orders\.Read"/); // only what is missing
  });

  test('dev OP: an app token with the required role is accepted, without it refused; scopes OR roles', async () => {
    const inventory: BearerOptions = { ...devOp, audience: 'api://inventory' };
    assert.deepEqual((await validateBearer(appToken, { ...inventory, roles: ['Inventory.Read.All'] })).roles, ['Inventory.Read.All']);
    await refused(validateBearer(appToken, { ...inventory, roles: ['Inventory.Write.All'] }), 'insufficient_scope', 'missing_role');
    // both given: the app token passes on its roles, the user token on its scopes
    assert.ok(await validateBearer(appToken, { ...inventory, scopes: ['Inventory.Read'], roles: ['Inventory.Read.All'] }));
    assert.ok(await validateBearer(userToken, { ...devOp, scopes: ['Orders.Read'], roles: ['Orders.Read.All'] }));
    await refused(validateBearer(appToken, { ...inventory, scopes: ['Inventory.Read'] }), 'insufficient_scope', 'missing_scope');
  });

  test('dev OP: alg "none" is refused (with or without a signature segment)', async () => {
    const { kid } = decodeProtectedHeader(userToken);
    const payload = JSON.parse(Buffer.from(userToken.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    await refused(validateBearer(unsignedJwt({ alg: 'none', typ: 'JWT' }, payload), devOp), 'token_invalid', 'algorithm_not_allowed');
    await refused(validateBearer(unsignedJwt({ alg: 'none', kid }, payload, 'c2ln'), devOp), 'token_invalid', 'algorithm_not_allowed');
    await refused(validateBearer(unsignedJwt({ alg: 'RS256', kid }, payload), devOp), 'token_invalid', 'signature_invalid');
  });

  test('dev OP: HS256 signed with the OP\'s public key as the HMAC secret is refused', async () => {
    const jwks = await (await fetch(`${op.issuer}/discovery/v2.0/keys`)).json() as { keys: Array<Record<string, string>> };
    const { kid } = decodeProtectedHeader(userToken);
    const jwk = jwks.keys.find((k) => k['kid'] === kid)!;
    const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const payload = JSON.parse(Buffer.from(userToken.split('.')[1]!, 'base64url').toString()) as JWTPayload;
    for (const secret of [Buffer.from(pem), Buffer.from(JSON.stringify(jwk))]) {
      const forged = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256', kid, typ: 'JWT' }).sign(secret);
      await refused(validateBearer(forged, devOp), 'token_invalid', 'algorithm_not_allowed');
    }
  });

  test('dev OP: a token whose kid is unknown is refused', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const payload = JSON.parse(Buffer.from(userToken.split('.')[1]!, 'base64url').toString()) as JWTPayload;
    const forged = await new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: 'not-a-key-of-the-op', typ: 'JWT' }).sign(privateKey);
    await refused(validateBearer(forged, devOp), 'token_invalid', 'unknown_key', forged);
  });

  test('dev OP: a tampered payload (one claim flipped, signature kept) is refused', async () => {
    const [h, p, s] = userToken.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    payload['scp'] = 'Orders.Read Orders.Write';
    const tampered = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    await refused(validateBearer(tampered, { ...devOp, scopes: ['Orders.Write'] }), 'token_invalid', 'signature_invalid', tampered);
  });

  test('dev OP: a token signed by another key under the OP\'s real kid is refused', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const { kid } = decodeProtectedHeader(userToken);
    const payload = JSON.parse(Buffer.from(userToken.split('.')[1]!, 'base64url').toString()) as JWTPayload;
    const forged = await new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: kid!, typ: 'JWT' }).sign(privateKey);
    await refused(validateBearer(forged, devOp), 'token_invalid', 'signature_invalid', forged);
  });

  test('own OP: malformed strings are refused before any network or jose call', async () => {
    const validate = createBearerValidator({ ...ownOp, clockToleranceSeconds: 59 });
    const before = { ...own.stats };
    const valid = await own.mint(claims());
    const [h, p, s] = valid.split('.') as [string, string, string];
    const cases: Array<[unknown, string]> = [
      ['', 'malformed'],
      [undefined, 'malformed'],
      [42, 'malformed'],
      [`${h}.${p}`, 'malformed'],
      [`${h}.${p}.${s}.${s}`, 'malformed'],
      [`${Buffer.from(JSON.stringify({ alg: 'RS256', pad: 'x'.repeat(17 * 1024) })).toString('base64url')}.${p}.${s}`, 'too_large'],
      [`${h}.${p}!*.${s}`, 'malformed'],
      [`${h}.${p}.${s}=`, 'malformed'],
      [`e30.${p}.${s}`, 'algorithm_not_allowed'], // header {}
      [`bm90IGpzb24.${p}.${s}`, 'malformed'], // header "not json"
      [`${Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'id_token+jwt' })).toString('base64url')}.${p}.${s}`, 'wrong_type'],
    ];
    // Twice: headers are decoded once and remembered, yet every check still runs on the second pass.
    for (let pass = 0; pass < 2; pass++) {
      for (const [token, reason] of cases) await refused(validate(token as string), 'token_invalid', reason);
    }
    assert.deepEqual(own.stats, before, 'no discovery or JWKS request for malformed input');
    assert.ok(await validate(valid));
    assert.ok(await validate(await own.mint(claims(), { header: { typ: 'at+jwt' } })));
    // The header just accepted, remembered, is refused by a validator that accepts other algorithms.
    await refused(createBearerValidator({ ...ownOp, algorithms: ['ES256'] })(valid), 'token_invalid', 'algorithm_not_allowed');
  });

  test('own OP: a required scope or role must be a whole value: a prefix, a suffix or a longer name is not it', async () => {
    const validate = createBearerValidator({ ...ownOp, scopes: ['Orders.Read'], verifiedTokenCache: false });
    for (const scp of ['Orders.ReadWrite', 'MyOrders.Read', 'Orders', 'Orders.Read.All', 'orders.read', '']) {
      await refused(validate(await own.mint(claims({ scp }))), 'insufficient_scope', 'missing_scope');
    }
    for (const scp of ['Orders.Read', 'Orders.Write Orders.Read', 'Orders.Read  Orders.Write', 'Orders.ReadWrite Orders.Read', ' Orders.Read ']) {
      assert.equal((await validate(await own.mint(claims({ scp })))).scp, scp, scp);
    }
    assert.ok(await validate(await own.mint(claims({ scp: undefined, scope: 'openid Orders.Read' }))), 'RFC 9068 scope');
    assert.ok(await validate(await own.mint(claims({ scp: ['Orders.Write', 'Orders.Read'] as never }))), 'an array (Okta)');
    await refused(validate(await own.mint(claims({ scp: ['Orders.ReadWrite'] as never }))), 'insufficient_scope', 'missing_scope');
    const roles = createBearerValidator({ ...ownOp, roles: ['Orders.Read.All'], verifiedTokenCache: false });
    await refused(roles(await own.mint(claims({ roles: ['Orders.Read.AllX', 'Orders.Read'] }))), 'insufficient_scope', 'missing_role');
    await refused(roles(await own.mint(claims({ roles: 'Orders.Read.AllX Orders.Read' as never }))), 'insufficient_scope', 'missing_role');
    assert.ok(await roles(await own.mint(claims({ roles: ['Orders.Read.All'] }))));
  });

  test('dev OP: validateBearer twice fetches discovery and the JWKS once', async () => {
    const options: BearerOptions = { ...devOp, clockToleranceSeconds: 61 }; // options no other test uses
    const before = op.stats();
    await validateBearer(userToken, options);
    await validateBearer(userToken, { ...options }); // an equal options object, not the same one
    await Promise.all([validateBearer(userToken, options), validateBearer(userToken, options)]);
    const after = op.stats();
    assert.equal(after.discovery - before.discovery, 1);
    assert.equal(after.jwks - before.jwks, 1);
  });

  test('dev OP: a flood of 1,000 tokens with random kids costs at most one JWKS download per cooldown', async () => {
    const payload = JSON.parse(Buffer.from(userToken.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    const flood = (): string[] => Array.from({ length: 1000 }, () =>
      unsignedJwt({ alg: 'RS256', kid: randomBytes(12).toString('base64url'), typ: 'JWT' }, payload, randomBytes(256).toString('base64url')));
    const allUnknownKey = (results: PromiseSettledResult<unknown>[]): boolean =>
      results.every((r) => r.status === 'rejected' && (r.reason as AuthError).code === 'token_invalid' && (r.reason as AuthError).reason === 'unknown_key');
    const downloads = (since: number): number => op.stats().jwks - since;

    // default cooldown (30 s): after the first download, 1,000 concurrent then 1,000 sequential forgeries
    const validate = createBearerValidator({ ...devOp, clockToleranceSeconds: 62 });
    let start = op.stats().jwks;
    await validate(userToken);
    assert.equal(downloads(start), 1);
    assert.ok(allUnknownKey(await Promise.allSettled(flood().map((t) => validate(t)))));
    const sequential: PromiseSettledResult<unknown>[] = [];
    for (const t of flood()) sequential.push(...await Promise.allSettled([validate(t)]));
    assert.ok(allUnknownKey(sequential));
    const withinCooldown = downloads(start) - 1;

    // cooldown elapsed: the next 1,000 concurrent forgeries share exactly one download
    const short = createBearerValidator({ ...devOp, jwksCooldownSeconds: 1 });
    start = op.stats().jwks;
    await short(userToken);
    await sleep(1100);
    assert.ok(allUnknownKey(await Promise.allSettled(flood().map((t) => short(t)))));
    const afterCooldown = downloads(start) - 1;
    console.log(`kid flood: ${withinCooldown} extra JWKS downloads for 2,000 forged kids within the cooldown, ${afterCooldown} for 1,000 after it`);
    assert.equal(withinCooldown, 0);
    assert.equal(afterCooldown, 1);
  });

  test('dev OP: after rotateKeys, a token from the new key validates after one JWKS refetch; old tokens still do', async () => {
    const validate = createBearerValidator({ ...devOp, audience: ['api://orders', 'api://inventory'], jwksCooldownSeconds: 1 });
    const start = op.stats().jwks;
    await validate(userToken);
    await op.rotateKeys();
    const fresh = (await clientFor(op, 'daemon').acquireTokenForClient({ scopes: ['api://inventory/.default'] })).accessToken;
    assert.notEqual(decodeProtectedHeader(fresh).kid, decodeProtectedHeader(userToken).kid);
    await sleep(1100); // past the cooldown of the first download (30 s by default; Entra announces keys well ahead)
    assert.deepEqual((await validate(fresh)).roles, ['Inventory.Read.All']);
    assert.ok(await validate(userToken));
    assert.ok(await validate(appToken));
    assert.equal(op.stats().jwks - start, 2);
  });

  test('OP unreachable -> op_unreachable (502), JWKS too slow -> op_timeout (504), not 401', async () => {
    const down = await refused(validateBearer(userToken, { authority: 'http://127.0.0.1:9/nothing', audience: 'x', allowInsecureRequests: true }), 'op_unreachable');
    assert.equal(down.status, 502);
    op.faults.set({ jwks: 'slow', slowMs: 1500 });
    try {
      const slow = await refused(createBearerValidator({ ...devOp, timeoutMs: 300 })(userToken), 'op_timeout');
      assert.equal(slow.status, 504);
    } finally {
      op.faults.clear();
    }
    op.faults.set({ jwks: 'down' });
    try {
      const validate = createBearerValidator({ ...devOp, timeoutMs: 302 });
      const start = op.stats().jwks;
      for (let i = 0; i < 50; i++) await refused(validate(userToken), 'op_unreachable');
      assert.equal(op.stats().jwks - start, 1, 'a failed JWKS request is not repeated for 2 s');
    } finally {
      op.faults.clear();
    }
    op.faults.set({ jwks: 500 });
    try {
      await refused(createBearerValidator({ ...devOp, timeoutMs: 301 })(userToken), 'op_bad_response');
    } finally {
      op.faults.clear();
    }
  });

  test('own OP: a discovery document naming another issuer is refused (issuer_mismatch)', async () => {
    const liar = await startKeyServer({ issuer: 'https://login.example.com/other' });
    try {
      await refused(validateBearer('a.b.c', { authority: `${liar.base}/oidc`, audience: 'x', allowInsecureRequests: true }), 'token_invalid');
      const err = await refused(validateBearer(await liar.mint(claims()), { authority: `${liar.base}/oidc`, audience: 'x', allowInsecureRequests: true }), 'issuer_mismatch');
      assert.equal(err.status, 502);
    } finally {
      await liar.close();
    }
  });
});
