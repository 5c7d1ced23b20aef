/**
 * authflow on the multi-tenant dev OP (issue 16 item 5): sign-in through /organizations with
 * allowedTenants, a guest's tenant profile kept on refresh (the tenant's own token endpoint),
 * On-Behalf-Of for a guest at the guest tenant, and validateBearer on v1 and v2 tokens of
 * allowed tenants. Every refusal has its case.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { AuthError, ConfidentialClient, createBearerValidator, type BearerOptions, type TokenResult } from '../../src/index.js';
import { redirectUriOf, startDevOp, type DevOp } from '../helpers/op.js';

const ORDERS = ['api://orders/Orders.Read'];
const REPORTS = ['api://reports/Reports.Read'];

describe('authflow on multi-tenant Entra (dev OP)', () => {
  let op: DevOp;
  let contoso: string;
  let fabrikam: string;

  const client = (name: 'webApp' | 'orders', allowedTenants: string[], authority = op.authority('organizations')): ConfidentialClient => new ConfidentialClient({
    clientId: op.clients[name].clientId, credential: { secret: op.clients[name].clientSecret! },
    authority, authorityType: 'entra', allowInsecureRequests: true, allowedTenants,
  });

  async function signIn(c: ConfidentialClient, username: string, options: { scopes?: string[]; domainHint?: string; partition?: string } = {}): Promise<TokenResult> {
    const flow = await c.initiateAuthCodeFlow({ scopes: options.scopes ?? ORDERS, redirectUri: redirectUriOf(op), ...(options.domainHint ? { domainHint: options.domainHint } : {}) });
    const callback = new URL(await op.signIn(flow.authUri, { username }));
    return c.acquireTokenByAuthCodeFlow(flow, callback.searchParams, { partition: options.partition ?? `${username}-${Math.random()}` });
  }

  before(async () => {
    op = await startDevOp();
    contoso = op.tenants.contoso.id;
    fabrikam = op.tenants.fabrikam.id;
  });
  after(() => op.close());

  test('/organizations with allowedTenants [contoso]: alice signs in, frank (fabrikam) is refused with tenant_not_allowed; with both, both', async () => {
    const onlyContoso = client('webApp', [contoso]);
    const alice = await signIn(onlyContoso, 'alice');
    assert.equal(alice.account!.tenantId, contoso);
    assert.equal(decodeJwt(alice.accessToken)['iss'], op.tenants.contoso.issuer);
    await assert.rejects(signIn(onlyContoso, 'frank'), (err: unknown) => err instanceof AuthError && err.code === 'tenant_not_allowed' && err.status === 403
      && err.description.includes(fabrikam));
    const both = client('webApp', [contoso, fabrikam]);
    const frank = await signIn(both, 'frank');
    assert.equal(frank.account!.tenantId, fabrikam);
    assert.equal(frank.account!.homeAccountId, `${op.users.frank.oid}.${fabrikam}`);
    assert.equal(decodeJwt(frank.accessToken)['tid'], fabrikam);
  });

  test('the discovered issuer must be Entra\'s template: a tenant authority dressed as /organizations is refused (issuer_mismatch)', async () => {
    // The dev OP serves contoso at its domain name too; its document names contoso's GUID issuer, not the template.
    const wrong = new ConfidentialClient({
      clientId: op.clients.webApp.clientId, credential: { secret: op.clients.webApp.clientSecret! }, authorityType: 'entra', allowInsecureRequests: true,
      allowedTenants: [contoso], authority: op.authority('organizations'),
    });
    assert.ok(await wrong.initiateAuthCodeFlow({ scopes: ORDERS, redirectUri: redirectUriOf(op) }));
    const fake = await startFakeOrganizations(op);
    try {
      const c = new ConfidentialClient({
        clientId: op.clients.webApp.clientId, credential: { secret: op.clients.webApp.clientSecret! }, authorityType: 'entra', allowInsecureRequests: true,
        allowedTenants: [contoso], authority: `${fake.url}/organizations/v2.0`,
      });
      await assert.rejects(c.initiateAuthCodeFlow({ scopes: ORDERS, redirectUri: redirectUriOf(op) }), (err: unknown) => err instanceof AuthError && err.code === 'issuer_mismatch');
    } finally {
      await fake.close();
    }
  });

  test('the guest: signs in to fabrikam through /organizations (domain_hint); account keyed by her home account, tenant profile fabrikam', async () => {
    const c = client('webApp', [contoso, fabrikam]);
    const guest = await signIn(c, 'alice', { domainHint: 'fabrikam.onmicrosoft.com', partition: 'guest-1' });
    assert.equal(guest.account!.homeAccountId, `${op.users.alice.oid}.${contoso}`);
    assert.equal(guest.account!.tenantId, fabrikam);
    assert.equal(guest.account!.localAccountId, op.guests.aliceInFabrikam.oid);
    assert.equal(guest.idTokenClaims!['idp'], `https://sts.windows.net/${contoso}/`);
    const [account] = await c.getAccounts({ partition: 'guest-1' });
    assert.equal(account?.tenantId, fabrikam);
  });

  test('per-request tenant on the auth-code flow: the guest signs in at fabrikam\'s own authority through an /organizations client; refusals', async () => {
    const c = client('webApp', [contoso, fabrikam]);
    const flow = await c.initiateAuthCodeFlow({ scopes: ORDERS, redirectUri: redirectUriOf(op), tenantId: fabrikam.toUpperCase() });
    assert.ok(flow.authUri.startsWith(`${op.url}/${fabrikam}/v2.0/oauth2/v2.0/authorize?`), flow.authUri);
    assert.equal(flow.issuer, op.tenants.fabrikam.issuer);
    op.resetStats();
    const guest = await c.acquireTokenByAuthCodeFlow(flow, new URL(await op.signIn(flow.authUri, { username: 'alice' })).searchParams, { partition: 'per-request' });
    assert.equal(guest.account!.tenantId, fabrikam);
    assert.equal(guest.account!.localAccountId, op.guests.aliceInFabrikam.oid);
    assert.deepEqual(op.stats().tokenByAuthority, { [fabrikam]: 1 }, 'the code is redeemed at fabrikam');
    // refusals, before anything is sent
    const single = new ConfidentialClient({
      clientId: op.clients.webApp.clientId, credential: { secret: op.clients.webApp.clientSecret! }, authority: op.issuer, authorityType: 'entra', allowInsecureRequests: true,
    });
    await assert.rejects(single.initiateAuthCodeFlow({ scopes: ORDERS, redirectUri: redirectUriOf(op), tenantId: fabrikam }), { code: 'invalid_argument' });
    await assert.rejects(c.initiateAuthCodeFlow({ scopes: ORDERS, redirectUri: redirectUriOf(op), tenantId: 'fabrikam.onmicrosoft.com' }), { code: 'invalid_argument' });
    await assert.rejects(client('webApp', [contoso]).initiateAuthCodeFlow({ scopes: ORDERS, redirectUri: redirectUriOf(op), tenantId: fabrikam }), { code: 'tenant_not_allowed' });
  });

  test('silent for the guest refreshes at the fabrikam endpoint (not /organizations, which Entra answers for her home tenant) and stays fabrikam\'s', async () => {
    const c = client('webApp', [contoso, fabrikam]);
    const guest = await signIn(c, 'alice', { domainHint: 'fabrikam', partition: 'guest-2' });
    op.resetStats();
    const fresh = await c.acquireTokenSilent({ scopes: ORDERS, account: guest.account!, partition: 'guest-2', forceRefresh: true });
    assert.equal(fresh.fromCache, false);
    const claims = decodeJwt(fresh.accessToken);
    assert.equal(claims['tid'], fabrikam);
    assert.equal(claims['oid'], op.guests.aliceInFabrikam.oid);
    assert.equal(fresh.account!.tenantId, fabrikam);
    assert.deepEqual(op.stats().tokenByAuthority, { [fabrikam]: 1 });
    // another API through the same refresh token, still the guest tenant's
    const reports = await c.acquireTokenSilent({ scopes: REPORTS, account: guest.account!, partition: 'guest-2' }).catch((e: unknown) => e);
    assert.ok(reports instanceof AuthError ? reports.code === 'interaction_required' || reports.code === 'consent_required' : decodeJwt((reports as TokenResult).accessToken)['tid'] === fabrikam);
  });

  test('a home member\'s silent refresh goes to its own tenant too, and stays in it', async () => {
    const c = client('webApp', [contoso, fabrikam]);
    const frank = await signIn(c, 'frank', { partition: 'frank-1' });
    op.resetStats();
    const fresh = await c.acquireTokenSilent({ scopes: ORDERS, account: frank.account!, partition: 'frank-1', forceRefresh: true });
    assert.equal(decodeJwt(fresh.accessToken)['tid'], fabrikam);
    assert.deepEqual(op.stats().tokenByAuthority, { [fabrikam]: 1 });
  });

  test('tenant profiles (issue 15): a per-request tenant makes a fabrikam profile from alice\'s home sign-in; getAccounts lists her once with both; no tenant is served another\'s token', async () => {
    const c = client('webApp', [contoso, fabrikam]);
    const home = await signIn(c, 'alice', { partition: 'profiles' });
    let [listed] = await c.getAccounts({ partition: 'profiles' });
    assert.deepEqual([...listed!.tenantProfiles!.keys()], [contoso]);
    op.resetStats();
    const inFabrikam = await c.acquireTokenSilent({ scopes: ORDERS, account: { ...home.account!, tenantId: fabrikam }, partition: 'profiles' });
    assert.equal(inFabrikam.fromCache, false);
    assert.equal(decodeJwt(inFabrikam.accessToken)['tid'], fabrikam);
    assert.equal(inFabrikam.account!.tenantId, fabrikam);
    assert.equal(inFabrikam.account!.localAccountId, op.guests.aliceInFabrikam.oid);
    assert.equal(inFabrikam.account!.homeAccountId, home.account!.homeAccountId);
    assert.deepEqual(op.stats().tokenByAuthority, { [fabrikam]: 1 });

    const accounts = await c.getAccounts({ partition: 'profiles' });
    assert.equal(accounts.length, 1, 'one account per home account');
    listed = accounts[0];
    assert.equal(listed!.tenantId, contoso, 'listed as the home tenant\'s profile');
    assert.deepEqual(Object.fromEntries(listed!.tenantProfiles!), {
      [contoso]: { tenantId: contoso, localAccountId: op.users.alice.oid, name: op.users.alice.name, isHomeTenant: true },
      [fabrikam]: { tenantId: fabrikam, localAccountId: op.guests.aliceInFabrikam.oid, name: op.users.alice.name, isHomeTenant: false },
    });
    // each profile from the cache, each its own tenant's token
    const again = await c.acquireTokenSilent({ scopes: ORDERS, account: listed!, partition: 'profiles' });
    assert.equal(again.fromCache, true);
    assert.equal(decodeJwt(again.accessToken)['tid'], contoso);
    const guestAgain = await c.acquireTokenSilent({ scopes: ORDERS, account: { ...listed!, tenantId: fabrikam }, partition: 'profiles' });
    assert.equal(guestAgain.fromCache, true);
    assert.equal(decodeJwt(guestAgain.accessToken)['tid'], fabrikam);
    // a tenant outside allowedTenants: refused before any request
    const onlyContoso = client('webApp', [contoso]);
    await onlyContoso.importCache('p', await c.exportCache('profiles'));
    op.resetStats();
    await assert.rejects(onlyContoso.acquireTokenSilent({ scopes: ORDERS, account: { ...listed!, tenantId: '00000000-0000-4000-8000-000000000001' }, partition: 'p' }), { code: 'tenant_not_allowed' });
    assert.equal(op.stats().tokenRequests, 0);
  });

  test('two tenant profiles asked for at the same time are two requests: each refresh stays its own tenant\'s (concurrent calls are shared only within one tenant)', async () => {
    const c = client('webApp', [contoso, fabrikam]);
    const home = await signIn(c, 'alice', { partition: 'profiles-concurrent' });
    const guestAccount = { ...home.account!, tenantId: fabrikam };
    await c.acquireTokenSilent({ scopes: ORDERS, account: guestAccount, partition: 'profiles-concurrent' });
    op.resetStats();
    const [inContoso, inFabrikam] = await Promise.all([
      c.acquireTokenSilent({ scopes: ORDERS, account: home.account!, partition: 'profiles-concurrent', forceRefresh: true }),
      c.acquireTokenSilent({ scopes: ORDERS, account: guestAccount, partition: 'profiles-concurrent', forceRefresh: true }),
    ]);
    assert.equal(decodeJwt(inContoso.accessToken)['tid'], contoso);
    assert.equal(decodeJwt(inFabrikam.accessToken)['tid'], fabrikam);
    assert.deepEqual(op.stats().tokenByAuthority, { [contoso]: 1, [fabrikam]: 1 });
  });

  test('On-Behalf-Of for the guest goes to the fabrikam token endpoint: a fabrikam v1 token for reports', async () => {
    const web = client('webApp', [contoso, fabrikam]);
    const guest = await signIn(web, 'alice', { domainHint: 'fabrikam' });
    const orders = client('orders', [contoso, fabrikam]);
    op.resetStats();
    const obo = await orders.acquireTokenOnBehalfOf({ userAssertion: guest.accessToken, scopes: REPORTS });
    const claims = decodeJwt(obo.accessToken);
    assert.equal(claims['tid'], fabrikam);
    assert.equal(claims['oid'], op.guests.aliceInFabrikam.oid);
    assert.equal(claims['ver'], '1.0');
    assert.equal(claims['appid'], op.clients.orders.clientId);
    assert.deepEqual(op.stats().tokenByAuthority, { [fabrikam]: 1 });
  });

  test('validateBearer, /organizations + allowedTenants + acceptV1Issuer: v1 and v2 tokens of allowed tenants pass, others are refused', async () => {
    const web = client('webApp', [contoso, fabrikam]);
    const aliceV2 = (await signIn(web, 'alice')).accessToken;
    const frankV2 = (await signIn(web, 'frank')).accessToken;
    const frankV1 = (await signIn(web, 'frank', { scopes: REPORTS })).accessToken;
    const guestV1 = (await signIn(web, 'alice', { scopes: REPORTS, domainHint: 'fabrikam' })).accessToken;
    assert.equal(decodeJwt(frankV1)['iss'], `https://sts.windows.net/${fabrikam}/`);
    const base = { authority: op.authority('organizations'), authorityType: 'entra', allowInsecureRequests: true } as const;
    const orders = (allowedTenants: string[]): BearerOptions => ({ ...base, audience: 'api://orders', scopes: ['Orders.Read'], allowedTenants });
    const reports = (allowedTenants: string[], acceptV1Issuer = true): BearerOptions => ({ ...base, audience: 'api://reports', scopes: ['Reports.Read'], allowedTenants, acceptV1Issuer });
    const reason = (p: Promise<unknown>) => p.then(() => 'accepted', (e: unknown) => (e instanceof AuthError ? `${e.code}:${e.reason}` : String(e)));

    assert.equal((await createBearerValidator(orders([contoso, fabrikam]))(aliceV2)).tid, contoso);
    assert.equal((await createBearerValidator(orders([contoso, fabrikam]))(frankV2)).tid, fabrikam);
    assert.equal(await reason(createBearerValidator(orders([contoso]))(frankV2)), 'token_invalid:tenant_not_allowed');
    assert.equal((await createBearerValidator(reports([contoso, fabrikam]))(frankV1)).appid, op.clients.webApp.clientId);
    assert.equal((await createBearerValidator(reports([fabrikam]))(guestV1)).oid, op.guests.aliceInFabrikam.oid);
    assert.equal(await reason(createBearerValidator(reports([contoso]))(frankV1)), 'token_invalid:tenant_not_allowed');
    assert.equal(await reason(createBearerValidator(reports([contoso, fabrikam], false))(frankV1)), 'token_invalid:wrong_issuer');
    // a single-tenant authority: its own tenant's v1 tokens only
    const contosoOnly = { authority: op.tenants.contoso.issuer, authorityType: 'entra', allowInsecureRequests: true, audience: 'api://reports', scopes: ['Reports.Read'], acceptV1Issuer: true } as const;
    const aliceV1 = (await signIn(web, 'alice', { scopes: REPORTS })).accessToken;
    assert.equal((await createBearerValidator(contosoOnly)(aliceV1)).tid, contoso);
    assert.equal(await reason(createBearerValidator(contosoOnly)(frankV1)), 'token_invalid:wrong_issuer');
    // multi-tenant options without allowedTenants are refused when built
    assert.throws(() => createBearerValidator({ ...base, audience: 'api://orders' }), (e: unknown) => e instanceof AuthError && e.code === 'invalid_config' && e.description.includes('allowedTenants'));
  });
});

/** An OP at /organizations whose discovery names a fixed tenant's issuer (not the template). */
async function startFakeOrganizations(op: DevOp): Promise<{ url: string; close(): Promise<void> }> {
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    void (async () => {
      const doc = await (await fetch(`${op.tenants.contoso.issuer}/.well-known/openid-configuration`)).json();
      res.writeHead(req.url?.endsWith('/.well-known/openid-configuration') ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(doc));
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}
