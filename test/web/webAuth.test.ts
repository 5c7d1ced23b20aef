/**
 * WebAuth below the HTTP tests: driven through an in-memory SessionPort (no framework), against
 * the real dev OP (`op.signIn` completes the OP's pages): login → callback → getToken → logout,
 * and what errorResult answers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuthError } from '../../src/index.js';
import type { AuthSessionData, SessionPort } from '../../src/web/session.js';
import { WebAuth, type WebRequest } from '../../src/web/webAuth.js';
import { clientFor, startDevOp, type DevOp } from '../helpers/op.js';

const BASE_URL = 'http://localhost:3000';

/** A session in memory: what the adapters' ports do over express-session / koa-session. */
class MemorySession implements SessionPort {
  data: AuthSessionData = {};
  sessionId = 'sid-1';
  saves = 0;
  destroyed = false;
  lifetime: number | undefined;
  read = (): AuthSessionData => this.data;
  write = (data: AuthSessionData): void => void (this.data = data);
  regenerate = async (): Promise<void> => {
    this.data = {};
    this.sessionId = `sid-${Number(this.sessionId.slice(4)) + 1}`;
  };
  destroy = async (): Promise<void> => {
    this.data = {};
    this.destroyed = true;
  };
  save = async (): Promise<void> => void this.saves++;
  id = (): string => this.sessionId;
  setLifetime = (ms: number | undefined): void => void (this.lifetime = ms);
}

const get = (url: string, headers: WebRequest['headers'] = {}): WebRequest => {
  const parsed = new URL(url, BASE_URL);
  return { method: 'GET', url: parsed.pathname + parsed.search, headers, query: Object.fromEntries(parsed.searchParams), body: undefined };
};
const json = (types: string[]): string | false => (types.includes('json') ? 'json' : false);

describe('WebAuth through an in-memory SessionPort', () => {
  let op: DevOp;
  let web: WebAuth;
  before(async () => {
    op = await startDevOp();
    web = new WebAuth({ client: clientFor(op, 'webApp'), baseUrl: BASE_URL, scopes: ['api://orders/Orders.Read'] });
  });
  after(() => op.close());

  it('login → callback signs in with a new session id, keeping no token in the session; getToken; logout', async () => {
    const session = new MemorySession();
    const login = await web.login(get('/login?returnTo=/orders'), session);
    assert.equal(login.kind, 'redirect');
    assert.equal(session.saves, 1, 'saved before the browser leaves');
    assert.equal(Object.keys(session.data.signIns ?? {}).length, 1);
    assert.ok(session.lifetime! > 0, 'a session holding only a flow lives as long as the flow');

    const callback = new URL(await op.signIn(login.kind === 'redirect' ? login.location : '', { username: 'alice' }));
    const back = await web.callback(get(callback.pathname + callback.search), session);
    assert.deepEqual(back, { kind: 'redirect', location: `${BASE_URL}/orders` });
    assert.equal(session.sessionId, 'sid-2', 'regenerated (fixation defence)');
    assert.equal(session.lifetime, undefined, 'the full lifetime again');
    assert.equal(session.data.user?.account.username, op.users.alice.username);
    // A JWT's header and payload both begin "eyJ" ('{"'); the session's random ids may hold those letters by chance.
    assert.doesNotMatch(JSON.stringify(session.data), /eyJ[A-Za-z0-9_-]+\.eyJ/, 'no token in the session');

    const token = await web.getToken(session, ['api://orders/Orders.Read']);
    assert.match(token, /^eyJ/);

    const out = await web.logout({ ...get('/logout'), method: 'POST' }, session);
    assert.equal(out.kind, 'redirect');
    assert.equal(session.destroyed, true);
    await assert.rejects(web.getToken(new MemorySession(), ['api://orders/Orders.Read']), (err: AuthError) => err.code === 'interaction_required');
  });

  it('a callback for no sign-in of this session is flow_missing; one of another sign-in state_mismatch', async () => {
    await assert.rejects(web.callback(get('/callback?state=x&code=y'), new MemorySession()), (err: AuthError) => err.code === 'flow_missing');
    const session = new MemorySession();
    await web.login(get('/login'), session);
    await assert.rejects(web.callback(get('/callback?state=other&code=y'), session), (err: AuthError) => err.code === 'state_mismatch');
  });

  it('errorResult: interaction needed → a sign-in redirect for pages, a 401 with login_uri for APIs; other errors their status; not authflow\'s → undefined', () => {
    const needsConsent = new AuthError('consent_required', { scopes: ['api://inventory/Inventory.Read'] });
    const page = web.errorResult(get('/inventory'), new MemorySession(), needsConsent);
    assert.deepEqual(page, { kind: 'redirect', location: '/login?returnTo=%2Finventory' });

    const api = web.errorResult({ ...get('/inventory'), accepts: json }, new MemorySession(), needsConsent);
    assert.ok(api?.kind === 'respond');
    assert.equal(api.status, 401);
    assert.equal(JSON.parse(api.body).login_uri, '/login?returnTo=%2Finventory');

    const session = new MemorySession();
    web.errorResult(get('/inventory'), session, needsConsent);
    const again = web.errorResult(get('/inventory'), session, needsConsent);
    assert.ok(again?.kind === 'respond' && again.status === 403, 'a second sign-in for the same page and scopes is not retried (no loop)');

    const down = web.errorResult(get('/x'), undefined, new AuthError('store_unavailable'));
    assert.ok(down?.kind === 'respond' && down.status === 503);
    assert.equal(web.errorResult(get('/x'), undefined, new Error('not ours')), undefined);
  });
});
