/**
 * The dev OP as Entra is multi-tenant (issue 16 items 1-2): tenants behind one server, the
 * templated discovery issuer of /organizations and /common, home and guest identities, v1 tokens,
 * and the single-tenant app fabrikam users cannot sign in to. Driven over HTTP, no authflow.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { startDevOp, type DevOp } from '../helpers/op.js';

/** A raw authorization-code sign-in (PKCE), as an app would do it, at `authority`. */
async function codeSignIn(op: DevOp, authority: string, opts: { username: string; clientId?: string; secret?: string; scope?: string; extra?: Record<string, string> }) {
  const clientId = opts.clientId ?? op.clients.webApp.clientId;
  const secret = opts.secret ?? op.clients.webApp.clientSecret!;
  const verifier = randomBytes(32).toString('base64url');
  const redirectUri = op.clients.webApp.redirectUris![0]!;
  const auth = new URL(`${authority}/oauth2/v2.0/authorize`);
  for (const [k, v] of Object.entries({
    client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope: opts.scope ?? 'openid profile offline_access api://orders/Orders.Read',
    state: 's', nonce: 'n', code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', client_info: '1', ...opts.extra,
  })) auth.searchParams.set(k, v);
  const back = new URL(await op.signIn(auth.href, { username: opts.username }));
  const none = { body: {} as Record<string, string>, id: {} as JWTPayload, at: {} as JWTPayload, clientInfo: { uid: '', utid: '' } };
  if (back.searchParams.get('error')) return { ...none, error: back.searchParams.get('error')!, description: back.searchParams.get('error_description') ?? '', iss: back.searchParams.get('iss') };
  const res = await fetch(`${authority}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: redirectUri, code_verifier: verifier, client_info: '1' }),
  });
  const body = await res.json() as Record<string, string>;
  return { error: undefined, description: undefined, iss: back.searchParams.get('iss'), body, id: decodeJwt(body['id_token']!), at: decodeJwt(body['access_token']!), clientInfo: JSON.parse(Buffer.from(body['client_info']!, 'base64url').toString()) as { uid: string; utid: string } };
}

async function tokenRequest(op: DevOp, authority: string, params: Record<string, string>, client: { clientId: string; clientSecret?: string } = op.clients.webApp) {
  const res = await fetch(`${authority}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(client.clientId ? { authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}` } : {}),
    },
    body: new URLSearchParams(params),
  });
  return { status: res.status, body: await res.json() as Record<string, string> };
}

describe('dev OP: multi-tenant Entra', () => {
  let op: DevOp;
  let contoso: string;
  let fabrikam: string;
  before(async () => {
    op = await startDevOp();
    contoso = op.tenants.contoso.id;
    fabrikam = op.tenants.fabrikam.id;
  });
  after(() => op.close());

  test('discovery: each tenant its own issuer; /organizations and /common the {tenantid} template, endpoints under their path, no RFC 9207 iss', async () => {
    assert.equal(op.tenants.contoso.issuer, op.issuer);
    assert.equal(op.tenantId, contoso);
    assert.notEqual(contoso, fabrikam);
    for (const name of ['contoso', 'fabrikam'] as const) {
      const doc = await (await fetch(`${op.authority(name)}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
      assert.equal(doc['issuer'], `${op.url}/${op.tenants[name].id}/v2.0`);
    }
    for (const name of ['organizations', 'common'] as const) {
      const doc = await (await fetch(`${op.authority(name)}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
      assert.equal(doc['issuer'], `${op.url}/{tenantid}/v2.0`);
      assert.equal(doc['token_endpoint'], `${op.url}/${name}/v2.0/oauth2/v2.0/token`);
      assert.equal(doc['authorization_response_iss_parameter_supported'], undefined);
    }
    // a tenant by domain name is the same authority; an unknown tenant is answered as Entra does (AADSTS90002)
    const byDomain = await (await fetch(`${op.url}/fabrikam.onmicrosoft.com/v2.0/.well-known/openid-configuration`)).json() as Record<string, unknown>;
    assert.equal(byDomain['issuer'], op.tenants.fabrikam.issuer);
    const unknown = await fetch(`${op.url}/nowhere.example/v2.0/.well-known/openid-configuration`);
    assert.equal(unknown.status, 400);
    const body = await unknown.json() as { error?: string; error_codes?: number[] };
    assert.equal(body.error, 'invalid_tenant');
    assert.deepEqual(body.error_codes, [90002]);
  });

  test('one key set for every tenant (Entra\'s common keys): a fabrikam token verifies with /organizations keys', async () => {
    const r = await codeSignIn(op, op.authority('organizations'), { username: 'frank' });
    assert.ok('at' in r);
    const keys = createRemoteJWKSet(new URL(`${op.authority('organizations')}/discovery/v2.0/keys`));
    const { payload } = await jwtVerify(r.body['access_token']!, keys, { issuer: op.tenants.fabrikam.issuer });
    assert.equal(payload['tid'], fabrikam);
  });

  test('/organizations signs a member in to the home tenant: iss/tid of that tenant, no iss in the redirect', async () => {
    const alice = await codeSignIn(op, op.authority('organizations'), { username: 'alice' });
    assert.ok('id' in alice);
    assert.equal(alice.iss, null);
    assert.equal(alice.id['iss'], op.tenants.contoso.issuer);
    assert.equal(alice.id['tid'], contoso);
    assert.equal(alice.id['oid'], op.users.alice.oid);
    assert.equal(alice.id['idp'], undefined);
    assert.deepEqual(alice.clientInfo, { uid: op.users.alice.oid, utid: contoso });
    const frank = await codeSignIn(op, op.authority('common'), { username: 'frank' });
    assert.ok('id' in frank);
    assert.equal(frank.id['iss'], op.tenants.fabrikam.issuer);
    assert.equal(frank.at['iss'], op.tenants.fabrikam.issuer);
    assert.equal(frank.at['tid'], fabrikam);
    assert.deepEqual(frank.clientInfo, { uid: op.users.frank.oid, utid: fabrikam });
  });

  test('the guest: alice in fabrikam (domain_hint or the fabrikam authority) has fabrikam\'s oid/tid, idp = contoso, client_info = her home account', async () => {
    const guest = op.guests.aliceInFabrikam;
    for (const [authority, extra] of [[op.authority('organizations'), { domain_hint: 'fabrikam.onmicrosoft.com' }], [op.authority('fabrikam'), {}]] as const) {
      const r = await codeSignIn(op, authority, { username: 'alice', extra });
      assert.ok('id' in r, JSON.stringify(r));
      assert.equal(r.id['iss'], op.tenants.fabrikam.issuer);
      assert.equal(r.id['tid'], fabrikam);
      assert.equal(r.id['oid'], guest.oid);
      assert.notEqual(guest.oid, op.users.alice.oid);
      assert.equal(r.id['idp'], `https://sts.windows.net/${contoso}/`);
      assert.equal(r.at['oid'], guest.oid);
      assert.equal(r.at['idp'], `https://sts.windows.net/${contoso}/`);
      assert.deepEqual(r.clientInfo, { uid: op.users.alice.oid, utid: contoso });
    }
  });

  test('refresh: at /organizations the home tenant answers (Entra); at a tenant, that tenant\'s identity; at a tenant without one, AADSTS50020', async () => {
    const r = await codeSignIn(op, op.authority('fabrikam'), { username: 'alice' });
    assert.ok('body' in r);
    const home = await tokenRequest(op, op.authority('organizations'), { grant_type: 'refresh_token', refresh_token: r.body['refresh_token']!, client_info: '1', scope: 'openid api://orders/Orders.Read' });
    assert.equal(home.status, 200, JSON.stringify(home.body));
    assert.equal(decodeJwt(home.body['id_token']!)['tid'], contoso);
    assert.equal(decodeJwt(home.body['access_token']!)['oid'], op.users.alice.oid);
    const guest = await tokenRequest(op, op.authority('fabrikam'), { grant_type: 'refresh_token', refresh_token: home.body['refresh_token']!, scope: 'openid api://orders/Orders.Read' });
    assert.equal(guest.status, 200);
    assert.equal(decodeJwt(guest.body['access_token']!)['oid'], op.guests.aliceInFabrikam.oid);
    const bob = await codeSignIn(op, op.authority('contoso'), { username: 'bob' });
    assert.ok('body' in bob);
    const refused = await tokenRequest(op, op.authority('fabrikam'), { grant_type: 'refresh_token', refresh_token: bob.body['refresh_token']!, scope: 'openid api://orders/Orders.Read' });
    assert.equal(refused.status, 400);
    assert.equal(refused.body['error'], 'invalid_grant');
    assert.match(refused.body['error_description']!, /^AADSTS50020:/);
    assert.deepEqual(refused.body['error_codes'], [50020] as unknown);
  });

  test('a user with no identity in the tenant, and a fabrikam user at the single-tenant contoso app: AADSTS50020 back to the app', async () => {
    const bob = await codeSignIn(op, op.authority('fabrikam'), { username: 'bob' });
    assert.equal(bob.error, 'access_denied');
    assert.match(bob.description!, /^AADSTS50020: User account 'bob'.*tenant 'fabrikam'/);
    const { clientId, clientSecret } = op.clients.contosoOnly;
    const frank = await codeSignIn(op, op.authority('organizations'), { username: 'frank', clientId, secret: clientSecret! });
    assert.equal(frank.error, 'access_denied');
    assert.match(frank.description!, /^AADSTS50020: User account 'frank'.*tenant 'contoso'/);
    const guest = await codeSignIn(op, op.authority('fabrikam'), { username: 'alice', clientId, secret: clientSecret! });
    assert.equal(guest.error, 'access_denied');
    const alice = await codeSignIn(op, op.authority('organizations'), { username: 'alice', clientId, secret: clientSecret! });
    assert.equal(alice.id?.['tid'], contoso);
  });

  test('home realm discovery: /organizations without a hint asks the username first (form "hrd")', async () => {
    const auth = new URL(`${op.authority('organizations')}/oauth2/v2.0/authorize?client_id=${op.clients.webApp.clientId}&response_type=code`);
    const page = await (await fetch(auth)).text();
    assert.match(page, /<form id="hrd" method="get"/);
    assert.match(page, /name="client_id" value="web-app"/);
  });

  test('v1 API (api://reports): ver 1.0, iss https://sts.windows.net/<tid>/, appid not azp, upn/unique_name; a guest has unique_name, no upn', async () => {
    const member = await codeSignIn(op, op.authority('organizations'), { username: 'frank', scope: 'openid offline_access api://reports/Reports.Read' });
    assert.ok('at' in member);
    assert.equal(member.at['ver'], '1.0');
    assert.equal(member.at['iss'], `https://sts.windows.net/${fabrikam}/`);
    assert.equal(member.at['aud'], 'api://reports');
    assert.equal(member.at['appid'], op.clients.webApp.clientId);
    assert.equal(member.at['azp'], undefined);
    assert.equal(member.at['upn'], 'frank');
    assert.equal(member.at['unique_name'], 'frank');
    assert.equal(member.at['scp'], 'Reports.Read');
    const guest = await codeSignIn(op, op.authority('fabrikam'), { username: 'alice', scope: 'openid api://reports/Reports.Read' });
    assert.ok('at' in guest);
    assert.equal(guest.at['iss'], `https://sts.windows.net/${fabrikam}/`);
    assert.equal(guest.at['upn'], undefined);
    assert.equal(guest.at['unique_name'], 'alice');
    assert.equal(guest.at['idp'], `https://sts.windows.net/${contoso}/`);
    // v2 APIs stay v2
    const orders = await codeSignIn(op, op.authority('contoso'), { username: 'alice' });
    assert.ok('at' in orders);
    assert.equal(orders.at['ver'], '2.0');
    assert.equal(orders.at['azp'], op.clients.webApp.clientId);
  });

  test('On-Behalf-Of for the guest at the fabrikam authority: a fabrikam token; at /organizations: her home tenant\'s (Entra)', async () => {
    const r = await codeSignIn(op, op.authority('fabrikam'), { username: 'alice' });
    assert.ok('body' in r);
    const obo = (authority: string) => tokenRequest(op, authority, {
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: r.body['access_token']!, requested_token_use: 'on_behalf_of', scope: 'api://reports/Reports.Read',
      client_id: op.clients.orders.clientId, client_secret: op.clients.orders.clientSecret!,
    }, { clientId: '', clientSecret: '' });
    const atFabrikam = await obo(op.authority('fabrikam'));
    assert.equal(atFabrikam.status, 200, JSON.stringify(atFabrikam.body));
    const t = decodeJwt(atFabrikam.body['access_token']!);
    assert.equal(t['tid'], fabrikam);
    assert.equal(t['oid'], op.guests.aliceInFabrikam.oid);
    assert.equal(t['appid'], op.clients.orders.clientId);
    const atOrganizations = await obo(op.authority('organizations'));
    assert.equal(decodeJwt(atOrganizations.body['access_token']!)['tid'], contoso);
  });
});
