/**
 * Entra's AADSTS catalog, one test per code from the dev OP's answer (Entra's body: `error`,
 * `error_description` starting with the code, `error_codes`, `timestamp`, `trace_id`,
 * `correlation_id`, `suberror`/`claims` where Entra sends them) to what the app and the user see
 * (AuthError code, status and reason; a sign-in again — with the claims for MFA — or an error page
 * with the reason). Real triggers where the dev OP can produce the condition (a wrong secret, an
 * unknown client, an unknown tenant, an expired refresh token, a revoked user, a never-consented
 * scope); the dev OP's fault injection (`faults.set({ aadsts })`) for MFA, sign-in frequency and a
 * user not in the tenant, which need an Entra tenant's policies to happen.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { AADSTS_RULES, AuthError, ConfidentialClient } from '../../src/index.js';
import { aadstsRule } from '../../src/entraErrors.js';
import { MFA_CLAIMS_CHALLENGE } from '../../examples/dev-op/index.js';
import { buildExpressApp, GRAPH, INVENTORY } from '../helpers/expressApp.js';
import { clientFor, redirectUriOf, signIn, startDevOp, type DevOp } from '../helpers/op.js';

type Agent = ReturnType<typeof request.agent>;
type Body = Record<string, unknown>;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Asserts Entra's error body for `code`. */
function assertEntraBody(body: Body, code: number, error: string, extra: { suberror?: string; claims?: string } = {}): void {
  assert.equal(body['error'], error);
  assert.match(String(body['error_description']), new RegExp(`^AADSTS${code}: `));
  assert.deepEqual(body['error_codes'], [code]);
  assert.match(String(body['timestamp']), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  assert.match(String(body['trace_id']), UUID);
  assert.match(String(body['correlation_id']), UUID);
  // Entra's description ends with the ids and the time on lines of their own.
  assert.match(String(body['error_description']), new RegExp(`\\r\\nTrace ID: ${String(body['trace_id'])}\\r\\nCorrelation ID: ${String(body['correlation_id'])}\\r\\nTimestamp: `));
  assert.equal(body['suberror'], extra.suberror);
  assert.equal(body['claims'], extra.claims);
}

/** A raw token request (form) to the dev OP's token endpoint, or another tenant's. */
async function postToken(op: DevOp, form: Record<string, string>, issuer = op.issuer): Promise<{ status: number; body: Body }> {
  const answer = await fetch(`${issuer}/oauth2/v2.0/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  return { status: answer.status, body: await answer.json() as Body };
}

/** A raw refresh request by the web app (the fault/check runs before the token is looked at). */
const rawRefresh = (op: DevOp, refreshToken = 'not-a-real-refresh-token') => postToken(op, {
  grant_type: 'refresh_token', refresh_token: refreshToken, client_id: op.clients.webApp.clientId, client_secret: op.clients.webApp.clientSecret!,
});

/** An AuthError matcher. */
const authError = (code: string, status: number, reason: string) => (err: unknown): boolean => {
  assert.ok(err instanceof AuthError, String(err));
  assert.equal(err.code, code, err.message);
  assert.equal(err.status, status);
  assert.equal(err.reason, reason);
  assert.doesNotMatch(err.description, /Trace ID|\r|\n/, 'the description is the first line only');
  return true;
};

describe('AADSTS catalog: from the OP\'s answer to what the user sees', () => {
  let op: DevOp;
  before(async () => { op = await startDevOp(); });
  afterEach(() => op.faults.clear());
  after(() => op.close());

  /** A browser (agent) signed in to the test app as `username`. */
  async function signedIn(app: Parameters<typeof request.agent>[0], username = 'alice'): Promise<Agent> {
    const agent = request.agent(app);
    const login = await agent.get('/login?returnTo=%2Fprofile');
    assert.equal(login.status, 302);
    const callback = new URL(await op.signIn(login.headers.location!, { username }));
    const done = await agent.get(callback.pathname + callback.search);
    assert.equal(done.status, 302, done.text);
    return agent;
  }

  /** The page needs a refresh (/inventory was never cached): the answer must be a sign-in for it. */
  async function expectSignInAgain(agent: Agent, page = '/inventory'): Promise<URL> {
    const answer = await agent.get(page).set('accept', 'text/html');
    assert.equal(answer.status, 302, answer.text);
    assert.equal(answer.headers.location, `/login?returnTo=${encodeURIComponent(page)}`);
    const login = await agent.get(answer.headers.location!);
    assert.equal(login.status, 302);
    return new URL(login.headers.location!);
  }

  /** The page ends on an error page naming the reason (no sign-in loop). */
  async function expectErrorPage(agent: Agent | ReturnType<typeof request>, page: string, status: number, code: string, reason: string): Promise<string> {
    const answer = await (agent as Agent).get(page).set('accept', 'text/html');
    assert.equal(answer.status, status, answer.text);
    assert.match(answer.text, new RegExp(`id="error-code">${code}<`));
    assert.match(answer.text, new RegExp(`id="error-reason">${reason}<`));
    return answer.text;
  }

  for (const [code, suberror, reason] of [[50076, 'basic_action', 'mfa_required'], [50079, 'additional_action', 'mfa_registration_required']] as const) {
    it(`${code} (MFA): interaction_required with claims -> a sign-in carrying the claims challenge`, async () => {
      op.faults.set({ aadsts: { code, grantType: 'refresh_token' } });
      const raw = await rawRefresh(op);
      assert.equal(raw.status, 400);
      assertEntraBody(raw.body, code, 'interaction_required', { suberror, claims: MFA_CLAIMS_CHALLENGE });

      const { app } = buildExpressApp(op);
      op.faults.clear();
      const agent = await signedIn(app);
      op.faults.set({ aadsts: { code, grantType: 'refresh_token' } });
      const authorize = await expectSignInAgain(agent);
      assert.deepEqual(JSON.parse(authorize.searchParams.get('claims')!), JSON.parse(MFA_CLAIMS_CHALLENGE), 'the sign-in carries the OP\'s claims');
      assert.match(authorize.searchParams.get('scope')!, /api:\/\/inventory\/Inventory\.Read/);
      if (code === 50076) {
        // The user completes the (step-up) sign-in: the page works.
        op.faults.clear();
        const callback = new URL(await op.signIn(authorize.href, { username: 'alice' }));
        const back = await agent.get(callback.pathname + callback.search);
        assert.equal(new URL(back.headers.location!, 'http://localhost:3000').pathname, '/inventory');
        assert.deepEqual((await agent.get('/inventory')).body, { aud: 'api://inventory' });
      }
      // The core's view.
      op.faults.set({ aadsts: { code } });
      const user = await signIn(op, clientFor(op, 'webApp'), { partition: `mfa-${code}` }).catch((err: unknown) => err);
      assert.ok(user instanceof AuthError && user.code === 'interaction_required' && user.reason === reason && user.claims === MFA_CLAIMS_CHALLENGE && user.status === 401, String(user));
    });
  }

  it('65001 (consent): invalid_grant + consent_required -> consent_required, a sign-in asking for the scope (real: a never-consented scope)', async () => {
    const web = clientFor(op, 'webApp');
    const result = await signIn(op, web, { partition: 'consent' });
    await assert.rejects(web.acquireTokenSilent({ scopes: GRAPH, account: result.account!, partition: 'consent' }), authError('consent_required', 401, 'consent_missing'));
    const seen = op.lastErrors().at(-1)!;
    assert.match(seen.description ?? '', /^AADSTS65001: /);
    op.faults.set({ aadsts: { code: 65001, grantType: 'refresh_token' } });
    assertEntraBody((await rawRefresh(op)).body, 65001, 'invalid_grant', { suberror: 'consent_required' });
    op.faults.clear();

    const { app } = buildExpressApp(op);
    const agent = await signedIn(app);
    const authorize = await expectSignInAgain(agent, '/graph');
    assert.match(authorize.searchParams.get('scope')!, /graph\.microsoft\.com\/User\.Read/);
  });

  it('700082 (refresh token expired): invalid_grant -> sign in again (real: a refresh token past its lifetime)', async () => {
    // 4 s: both sign-ins (their grants live as long) finish well within it, even on a busy machine.
    const ttl = 4;
    const shortLived = await startDevOp({ refreshTokenTtl: ttl });
    try {
      const web = clientFor(shortLived, 'webApp');
      const result = await signIn(shortLived, web, { partition: 'expired' });
      const { app } = buildExpressApp(shortLived);
      const agent = request.agent(app);
      const login = await agent.get('/login?returnTo=%2Fprofile');
      const callback = new URL(await shortLived.signIn(login.headers.location!, { username: 'alice' }));
      await agent.get(callback.pathname + callback.search);
      await new Promise((resolve) => setTimeout(resolve, ttl * 1000 + 500)); // past both refresh tokens' lifetime
      await assert.rejects(web.acquireTokenSilent({ scopes: INVENTORY, account: result.account!, partition: 'expired' }), authError('interaction_required', 401, 'refresh_token_expired'));
      assert.match(shortLived.lastErrors().at(-1)!.description ?? '', /^AADSTS700082: /);
      const page = await agent.get('/inventory').set('accept', 'text/html');
      assert.equal(page.status, 302);
      assert.equal(page.headers.location, '/login?returnTo=%2Finventory');
    } finally {
      await shortLived.close();
    }
    op.faults.set({ aadsts: { code: 700082 } });
    assertEntraBody((await rawRefresh(op)).body, 700082, 'invalid_grant');
  });

  it('70043 (sign-in frequency): invalid_grant -> sign in again', async () => {
    op.faults.set({ aadsts: { code: 70043, grantType: 'refresh_token' } });
    assertEntraBody((await rawRefresh(op)).body, 70043, 'invalid_grant');
    op.faults.clear();
    const web = clientFor(op, 'webApp');
    const result = await signIn(op, web, { partition: 'frequency' });
    const { app } = buildExpressApp(op);
    const agent = await signedIn(app);
    op.faults.set({ aadsts: { code: 70043, grantType: 'refresh_token' } });
    await assert.rejects(web.acquireTokenSilent({ scopes: INVENTORY, account: result.account!, partition: 'frequency' }), authError('interaction_required', 401, 'sign_in_frequency'));
    await expectSignInAgain(agent);
  });

  it('50173 (grant revoked, password change): invalid_grant -> sign in again (real: op.revoke)', async () => {
    const web = clientFor(op, 'webApp');
    const result = await signIn(op, web, { username: 'bob', partition: 'revoked' });
    const { app } = buildExpressApp(op);
    const agent = await signedIn(app, 'bob');
    await op.revoke('bob');
    await assert.rejects(web.acquireTokenSilent({ scopes: INVENTORY, account: result.account!, partition: 'revoked' }), authError('interaction_required', 401, 'grant_revoked'));
    await expectSignInAgain(agent);
    op.faults.set({ aadsts: { code: 50173, grantType: 'refresh_token' } });
    const raw = await rawRefresh(op);
    assertEntraBody(raw.body, 50173, 'invalid_grant');
    assert.match(String(raw.body['error_description']), /TokensValidFrom/);
  });

  it('50020 (user not in tenant): access_denied 403 -> an error page with the reason, no sign-in loop', async () => {
    op.faults.set({ aadsts: { code: 50020, grantType: 'refresh_token' } });
    const raw = await rawRefresh(op);
    assertEntraBody(raw.body, 50020, 'invalid_grant');
    op.faults.clear();
    const web = clientFor(op, 'webApp');
    const result = await signIn(op, web, { partition: 'guest' });
    const { app } = buildExpressApp(op);
    const agent = await signedIn(app);
    op.faults.set({ aadsts: { code: 50020, grantType: 'refresh_token' } });
    await assert.rejects(web.acquireTokenSilent({ scopes: INVENTORY, account: result.account!, partition: 'guest' }), (err: unknown) => {
      authError('access_denied', 403, 'user_not_in_tenant')(err);
      assert.equal((err as AuthError).interactionRequired, false);
      assert.equal((err as AuthError).opError, 'invalid_grant');
      return true;
    });
    const page = await expectErrorPage(agent, '/inventory', 403, 'access_denied', 'user_not_in_tenant');
    assert.match(page, /AADSTS50020/);
    assert.match(page, /not a member or guest/);

    // The same refusal in the sign-in's redirect (Entra sends it there for an app the account cannot use).
    const flow = await web.initiateAuthCodeFlow({ scopes: INVENTORY, redirectUri: redirectUriOf(op) });
    const description = String(raw.body['error_description']);
    await assert.rejects(web.acquireTokenByAuthCodeFlow(flow, { state: flow.state, error: 'access_denied', error_description: description }), authError('access_denied', 403, 'user_not_in_tenant'));
    const other = await web.initiateAuthCodeFlow({ scopes: INVENTORY, redirectUri: redirectUriOf(op) });
    await assert.rejects(web.acquireTokenByAuthCodeFlow(other, { state: other.state, error: 'invalid_request', error_description: description }), (err: unknown) =>
      authError('access_denied', 403, 'user_not_in_tenant')(err) && (err as AuthError).opError === 'invalid_request');
  });

  it('7000215 (wrong secret): invalid_client 500 -> an error page with the reason (real: a wrong secret)', async () => {
    const raw = await postToken(op, { grant_type: 'client_credentials', scope: 'api://inventory/.default', client_id: op.clients.daemon.clientId, client_secret: 'wrong-secret-of-the-right-length' });
    assert.equal(raw.status, 401);
    assertEntraBody(raw.body, 7000215, 'invalid_client');
    const daemon = clientFor(op, 'daemon', { credential: { secret: 'wrong-secret-of-the-right-length' } });
    await assert.rejects(daemon.acquireTokenForClient({ scopes: ['api://inventory/.default'] }), authError('invalid_client', 500, 'invalid_client_secret'));

    const { app } = buildExpressApp(op, { clientOptions: { credential: { secret: 'wrong-secret-of-the-right-length' } } });
    const agent = request.agent(app);
    const login = await agent.get('/login?returnTo=%2Fprofile');
    const callback = new URL(await op.signIn(login.headers.location!, { username: 'alice' }));
    const page = await expectErrorPage(agent, callback.pathname + callback.search, 500, 'invalid_client', 'invalid_client_secret');
    assert.match(page, /not its id/);
  });

  it('700016 (app not found in the tenant): unauthorized_client 500 (real: an unknown client id)', async () => {
    const raw = await postToken(op, { grant_type: 'client_credentials', scope: 'api://inventory/.default', client_id: 'no-such-app', client_secret: 'whatever-secret-value' });
    assert.equal(raw.status, 400);
    assertEntraBody(raw.body, 700016, 'unauthorized_client');
    assert.match(String(raw.body['error_description']), /'no-such-app' was not found in the directory/);
    const unknown = new ConfidentialClient({ clientId: 'no-such-app', authority: op.issuer, credential: { secret: 'whatever-secret-value' }, allowInsecureRequests: true, authorityType: 'entra' });
    const err = await unknown.acquireTokenForClient({ scopes: ['api://inventory/.default'] }).catch((e: unknown) => e);
    authError('unauthorized_client', 500, 'application_not_found')(err);
    assert.equal((err as AuthError).expose, false, 'an app misconfiguration stays in the log in production');
  });

  it('90002 (tenant not found): discovery_failed / invalid_config with the reason (real: an unknown tenant in the authority)', async () => {
    const issuer = `${op.url}/no-such-tenant/v2.0`;
    const discovery = await fetch(`${issuer}/.well-known/openid-configuration`);
    assert.equal(discovery.status, 400);
    assertEntraBody(await discovery.json() as Body, 90002, 'invalid_tenant');
    const token = await postToken(op, { grant_type: 'client_credentials', client_id: 'x', client_secret: 'y' }, issuer);
    assert.equal(token.status, 400);
    assertEntraBody(token.body, 90002, 'invalid_request');
    assert.match(String(token.body['error_description']), /Tenant 'no-such-tenant' not found/);

    const { app } = buildExpressApp(op, { clientOptions: { authority: issuer } });
    const page = await expectErrorPage(request(app), '/login', 502, 'discovery_failed', 'tenant_not_found');
    assert.match(page, /does not exist/);
  });
});

describe('aadstsRule (table)', () => {
  const table: Array<[string, Body, string | undefined]> = [
    ['error_codes first', { error_codes: [50020], error_description: 'AADSTS50076: x' }, 'user_not_in_tenant'],
    ['else the description\'s prefix', { error_description: 'AADSTS700082: The refresh token has expired' }, 'refresh_token_expired'],
    ['a code authflow does not map', { error_codes: [50126], error_description: 'AADSTS50126: bad password' }, undefined],
    ['no code at all', { error: 'invalid_grant', error_description: 'grant request is invalid' }, undefined],
    ['a code not at the start', { error_description: 'see AADSTS50076' }, undefined],
    ['error_codes that are not numbers', { error_codes: ['50076'] }, undefined],
  ];
  for (const [name, body, reason] of table) it(name, () => assert.equal(aadstsRule(body)?.reason, reason));
  it('every mapped code has a reason, and the ones sign-in cannot fix say so', () => {
    for (const [code, rule] of Object.entries(AADSTS_RULES)) {
      const err = new AuthError(rule.code ?? 'invalid_grant', { reason: rule.reason, ...(rule.status ? { status: rule.status } : {}) });
      assert.equal(err.interactionRequired, ['50076', '50079', '65001', '700082', '70043', '50173'].includes(code), code);
    }
  });
});
