/**
 * The auth-code flow against the dev OP over real HTTP: a full sign-in, then each refusal of
 * acquireTokenByAuthCodeFlow shown by tampering with one thing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { AuthError, ConfidentialClient, type AuthCodeFlow, type Logger } from '../../src/index.js';
import { clientFor, redirectUriOf, refusedWith, startDevOp, tokenRequests, type DevOp } from '../helpers/op.js';

describe('auth-code flow', () => {
  let op: DevOp;
  let client: ConfidentialClient;
  const logLines: string[] = [];
  const logger: Logger = {
    debug: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
    info: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
    warn: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
    error: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  };

  before(async () => {
    op = await startDevOp();
    client = clientFor(op, 'webApp', { logger });
  });
  after(() => op.close());

  /** A flow started for alice and its callback parameters from the OP's redirect. */
  async function startAndSignIn(username = 'alice', options: { consent?: boolean } = {}): Promise<{ flow: AuthCodeFlow; callback: URLSearchParams }> {
    const flow = await client.initiateAuthCodeFlow({ scopes: ['api://orders/Orders.Read'], redirectUri: redirectUriOf(op) });
    const callback = new URL(await op.signIn(flow.authUri, { username, ...options }));
    return { flow, callback: callback.searchParams };
  }


  it('signs alice in: PKCE S256, nonce, client_info; tokens cached in the partition', async () => {
    const flow = await client.initiateAuthCodeFlow({ scopes: ['api://orders/Orders.Read', 'openid', 'OPENID'], redirectUri: redirectUriOf(op) });
    const authUri = new URL(flow.authUri);
    assert.equal(authUri.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authUri.searchParams.get('client_info'), '1');
    assert.equal(authUri.searchParams.get('nonce'), flow.nonce);
    assert.equal(authUri.searchParams.get('code_verifier'), null, 'the verifier never goes to the browser');
    assert.deepEqual(flow.scopes, ['api://orders/Orders.Read', 'openid', 'profile', 'offline_access']);
    assert.equal(flow.issuer, op.issuer);
    assert.equal(JSON.parse(JSON.stringify(flow)).codeVerifier, flow.codeVerifier, 'the flow is plain serialisable data');

    const callback = new URL(await op.signIn(flow.authUri, { username: 'alice' }));
    assert.equal(callback.searchParams.get('iss'), op.issuer);
    const result = await client.acquireTokenByAuthCodeFlow(flow, callback.searchParams, { partition: 'session-alice' });

    const alice = op.users.alice;
    assert.equal(result.fromCache, false);
    assert.equal(result.tokenType, 'Bearer');
    assert.ok(result.expiresOn.getTime() > Date.now() + 3000_000);
    assert.equal(result.account?.homeAccountId, `${alice.oid}.${op.tenantId}`);
    assert.equal(result.account?.tenantId, op.tenantId);
    assert.equal(result.account?.localAccountId, alice.oid);
    assert.equal(result.account?.name, alice.name);
    assert.equal(result.idTokenClaims?.nonce, flow.nonce);
    const at = decodeJwt(result.accessToken);
    assert.equal(at.aud, 'api://orders');
    assert.equal(at.oid, alice.oid);
    assert.ok(result.scopes.includes('api://orders/Orders.Read'));

    const accounts = await client.getAccounts({ partition: 'session-alice' });
    const { tenantProfiles, ...listed } = accounts[0]!;
    assert.equal(accounts.length, 1);
    assert.deepEqual(listed, result.account);
    assert.deepEqual([...tenantProfiles!.values()], [{ tenantId: op.tenantId, localAccountId: alice.oid, name: alice.name, isHomeTenant: true }]);
    op.resetStats();
    const silent = await client.acquireTokenSilent({ scopes: ['api://orders/Orders.Read'], account: result.account!, partition: 'session-alice' });
    assert.equal(silent.accessToken, result.accessToken);
    assert.equal(silent.fromCache, true);
    assert.equal(op.stats().tokenRequests, 0, 'a cache hit makes no request');
  });

  it('refuses a missing flow, or one without state (flow_missing)', async () => {
    const { flow, callback } = await startAndSignIn();
    await assert.rejects(client.acquireTokenByAuthCodeFlow(undefined, callback), refusedWith('flow_missing'));
    await assert.rejects(client.acquireTokenByAuthCodeFlow({ ...flow, state: '' }, callback), refusedWith('flow_missing'));
  });

  it('refuses another state (state_mismatch)', async () => {
    const { flow, callback } = await startAndSignIn();
    callback.set('state', `${flow.state}x`);
    await assert.rejects(client.acquireTokenByAuthCodeFlow(flow, callback), refusedWith('state_mismatch'));
  });

  it('refuses a flow older than its lifetime (flow_expired)', async () => {
    const { flow, callback } = await startAndSignIn();
    await assert.rejects(client.acquireTokenByAuthCodeFlow({ ...flow, createdAt: Date.now() - 11 * 60_000 }, callback), refusedWith('flow_expired'));
  });

  it('redeems a flow once (flow_redeemed)', async () => {
    const { flow, callback } = await startAndSignIn();
    await client.acquireTokenByAuthCodeFlow(flow, callback, { partition: 'replay' });
    await assert.rejects(client.acquireTokenByAuthCodeFlow(flow, callback, { partition: 'replay' }), refusedWith('flow_redeemed'));
  });

  it('passes the OP\'s error through (access_denied when consent is refused)', async () => {
    const { flow, callback } = await startAndSignIn('bob', { consent: false });
    assert.equal(callback.get('error'), 'access_denied');
    await assert.rejects(client.acquireTokenByAuthCodeFlow(flow, callback), (err: unknown) => {
      refusedWith('access_denied')(err);
      assert.ok((err as AuthError).description.length > 0);
      assert.equal((err as AuthError).status, 401);
      return true;
    });
  });

  it('refuses a callback with neither code nor error (code_missing)', async () => {
    const { flow } = await startAndSignIn();
    await assert.rejects(client.acquireTokenByAuthCodeFlow(flow, { state: flow.state, iss: op.issuer }), refusedWith('code_missing'));
  });

  it('refuses an RFC 9207 iss from another OP, or a missing one (issuer_mismatch)', async () => {
    const { flow, callback } = await startAndSignIn();
    callback.set('iss', 'https://evil.example/');
    await assert.rejects(client.acquireTokenByAuthCodeFlow(flow, callback), refusedWith('issuer_mismatch'));
    callback.delete('iss');
    await assert.rejects(client.acquireTokenByAuthCodeFlow(flow, callback), refusedWith('issuer_mismatch'));
  });

  it('refuses an ID token whose nonce belongs to another flow (nonce_mismatch), caching nothing', async () => {
    const other = await client.initiateAuthCodeFlow({ scopes: ['api://orders/Orders.Read'], redirectUri: redirectUriOf(op) });
    const { flow, callback } = await startAndSignIn();
    await assert.rejects(client.acquireTokenByAuthCodeFlow({ ...flow, nonce: other.nonce }, callback, { partition: 'mixed' }), refusedWith('nonce_mismatch'));
    assert.deepEqual(await client.getAccounts({ partition: 'mixed' }), []);
  });

  it('refuses repeated or non-string callback parameters (callback_invalid)', async () => {
    const { flow, callback } = await startAndSignIn();
    await assert.rejects(client.acquireTokenByAuthCodeFlow(flow, { state: [flow.state, 'x'], code: callback.get('code') }), refusedWith('callback_invalid'));
    await assert.rejects(client.acquireTokenByAuthCodeFlow(flow, { state: { x: 1 } }), refusedWith('callback_invalid'));
  });

  it('refuses a bad redirectUri or scopes when starting a flow', async () => {
    await assert.rejects(client.initiateAuthCodeFlow({ scopes: ['a'], redirectUri: 'not a url' }), refusedWith('invalid_argument'));
    await assert.rejects(client.initiateAuthCodeFlow({ scopes: ['a'], redirectUri: 'http://localhost:3000/cb?x=1' }), refusedWith('invalid_argument'));
    await assert.rejects(client.initiateAuthCodeFlow({ scopes: ['two words'], redirectUri: redirectUriOf(op) }), refusedWith('invalid_argument'));
    await assert.rejects(client.initiateAuthCodeFlow({ scopes: 'api://orders/Orders.Read' as unknown as string[], redirectUri: redirectUriOf(op) }), refusedWith('invalid_argument'));
  });

  it('allows only listed tenants (tenant_not_allowed)', async () => {
    const picky = clientFor(op, 'webApp', { allowedTenants: ['00000000-0000-0000-0000-000000000001'] });
    const flow = await picky.initiateAuthCodeFlow({ scopes: ['api://orders/Orders.Read'], redirectUri: redirectUriOf(op) });
    const callback = new URL(await op.signIn(flow.authUri, { username: 'alice' }));
    await assert.rejects(picky.acquireTokenByAuthCodeFlow(flow, callback.searchParams, { partition: 'picky' }), refusedWith('tenant_not_allowed'));
    assert.deepEqual(await picky.getAccounts({ partition: 'picky' }), []);
    const allowed = clientFor(op, 'webApp', { allowedTenants: [op.tenantId.toUpperCase()] });
    const flow2 = await allowed.initiateAuthCodeFlow({ scopes: ['api://orders/Orders.Read'], redirectUri: redirectUriOf(op) });
    const callback2 = new URL(await op.signIn(flow2.authUri, { username: 'alice' }));
    await allowed.acquireTokenByAuthCodeFlow(flow2, callback2.searchParams, { partition: 'allowed' });
  });

  it('authenticates with client_secret_basic as well as client_secret_post', async () => {
    const basic = clientFor(op, 'webApp', { credential: { secret: op.clients.webApp.clientSecret!, authMethod: 'client_secret_basic' } });
    const flow = await basic.initiateAuthCodeFlow({ scopes: ['api://orders/Orders.Read'], redirectUri: redirectUriOf(op) });
    const callback = new URL(await op.signIn(flow.authUri, { username: 'bob' }));
    const result = await basic.acquireTokenByAuthCodeFlow(flow, callback.searchParams, { partition: 'basic' });
    assert.equal(result.account?.localAccountId, op.users.bob.oid);
  });

  it('surfaces a wrong client secret as invalid_client without echoing it', async () => {
    const wrong = clientFor(op, 'webApp', { credential: { secret: 'definitely-wrong-secret' } });
    const flow = await wrong.initiateAuthCodeFlow({ scopes: ['api://orders/Orders.Read'], redirectUri: redirectUriOf(op) });
    const callback = new URL(await op.signIn(flow.authUri, { username: 'alice' }));
    await assert.rejects(wrong.acquireTokenByAuthCodeFlow(flow, callback.searchParams), (err: unknown) => {
      refusedWith('invalid_client')(err);
      assert.doesNotMatch(String((err as Error).message), /definitely-wrong-secret/);
      return true;
    });
  });

  it('never logs a token, code, verifier or secret', async () => {
    const { flow, callback } = await startAndSignIn();
    const result = await client.acquireTokenByAuthCodeFlow(flow, callback, { partition: 'logged' });
    await client.acquireTokenSilent({ scopes: ['api://orders/Orders.Read'], account: result.account!, partition: 'logged', forceRefresh: true });
    const cache = await client.exportCache('logged');
    const secrets = [
      result.accessToken, flow.codeVerifier, callback.get('code')!, op.clients.webApp.clientSecret!,
      ...[...cache.matchAll(/"secret":"([^"]+)"/g)].map((m) => m[1]!),
    ];
    assert.ok(logLines.length >= 3, 'calls to the OP are logged');
    assert.ok(logLines.some((line) => line.includes('"endpoint"') && line.includes('"status"') && line.includes('"durationMs"')));
    for (const line of logLines) {
      for (const secret of secrets) assert.ok(!line.includes(secret), `a log line leaks a secret: ${line.slice(0, 120)}`);
    }
    assert.ok(tokenRequests(op, 'refresh_token') >= 1);
  });
});
