/**
 * The review's Koa findings: 2 (the session cookie was signed with the app's `app.keys`),
 * 3 (cookie-mode sessions carried the PKCE verifier and nonce to the browser) and 13 (a form
 * field named `__proto__` changed the parsed body's prototype). Dev OP, real HTTP (supertest).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import Koa from 'koa';
import type { Context, Next } from 'koa';
import session from 'koa-session';
import request from 'supertest';
import { auth, authSession, requireAuth } from '../../src/koa/index.js';
import { parseUrlencoded } from '../../src/web/form.js';
import { clientFor, startDevOp, type DevOp } from '../helpers/op.js';

const BASE_URL = 'http://localhost:3000';
const STRONG_SECRET = 'a-strong-authflow-secret-of-48-characters-000000';

describe('security: Koa sessions and forms', () => {
  let op: DevOp;

  before(async () => {
    op = await startDevOp();
  });
  after(async () => {
    await op.close();
  });

  /** A Koa app with a weak `app.keys`, authflow's session (default store) and a profile page. */
  function buildApp(): Koa {
    const app = new Koa();
    app.silent = true;
    app.keys = ['keyboard cat'];
    app.use(authSession(app, { baseUrl: BASE_URL, secret: STRONG_SECRET }));
    app.use(auth({ client: clientFor(op, 'webApp'), baseUrl: BASE_URL }));
    app.use(async (ctx: Context, next: Next) => {
      if (ctx.path !== '/profile') return next();
      await requireAuth()(ctx, async () => {
        ctx.body = { name: ctx.state.user?.name };
      });
    });
    return app;
  }

  async function signIn(agent: ReturnType<typeof request.agent>): Promise<string> {
    const login = await agent.get('/login');
    const callback = new URL(await op.signIn(login.headers.location!, { username: 'alice' }));
    const done = await agent.get(`${callback.pathname}${callback.search}`);
    assert.equal(done.status, 302, done.text);
    return ([] as string[]).concat(done.headers['set-cookie'] ?? []).find((c) => c.startsWith('authflow.sid='))!.split(';')[0]!;
  }

  /** How the `cookies` package (Koa's) signs `name=value` with a key (keygrip: HMAC-SHA1, base64url). */
  const keygripSign = (data: string, key: string): string => createHmac('sha1', key).update(data).digest('base64url');

  it('finding 2: a session cookie forged with the app\'s weak app.keys is not accepted', async () => {
    const app = buildApp();
    // The cookie-session forgery: a whole session naming a user, signed with 'keyboard cat'.
    const forgedSession = Buffer.from(JSON.stringify({
      authflow: { user: { partition: 's.forged', account: { homeAccountId: 'x', environment: 'x', tenantId: 'x', username: 'mallory', localAccountId: 'x' }, claims: { name: 'Mallory' } } },
      _expire: Date.now() + 3_600_000, _maxAge: 3_600_000,
    })).toString('base64');
    const forged = `authflow.sid=${forgedSession}; authflow.sid.sig=${keygripSign(`authflow.sid=${forgedSession}`, 'keyboard cat')}`;
    const page = await request(app.callback()).get('/profile').set('cookie', forged).set('accept', 'application/json');
    assert.equal(page.status, 401, page.text);
    assert.equal(page.body.error, 'login_required');

    // A real session id, re-signed with 'keyboard cat' (koa-session's own format) or with an HMAC under that key.
    const agent = request.agent(app.callback());
    const id = (await signIn(agent)).slice('authflow.sid='.length).split('.')[0]!;
    assert.equal((await agent.get('/profile')).status, 200, 'the genuine cookie works');
    for (const cookie of [
      `authflow.sid=${id}; authflow.sid.sig=${keygripSign(`authflow.sid=${id}`, 'keyboard cat')}`,
      `authflow.sid=${id}.${createHmac('sha256', 'keyboard cat').update(id).digest('base64url')}`,
      `authflow.sid=${id}`,
    ]) {
      const refused = await request(app.callback()).get('/profile').set('cookie', cookie).set('accept', 'application/json');
      assert.equal(refused.status, 401, cookie);
      assert.equal(refused.body.error, 'login_required', cookie);
    }
  });

  it('finding 3: after /login the cookie holds only an opaque signed id, no verifier or nonce', async () => {
    const login = await request(buildApp().callback()).get('/login');
    assert.equal(login.status, 302);
    const cookies = ([] as string[]).concat(login.headers['set-cookie'] ?? []);
    assert.equal(cookies.length, 1, cookies.join(' | '));
    const value = cookies[0]!.split(';')[0]!.slice('authflow.sid='.length);
    assert.match(value, /^[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/);
    const decoded = Buffer.from(value, 'base64').toString('latin1');
    assert.doesNotMatch(decoded, /codeVerifier|nonce|signIns/);
    assert.ok(!value.includes(new URL(login.headers.location!).searchParams.get('nonce')!), 'the nonce is not in the cookie');
  });

  it('finding 3: a cookie copied before logout no longer works after logout', async () => {
    const app = buildApp();
    const agent = request.agent(app.callback());
    const copied = await signIn(agent);
    assert.equal((await request(app.callback()).get('/profile').set('cookie', copied)).status, 200, 'the copy works while signed in');
    assert.equal((await agent.post('/logout')).status, 302);
    const after = await request(app.callback()).get('/profile').set('cookie', copied).set('accept', 'application/json');
    assert.equal(after.status, 401);
    assert.equal(after.body.error, 'login_required');
  });

  it('finding 3: three tabs signing in with long returnTo values all fit (no flow_missing)', async () => {
    const app = buildApp();
    const agent = request.agent(app.callback());
    const logins = [];
    for (const tab of [1, 2, 3]) logins.push(await agent.get(`/login?returnTo=${encodeURIComponent(`/tab${tab}/${'x'.repeat(1900)}`)}`));
    for (const login of logins) assert.ok(String(login.headers['set-cookie'] ?? '').length < 200, 'the cookie stays small');
    const callback = new URL(await op.signIn(logins[0]!.headers.location!, { username: 'alice' }));
    const done = await agent.get(`${callback.pathname}${callback.search}`);
    assert.equal(done.status, 302, done.text);
    assert.equal(done.headers.location, `${BASE_URL}/tab1/${'x'.repeat(1900)}`);
  });

  it('finding 3: cookie-only koa-session under auth() is refused (500 invalid_config), never used', async () => {
    const app = new Koa();
    app.silent = true;
    app.keys = [STRONG_SECRET];
    app.use(session({ key: 'plain.sess' }, app));
    app.use(auth({ client: clientFor(op, 'webApp'), baseUrl: BASE_URL }));
    const login = await request(app.callback()).get('/login').set('accept', 'application/json');
    assert.equal(login.status, 500);
    assert.equal(login.body.error, 'invalid_config');
    assert.equal(login.headers['set-cookie'], undefined, 'nothing went to the browser');
  });

  it('finding 13: a form field named __proto__ is an ordinary field of a null-prototype body', () => {
    const form = parseUrlencoded('__proto__=a&__proto__=b&constructor=c&state=s');
    assert.equal(Object.getPrototypeOf(form), null);
    assert.deepEqual(Object.getOwnPropertyDescriptor(form, '__proto__')?.value, ['a', 'b']);
    assert.equal(form.constructor, 'c');
    assert.equal(form.state, 's');
    assert.equal(({} as Record<string, unknown>).state, undefined, 'nothing leaked into Object.prototype');
    const single = parseUrlencoded('__proto__=%7B%22polluted%22%3A1%7D');
    assert.equal(Object.getPrototypeOf(single), null);
    assert.equal((single as Record<string, unknown>).polluted, undefined);
  });

  it('finding 13: POST /callback with __proto__ fields gets the normal refusal (400 flow_missing)', async () => {
    const response = await request(buildApp().callback()).post('/callback').set('accept', 'application/json')
      .type('form').send('__proto__=a&__proto__=b&state=s&code=c');
    assert.equal(response.status, 400, response.text);
    assert.equal(response.body.error, 'flow_missing');
  });
});
