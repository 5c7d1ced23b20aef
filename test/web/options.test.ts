/**
 * Middleware options are checked when the middleware is built, each refusal naming the option;
 * the session cookie's policy: Secure off localhost, and no start without a secret in production.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import Koa from 'koa';
import request from 'supertest';
import { AuthError, ConfidentialClient } from '../../src/index.js';
import { auth, authSession, requireBearer } from '../../src/express/index.js';
import * as koa from '../../src/koa/index.js';

const client = new ConfidentialClient({ clientId: 'app', authority: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0', credential: { secret: 's' } });
const SECRET = 'a-session-secret-of-at-least-32-characters';

function refuses(build: () => unknown, option: string): void {
  assert.throws(build, (err: unknown) => {
    assert.ok(err instanceof AuthError, String(err));
    assert.equal(err.code, 'invalid_config');
    assert.match(err.message, new RegExp(`option "${option.replace(/[.[\]]/g, '\\$&')}"`));
    return true;
  });
}

describe('auth() options', () => {
  const valid = { client, baseUrl: 'https://app.example' };
  it('accepts https and local http base URLs', () => {
    auth(valid);
    auth({ ...valid, baseUrl: 'http://localhost:3000' });
    auth({ ...valid, baseUrl: 'http://127.0.0.1:8080/app', routes: { backchannelLogout: '/bcl' }, idpLogout: { idTokenHint: true } });
  });
  it('refuses a missing client', () => refuses(() => auth({ ...valid, client: undefined as unknown as ConfidentialClient }), 'client'));
  it('refuses a missing base URL', () => refuses(() => auth({ ...valid, baseUrl: undefined as unknown as string }), 'baseUrl'));
  it('refuses an http base URL off localhost', () => refuses(() => auth({ ...valid, baseUrl: 'http://app.example' }), 'baseUrl'));
  it('refuses a base URL with a query', () => refuses(() => auth({ ...valid, baseUrl: 'https://app.example/?x=1' }), 'baseUrl'));
  it('refuses a route that is not a path', () => refuses(() => auth({ ...valid, routes: { login: 'login' } }), 'routes.login'));
  it('refuses a route with a double slash', () => refuses(() => auth({ ...valid, routes: { callback: '//cb' } }), 'routes.callback'));
  it('refuses scopes with spaces', () => refuses(() => auth({ ...valid, scopes: ['a b'] }), 'scopes'));
  it('refuses a maxSignIns out of range', () => refuses(() => auth({ ...valid, maxSignIns: 0 }), 'maxSignIns'));
  it('refuses an idpLogout that is neither boolean nor object', () => refuses(() => auth({ ...valid, idpLogout: 'yes' as unknown as boolean }), 'idpLogout'));
  it('refuses a relative post-logout URI', () => refuses(() => auth({ ...valid, postLogoutRedirectUri: '/bye' }), 'postLogoutRedirectUri'));
  it('refuses the same in the Koa adapter', () => refuses(() => koa.auth({ ...valid, baseUrl: 'http://app.example' }), 'baseUrl'));
  it('requireBearer refuses a missing audience and needs an authority without a client', () => {
    refuses(() => requireBearer({ client, audience: undefined as unknown as string }), 'audience');
    refuses(() => requireBearer({ audience: 'api://x' }), 'authority');
  });
});

describe('session cookie policy', () => {
  let nodeEnv: string | undefined;
  before(() => {
    nodeEnv = process.env.NODE_ENV;
  });
  after(() => {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  });

  it('refuses to start without a secret, or with a short one, when NODE_ENV=production', () => {
    process.env.NODE_ENV = 'production';
    try {
      refuses(() => authSession({ baseUrl: 'https://app.example' }), 'secret');
      refuses(() => authSession({ baseUrl: 'https://app.example', secret: 'short' }), 'secret');
      refuses(() => koa.authSession(new Koa(), { baseUrl: 'https://app.example' }), 'secret');
      authSession({ baseUrl: 'https://app.example', secret: SECRET });
    } finally {
      delete process.env.NODE_ENV;
    }
    authSession({ baseUrl: 'http://localhost:3000' }); // elsewhere: a random secret per process
  });

  it('refuses an http base URL off localhost for the cookie too', () => refuses(() => authSession({ baseUrl: 'http://app.example', secret: SECRET }), 'baseUrl'));

  it('marks the cookie Secure, HttpOnly and SameSite=Lax for an https app', async () => {
    const app = express();
    app.set('trust proxy', 1);
    app.use(authSession({ baseUrl: 'https://app.example', secret: SECRET }));
    app.use(auth({ client, baseUrl: 'https://app.example' }));
    app.get('/touch', (req, res) => {
      (req.session as unknown as Record<string, unknown>).visited = true;
      res.send('ok');
    });
    const answer = await request(app).get('/touch').set('x-forwarded-proto', 'https');
    const cookie = ([] as string[]).concat(answer.headers['set-cookie'] ?? []).find((c) => c.startsWith('authflow.sid='));
    assert.ok(cookie, 'a session cookie');
    assert.match(cookie, /; Secure/i);
    assert.match(cookie, /; HttpOnly/i);
    assert.match(cookie, /; SameSite=Lax/i);
  });
});
