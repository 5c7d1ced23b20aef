/**
 * The dev OP in the local dev loop: development secrets that survive restarts but are refused
 * from anywhere but loopback, consent that a silent refresh cannot widen (incremental consent as
 * Entra does it), and a device-code page that says what to type. Real OP, real HTTP.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeJwt } from 'jose';
import { AuthError } from '../../src/index.js';
import { DEV_SECRETS, startDevOp, type DevOp } from '../../examples/dev-op/index.js';
import { isLoopbackAddress } from '../../examples/dev-op/secrets.js';
import { cachedRefreshToken, clientFor, expireAccessTokens, signIn } from '../helpers/op.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** A daemon client-credentials request to the OP at `base` (issuer URL with another host), raw. */
async function clientCredentials(op: DevOp, host: string, secret: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const tokenUrl = new URL(`${op.issuer}/oauth2/v2.0/token`);
  tokenUrl.hostname = host;
  const answer = await fetch(tokenUrl, {
    method: 'POST',
    headers,
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: op.clients.daemon.clientId, client_secret: secret, scope: 'api://inventory/.default' }),
  });
  return { status: answer.status, body: await answer.json() as Record<string, unknown> };
}

describe('dev OP: development client secrets', () => {
  it('are the same at every start, and the README documents each of them', async () => {
    const first = await startDevOp();
    const firstSecrets = Object.fromEntries(Object.entries(first.clients).map(([name, c]) => [name, c.clientSecret]));
    await first.close();
    const second = await startDevOp();
    try {
      for (const [name, c] of Object.entries(second.clients)) assert.equal(c.clientSecret, firstSecrets[name], name);
      assert.equal(second.clients.webApp.clientSecret, DEV_SECRETS.webApp);
      for (const name of ['webApp', 'orders', 'inventory', 'daemon'] as const) {
        assert.ok(README.includes(DEV_SECRETS[name]), `README names ${name}'s development secret`);
      }
    } finally {
      await second.close();
    }
  });

  // Tests send traffic to loopback only, so a peer on another machine is played by a loopback
  // caller relaying for one (a Forwarded header), and the peer-address rule gets its own table.
  it('loopback peers are 127.0.0.0/8 and ::1 (also IPv4-mapped); nothing else is', () => {
    const table: Array<[string | undefined, boolean]> = [
      ['127.0.0.1', true], ['127.1.2.3', true], ['::1', true], ['::ffff:127.0.0.1', true],
      ['192.0.2.2', false], ['10.0.0.1', false], ['::ffff:192.0.2.2', false], ['fe80::1', false],
      ['::', false], ['0.0.0.0', false], ['128.0.0.1', false], ['', false], [undefined, false],
    ];
    for (const [address, loopback] of table) assert.equal(isLoopbackAddress(address), loopback, String(address));
  });

  it('are accepted from loopback only: a caller relaying for another machine is refused', async () => {
    const op = await startDevOp({ host: '0.0.0.0' });
    try {
      const secret = op.clients.daemon.clientSecret!;
      assert.equal((await clientCredentials(op, '127.0.0.1', secret)).status, 200, 'loopback peer');
      const relays: Array<Record<string, string>> = [{ 'x-forwarded-for': '203.0.113.9' }, { forwarded: 'for=203.0.113.9' }];
      for (const header of relays) {
        const relayed = await clientCredentials(op, '127.0.0.1', secret, header);
        assert.equal(relayed.status, 401, JSON.stringify(header));
        assert.equal(relayed.body['error'], 'invalid_client');
        assert.match(String(relayed.body['error_description']), /^AADSTS7000215: .*loopback only.*DEV_OP_CLIENT_SECRET/);
      }
      // A wrong secret stays the ordinary refusal.
      assert.equal((await clientCredentials(op, '127.0.0.1', 'not-the-secret')).body['error'], 'invalid_client');
    } finally {
      await op.close();
    }
  });

  it('a secret of your own (clientSecret, DEV_OP_CLIENT_SECRET) replaces them and works from any peer', async () => {
    await assert.rejects(startDevOp({ clientSecret: 'short' }), /clientSecret must be at least 16 characters/);
    const own = 'my-own-dev-op-secret-0123456789';
    const op = await startDevOp({ host: '0.0.0.0', clientSecret: own });
    const relayed = { 'x-forwarded-for': '203.0.113.9' };
    try {
      for (const name of ['webApp', 'orders', 'inventory', 'daemon'] as const) assert.equal(op.clients[name].clientSecret, own);
      assert.equal((await clientCredentials(op, '127.0.0.1', own, relayed)).status, 200);
      assert.equal((await clientCredentials(op, '127.0.0.1', DEV_SECRETS.daemon)).status, 401, 'the fixed secret no longer works');
    } finally {
      await op.close();
    }
  });
});

describe('dev OP: a silent refresh gets only consented scopes (incremental consent)', () => {
  const READ = 'api://orders/Orders.Read';
  const WRITE = 'api://orders/Orders.Write';
  let op: DevOp;
  before(async () => { op = await startDevOp(); });
  after(() => op.close());

  it('consented to Orders.Read only: refresh gives no Orders.Write; asking for it needs consent; consenting grants it', async () => {
    const client = clientFor(op, 'webApp');
    const partition = 'incremental';
    const first = await signIn(op, client, { scopes: [READ], partition });
    const account = first.account!;
    assert.equal(decodeJwt(first.accessToken)['scp'], 'Orders.Read');

    await expireAccessTokens(client, partition);
    const read = await client.acquireTokenSilent({ scopes: [READ], account, partition });
    assert.equal(read.fromCache, false);
    assert.equal(decodeJwt(read.accessToken)['scp'], 'Orders.Read');
    await expireAccessTokens(client, partition);
    const all = await client.acquireTokenSilent({ scopes: ['api://orders/.default'], account, partition });
    assert.equal(decodeJwt(all.accessToken)['scp'], 'Orders.Read', '.default is what was consented, not every scope of the API');

    // On the wire: Entra's consent_required, and the refresh token survives it.
    const rt = await cachedRefreshToken(client, partition);
    const wire = await fetch(`${op.issuer}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${op.clients.webApp.clientId}:${op.clients.webApp.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: rt!, scope: `${WRITE} offline_access` }),
    });
    const refusal = await wire.json() as Record<string, unknown>;
    assert.equal(wire.status, 400);
    assert.equal(refusal['error'], 'invalid_grant');
    assert.equal(refusal['suberror'], 'consent_required');
    assert.match(String(refusal['error_description']), /^AADSTS65001: .*Missing: api:\/\/orders\/Orders\.Write$/);

    await assert.rejects(client.acquireTokenSilent({ scopes: [WRITE], account, partition }), (err: unknown) => {
      assert.ok(err instanceof AuthError);
      assert.ok(err.interactionRequired, err.code);
      assert.ok(['consent_required', 'interaction_required'].includes(err.code), err.code);
      assert.deepEqual(err.scopes, [WRITE]);
      return true;
    });

    // Consenting (a new sign-in for Orders.Write) adds to what was granted before.
    const second = await signIn(op, client, { scopes: [WRITE], partition });
    assert.equal(decodeJwt(second.accessToken)['scp'], 'Orders.Write');
    await expireAccessTokens(client, partition);
    const write = await client.acquireTokenSilent({ scopes: [WRITE], account, partition });
    assert.equal(decodeJwt(write.accessToken)['scp'], 'Orders.Write');
    await expireAccessTokens(client, partition);
    const both = await client.acquireTokenSilent({ scopes: [READ, WRITE], account, partition });
    assert.equal(decodeJwt(both.accessToken)['scp'], 'Orders.Read Orders.Write');
  });
});

describe('dev OP: the device-code page', () => {
  let op: DevOp;
  before(async () => { op = await startDevOp(); });
  after(() => op.close());

  it('says what to type and where it comes from; the response carries Entra\'s message', async () => {
    const answer = await fetch(`${op.issuer}/oauth2/v2.0/devicecode`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: op.clients.cli.clientId, scope: 'openid api://orders/Orders.Read' }),
    });
    const device = await answer.json() as Record<string, string>;
    assert.match(device['user_code']!, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/, 'the format the page describes');
    assert.equal(device['message'], `To sign in, use a web browser to open the page ${device['verification_uri']} and enter the code ${device['user_code']} to authenticate.`);

    const page = await (await fetch(device['verification_uri']!)).text();
    const instructions = /<p id="device-instructions">([^<]*)<\/p>/.exec(page)?.[1];
    assert.ok(instructions, 'the page has instructions');
    assert.match(instructions, /Enter the code shown in your terminal/);
    assert.match(instructions, /8 letters, like BCDF-GHJK/);
    assert.match(page, /<label for="user-code">/);
    assert.match(page, /id="user-code"[^>]*placeholder="XXXX-XXXX"/);
    assert.ok(!page.includes(device['user_code']!), 'the page never shows the code itself');
  });
});
