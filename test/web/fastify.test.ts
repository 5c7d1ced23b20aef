/**
 * Where Fastify differs from Express and Koa (the shared behaviour is test/adapters/): plugins and
 * encapsulation. authflow's routes read their own bodies without taking the app's body parsers
 * away; the error handler answers authflow's errors and hands the others on to Fastify's; a
 * `request.user` assigned by another plugin (passport-style) is kept; `@fastify/cookie` registered
 * by the app is not registered twice. Dev OP, real HTTP (supertest), in-memory sessions.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import fastifyCookie from '@fastify/cookie';
import request from 'supertest';
import { auth, authSession, requireAuth } from '../../src/fastify/index.js';
import { listenerOf } from '../helpers/fastifyApp.js';
import { clientFor, startDevOp, type DevOp } from '../helpers/op.js';

const BASE_URL = 'http://localhost:3000';

describe('authflow/fastify: where Fastify differs', () => {
  let op: DevOp;
  before(async () => {
    op = await startDevOp();
  });
  after(() => op.close());

  function app(setup: (app: ReturnType<typeof Fastify>) => void = () => {}) {
    const fastify = Fastify();
    setup(fastify);
    fastify.register(authSession, { baseUrl: BASE_URL });
    fastify.register(auth, { client: clientFor(op, 'webApp'), baseUrl: BASE_URL });
    fastify.post('/echo', async (req) => ({ body: req.body as unknown }));
    fastify.get('/teapot', async () => {
      throw Object.assign(new Error('short and stout'), { statusCode: 418 });
    });
    fastify.get('/passport', { preHandler: async (req) => void (req.user = { name: 'from another plugin' }) }, async (req) => ({ user: req.user, account: req.account ?? null }));
    fastify.get('/profile', { preHandler: requireAuth() }, async (req) => ({ name: req.user?.name }));
    return listenerOf(fastify);
  }

  it('keeps the app\'s body parsers on its own routes (authflow\'s routes read their own bodies)', async () => {
    const handler = app();
    const echo = await request(handler).post('/echo').send({ a: 1 });
    assert.equal(echo.status, 200, echo.text);
    assert.deepEqual(echo.body, { body: { a: 1 } });
    // authflow's form_post callback reads its urlencoded body, which Fastify alone would refuse (415).
    const callback = await request(handler).post('/callback').set('accept', 'application/json').type('form').send({ state: 'unknown', code: 'c' });
    assert.equal(callback.status, 400, callback.text);
    assert.equal(callback.body.error, 'flow_missing');
  });

  it('hands errors that are not authflow\'s on to Fastify\'s own error handler', async () => {
    const teapot = await request(app()).get('/teapot');
    assert.equal(teapot.status, 418, teapot.text);
    assert.equal(teapot.body.message, 'short and stout');
  });

  it('keeps a request.user another plugin assigns, and sends a signed-out user to sign in', async () => {
    const handler = app();
    const passport = await request(handler).get('/passport');
    assert.equal(passport.status, 200, passport.text);
    assert.deepEqual(passport.body, { user: { name: 'from another plugin' }, account: null });
    const page = await request(handler).get('/profile');
    assert.equal(page.status, 302);
    assert.match(page.headers.location!, /^\/login\?returnTo=/);
  });

  it('answers HEAD on authflow\'s GET routes as an unknown route (no sign-in started, no session), as Express and Koa do', async () => {
    const head = await request(app()).head('/login');
    assert.equal(head.status, 404);
    assert.equal(head.headers['set-cookie'], undefined);
  });

  it('does not register @fastify/cookie a second time when the app already has it', async () => {
    const handler = app((fastify) => void fastify.register(fastifyCookie));
    const login = await request(handler).get('/login');
    assert.equal(login.status, 302, login.text);
    assert.ok(login.headers.location!.startsWith(op.url));
  });
});
