// The development OP (examples/dev-op) over real HTTP, driven with openid-client v6 and fetch.
import { strict as assert } from 'node:assert';
import { createHash, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createRemoteJWKSet, decodeJwt, importPKCS8, jwtVerify, type JWTPayload } from 'jose';
import * as oidc from 'openid-client';
import { startDevOp, type DevOp } from '../examples/dev-op/index.js';

const OBO = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code';
const insecure = { execute: [oidc.allowInsecureRequests] };
const REDIRECT = 'http://localhost:3000/callback';

let op: DevOp;
let jwks: ReturnType<typeof createRemoteJWKSet>;
let rp: Server;
const logoutTokens: string[] = [];

async function configFor(name: 'webApp' | 'orders' | 'inventory' | 'daemon', auth: 'post' | 'basic' = 'post'): Promise<oidc.Configuration> {
  const c = op.clients[name];
  const secret = c.clientSecret ?? '';
  return oidc.discovery(new URL(op.issuer), c.clientId, secret,
    auth === 'post' ? oidc.ClientSecretPost(secret) : oidc.ClientSecretBasic(secret), insecure);
}

async function verifyAt(token: string): Promise<JWTPayload> {
  return (await jwtVerify(token, jwks, { issuer: op.issuer })).payload;
}

/** Full auth code + PKCE sign-in for the web app; returns the token response. */
async function signInWebApp(username: string, scope: string, extra: Record<string, string> = {}, jar?: Map<string, string>) {
  const config = await configFor('webApp', 'basic');
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const authUrl = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope, state, nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
  });
  const callback = await op.signIn(authUrl.href, { username, ...(jar ? { jar } : {}) });
  const tokens = await oidc.authorizationCodeGrant(config, new URL(callback), {
    pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce,
  });
  return { config, callback, tokens, nonce, state };
}

async function verifyLogoutToken(token: string): Promise<JWTPayload> {
  return (await jwtVerify(token, jwks, { issuer: op.issuer, audience: op.clients.webApp.clientId })).payload;
}

async function postToken(body: Record<string, string>): Promise<Response> {
  return fetch(`${op.issuer}/oauth2/v2.0/token`, { method: 'POST', body: new URLSearchParams(body) });
}

describe('dev OP (Entra v2 dialect)', () => {
  before(async () => {
    // a stand-in RP receiving back-channel logout tokens
    rp = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString(); });
      req.on('end', () => { logoutTokens.push(new URLSearchParams(body).get('logout_token') ?? ''); res.end(); });
    });
    await new Promise<void>((r) => rp.listen(0, '127.0.0.1', r));
    const rpPort = (rp.address() as AddressInfo).port;
    op = await startDevOp({ webApp: { backchannelLogoutUri: `http://127.0.0.1:${rpPort}/backchannel-logout` } });
    jwks = createRemoteJWKSet(new URL(`${op.issuer}/discovery/v2.0/keys`), { cooldownDuration: 0 }); // keys rotate in a test
  });
  after(async () => { await op.close(); await new Promise((r) => rp.close(r)); });

  test('auth code + PKCE for alice: ID token, JWT access token, client_info, refresh token, Entra scope', async () => {
    const { callback, tokens, nonce, state } = await signInWebApp('alice', 'openid profile offline_access api://orders/Orders.Read', { client_info: '1' });
    const cb = new URL(callback);
    assert.equal(cb.searchParams.get('state'), state);
    assert.equal(cb.searchParams.get('iss'), op.issuer);
    assert.ok(cb.searchParams.get('code'));

    const id = tokens.claims();
    if (!id) throw new Error('no ID token');
    const alice = op.users.alice;
    assert.equal(id.nonce, nonce);
    assert.equal(id['tid'], op.tenantId);
    assert.equal(id['oid'], alice.oid);
    assert.equal(id['preferred_username'], 'alice');
    assert.equal(id['name'], alice.name);

    const at = await verifyAt(tokens.access_token);
    assert.equal(at.aud, 'api://orders');
    assert.equal(at['scp'], 'Orders.Read');
    assert.equal(at['tid'], op.tenantId);
    assert.equal(at['oid'], alice.oid);
    assert.equal(at['azp'], op.clients.webApp.clientId);
    assert.equal(at['ver'], '2.0');
    assert.equal(at['scope'], undefined);

    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal(tokens['ext_expires_in'], tokens.expires_in);
    assert.ok(tokens.refresh_token);
    assert.deepEqual(JSON.parse(Buffer.from(String(tokens['client_info']), 'base64url').toString()), { uid: alice.oid, utid: op.tenantId });
    assert.deepEqual(new Set(tokens.scope?.split(' ')), new Set(['api://orders/Orders.Read', 'openid', 'profile', 'offline_access']));
  });

  test('authorization request without PKCE is refused', async () => {
    const config = await configFor('webApp');
    const authUrl = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid api://orders/Orders.Read', state: 'xyz' });
    const final = new URL(await op.signIn(authUrl.href, { username: 'alice' }));
    assert.equal(final.searchParams.get('error'), 'invalid_request');
    assert.equal(final.searchParams.get('code'), null);
  });

  test('refresh: rotation, reuse refused, multi-resource, never-consented scope does not burn the token', async () => {
    const { config, tokens } = await signInWebApp('alice', 'openid profile offline_access api://orders/Orders.Read api://inventory/Inventory.Read');
    const rt1 = tokens.refresh_token ?? '';
    assert.ok(rt1);
    const r2 = await oidc.refreshTokenGrant(config, rt1, { scope: 'api://orders/Orders.Read openid profile offline_access' });
    assert.ok(r2.refresh_token);
    assert.notEqual(r2.refresh_token, rt1);
    assert.equal((await verifyAt(r2.access_token)).aud, 'api://orders');

    // reuse of the rotated token: invalid_grant
    await assert.rejects(oidc.refreshTokenGrant(config, rt1), (err: unknown) => (err as { error?: string }).error === 'invalid_grant');

    // A fresh sign-in (the reuse above revoked the whole grant, as it should).
    const s2 = await signInWebApp('alice', 'openid profile offline_access api://orders/Orders.Read api://inventory/Inventory.Read');
    const inv = await oidc.refreshTokenGrant(s2.config, s2.tokens.refresh_token ?? '', { scope: 'api://inventory/Inventory.Read openid offline_access' });
    const invAt = await verifyAt(inv.access_token);
    assert.equal(invAt.aud, 'api://inventory');
    assert.equal(invAt['scp'], 'Inventory.Read');
    assert.ok(inv.scope?.split(' ').includes('api://inventory/Inventory.Read'));

    // a sign-in with orders only; inventory was never consented
    const s3 = await signInWebApp('bob', 'openid offline_access api://orders/Orders.Read');
    const rt = s3.tokens.refresh_token ?? '';
    await assert.rejects(oidc.refreshTokenGrant(s3.config, rt, { scope: 'api://inventory/Inventory.Read' }), (err: unknown) => {
      const e = err as { error?: string; error_description?: string; cause?: Record<string, unknown> };
      assert.equal(e.error, 'invalid_grant');
      assert.match(String(e.error_description), /^AADSTS65001/);
      assert.equal(e.cause?.['suberror'], 'consent_required');
      return true;
    });
    const still = await oidc.refreshTokenGrant(s3.config, rt, { scope: 'api://orders/Orders.Read' });
    assert.equal((await verifyAt(still.access_token))['scp'], 'Orders.Read');
    // .default = what was consented for that API (Orders.Read), not every scope it has
    const all = await oidc.refreshTokenGrant(s3.config, still.refresh_token ?? '', { scope: 'api://orders/.default' });
    assert.equal((await verifyAt(all.access_token))['scp'], 'Orders.Read');
    // another scope of a consented API is not consented either (see test/examples/dev-op-devloop.test.ts)
    await assert.rejects(oidc.refreshTokenGrant(s3.config, all.refresh_token ?? '', { scope: 'api://orders/Orders.Write' }),
      (err: unknown) => (err as { cause?: Record<string, unknown> }).cause?.['suberror'] === 'consent_required');
  });

  test('On-Behalf-Of: orders (secret) and ordersCert (private_key_jwt); audience mismatch refused', async () => {
    const { tokens } = await signInWebApp('alice', 'openid offline_access api://orders/Orders.Read');
    const ordersAt = tokens.access_token;
    const params = { assertion: ordersAt, requested_token_use: 'on_behalf_of', scope: 'api://inventory/Inventory.Read offline_access' };

    const orders = await configFor('orders');
    const obo = await oidc.genericGrantRequest(orders, OBO, params);
    const claims = await verifyAt(obo.access_token);
    assert.equal(claims.aud, 'api://inventory');
    assert.equal(claims['oid'], op.users.alice.oid);
    assert.equal(claims['azp'], op.clients.orders.clientId);
    assert.equal(claims['scp'], 'Inventory.Read');
    assert.ok(obo.refresh_token);
    const refreshed = await oidc.refreshTokenGrant(orders, obo.refresh_token ?? '');
    assert.equal((await verifyAt(refreshed.access_token)).aud, 'api://inventory');

    const certClient = op.clients.ordersCert;
    const key = await importPKCS8(certClient.privateKey ?? '', 'PS256');
    const kid = createHash('sha256').update(new X509Certificate(certClient.certificate ?? '').raw).digest('base64url');
    const certConfig = await oidc.discovery(new URL(op.issuer), certClient.clientId, undefined,
      oidc.PrivateKeyJwt({ key, kid }), insecure);
    const obo2 = await oidc.genericGrantRequest(certConfig, OBO, { ...params, scope: 'api://inventory/.default' });
    const c2 = await verifyAt(obo2.access_token);
    assert.equal(c2['azp'], certClient.clientId);
    assert.equal(c2['scp'], 'Inventory.Read');

    const isInvalidGrant = (err: unknown): boolean => {
      assert.equal((err as { error?: string }).error, 'invalid_grant');
      assert.match(String((err as { error_description?: string }).error_description), /AADSTS50013/);
      return true;
    };
    // an inventory token presented to orders
    await assert.rejects(oidc.genericGrantRequest(orders, OBO, { ...params, assertion: obo.access_token }), isInvalidGrant);
    // inventory-api owns api://inventory and webApp owns no API: an orders token is not theirs
    const inventory = await configFor('inventory');
    await assert.rejects(oidc.genericGrantRequest(inventory, OBO, params), isInvalidGrant);
    const webApp = await configFor('webApp');
    await assert.rejects(oidc.genericGrantRequest(webApp, OBO, params), isInvalidGrant);
  });

  test('client credentials for the daemon: roles, aud api://inventory', async () => {
    const daemon = await configFor('daemon');
    const t = await oidc.clientCredentialsGrant(daemon, { scope: 'api://inventory/.default' });
    const claims = await verifyAt(t.access_token);
    assert.equal(claims.aud, 'api://inventory');
    assert.deepEqual(claims['roles'], ['Inventory.Read.All']);
    assert.equal(claims['scp'], undefined);
    assert.equal(claims['azp'], op.clients.daemon.clientId);
    assert.ok(claims['oid']);
    assert.equal(claims.sub, claims['oid']);
  });

  test('device code flow for the cli: bob signs in on another device', async () => {
    const cli = await oidc.discovery(new URL(op.issuer), op.clients.cli.clientId, undefined, oidc.None(), insecure);
    const device = await oidc.initiateDeviceAuthorization(cli, { scope: 'openid profile offline_access api://orders/Orders.Read' });
    assert.ok(device.verification_uri_complete);
    const final = await op.signIn(device.verification_uri_complete ?? '', { username: 'bob' });
    assert.ok(final.startsWith(op.url));
    const t = await oidc.genericGrantRequest(cli, DEVICE, { device_code: device.device_code });
    assert.equal(t.claims()?.['preferred_username'], 'bob');
    const at = await verifyAt(t.access_token);
    assert.equal(at['oid'], op.users.bob.oid);
    assert.equal(at.aud, 'api://orders');
    assert.ok(t.refresh_token);
  });

  test('faults on the token endpoint and JWKS; stats count requests by grant type', async () => {
    const daemon = op.clients.daemon;
    const cc = { grant_type: 'client_credentials', client_id: daemon.clientId, client_secret: daemon.clientSecret ?? '', scope: 'api://inventory/.default' };
    op.resetStats();
    try {
      op.faults.set({ tokenEndpoint: 500 });
      const r500 = await postToken(cc);
      assert.equal(r500.status, 500);
      assert.equal((await r500.json() as { error: string }).error, 'server_error');

      op.faults.set({ tokenEndpoint: 'garbage' });
      const rg = await postToken(cc);
      assert.equal(rg.status, 200);
      await assert.rejects(rg.json());

      op.faults.set({ tokenEndpoint: 'down' });
      await assert.rejects(postToken(cc));

      op.faults.set({ tokenEndpoint: 'slow', slowMs: 200 });
      const t0 = Date.now();
      const rs = await postToken(cc);
      assert.equal(rs.status, 200);
      assert.ok(Date.now() - t0 >= 190);

      op.faults.set({ jwks: 500 });
      assert.equal((await fetch(`${op.issuer}/discovery/v2.0/keys`)).status, 500);
    } finally {
      op.faults.clear();
    }
    const ok = await postToken(cc);
    assert.equal(ok.status, 200);
    assert.ok((await ok.json() as { access_token?: string }).access_token);
    assert.equal((await fetch(`${op.issuer}/discovery/v2.0/keys`)).status, 200);

    const s = op.stats();
    assert.equal(s.token['client_credentials'], 5);
    assert.equal(s.token['refresh_token'], 0);
    assert.equal(s.tokenRequests, 5);
    assert.equal(s.jwks, 2);

    op.resetStats();
    const { config, tokens } = await signInWebApp('alice', 'openid offline_access api://orders/Orders.Read');
    await oidc.refreshTokenGrant(config, tokens.refresh_token ?? '');
    const s2 = op.stats();
    assert.equal(s2.token['authorization_code'], 1);
    assert.equal(s2.token['refresh_token'], 1);
    assert.equal(s2.tokenRequests, 2);
    assert.equal(s2.authorization, 1);
    assert.ok(s2.discovery >= 1);
  });

  test('rotateKeys: new kid for new tokens, old tokens still verify', async () => {
    const daemon = await configFor('daemon');
    const before = await oidc.clientCredentialsGrant(daemon, { scope: 'api://inventory/.default' });
    await op.rotateKeys();
    const afterRotation = await oidc.clientCredentialsGrant(daemon, { scope: 'api://inventory/.default' });
    const kid = (t: string): unknown => JSON.parse(Buffer.from(t.split('.')[0] ?? '', 'base64url').toString())['kid'];
    assert.notEqual(kid(before.access_token), kid(afterRotation.access_token));
    const fresh = createRemoteJWKSet(new URL(`${op.issuer}/discovery/v2.0/keys`));
    await jwtVerify(before.access_token, fresh, { issuer: op.issuer });
    await jwtVerify(afterRotation.access_token, fresh, { issuer: op.issuer });
    assert.equal(decodeJwt(afterRotation.access_token).aud, 'api://inventory');
  });

  test('consent denied -> access_denied; RP-initiated logout redirects to the post-logout URI', async () => {
    const config = await configFor('webApp');
    const verifier = oidc.randomPKCECodeVerifier();
    const authUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid api://orders/Orders.Read', state: 's1',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const denied = new URL(await op.signIn(authUrl.href, { username: 'alice', consent: false }));
    assert.equal(denied.searchParams.get('error'), 'access_denied');

    const jar = new Map<string, string>();
    const { tokens } = await signInWebApp('alice', 'openid offline_access api://orders/Orders.Read', {}, jar);
    const sid = tokens.claims()?.['sid'];
    assert.ok(sid);
    const endSession = oidc.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token ?? '', post_logout_redirect_uri: 'http://localhost:3000/', state: 'bye',
    });
    const final = new URL(await op.signOut(endSession.href, { jar }));
    assert.equal(`${final.origin}${final.pathname}`, 'http://localhost:3000/');
    assert.equal(final.searchParams.get('state'), 'bye');
    assert.equal(op.stats().endSession >= 1, true);
    // back-channel logout reached the RP with the session id
    for (let i = 0; i < 50 && logoutTokens.length === 0; i += 1) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(op.lastErrors().filter((e) => e.event === 'backchannel.error'), []);
    const logoutToken = await verifyLogoutToken(logoutTokens[0] ?? '');
    assert.equal(logoutToken['sid'], sid);
    assert.equal(logoutToken.sub, op.users.alice.oid);
  });
});
