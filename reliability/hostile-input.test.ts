/**
 * Hostile input over every public HTTP surface of both adapters: /login, /callback (GET and
 * POST), /logout, back-channel logout and a bearer-protected route, sent over raw sockets so
 * nothing is cleaned up on the way: oversized and repeated query parameters, non-UTF-8 bytes,
 * arrays where strings are expected, very long cookies, unknown methods. Every answer must be a
 * 2xx/3xx/4xx, never a 5xx, never a stack trace.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import express from 'express';
import Koa from 'koa';
import { auth, authErrors, authSession, requireAuth, requireBearer } from '../src/express/index.js';
import * as koa from '../src/koa/index.js';
import { clientFor, startDevOp, type DevOp } from '../test/helpers/op.js';
import { countBy, report } from './harness.js';

const BASE = 'http://localhost:3000';
const STACK_TRACE = /\bat [\w$.<>]+ \(?[^)\s]*\.(?:js|ts|mjs|cjs):\d+/;

/** Sends raw bytes and resolves to the status and body (or status 0 when the server hung up). */
function raw(port: number, head: string, body = ''): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text });
    });
    socket.write(Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from('\r\n'), Buffer.from(body, 'latin1')]));
  });
}

function request(method: string, target: string, headers: Record<string, string> = {}, body = ''): [string, string] {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...Object.entries({ ...headers, ...(body ? { 'content-length': String(Buffer.byteLength(body, 'latin1')) } : {}) }).map(([k, v]) => `${k}: ${v}`), ''];
  return [lines.join('\r\n'), body];
}

const form = { 'content-type': 'application/x-www-form-urlencoded' };
const long = (n: number) => 'a'.repeat(n);

/** The hostile requests: each is [label, head, body]. */
function hostileRequests(): Array<[string, string, string]> {
  const cases: Array<[string, [string, string]]> = [
    ['login: oversized returnTo', request('GET', `/login?returnTo=/${long(8000)}`)],
    ['login: repeated returnTo', request('GET', `/login?${Array.from({ length: 200 }, (_, i) => `returnTo=/p${i}`).join('&')}`)],
    ['login: returnTo as array', request('GET', '/login?returnTo[]=/x&returnTo[a]=b')],
    ['login: non-UTF-8 bytes', request('GET', '/login?returnTo=/%FF%FE%C0%AF')],
    ['login: very long cookie', request('GET', '/login', { cookie: `authflow.sid=s%3A${long(12000)}` })],
    ['login: forged signed cookie', request('GET', '/login', { cookie: 'authflow.sid=s%3Aabc.forgedsignature' })],
    ['login: unknown method', request('PROPFIND', '/login')],
    ['callback: no parameters', request('GET', '/callback')],
    ['callback: state as array', request('GET', '/callback?state[]=x&code[]=y')],
    ['callback: repeated state', request('GET', '/callback?state=a&state=b&code=c')],
    ['callback: oversized code', request('GET', `/callback?state=x&code=${long(12000)}`)],
    ['callback: non-UTF-8 bytes', request('GET', '/callback?state=%FF%FE&code=%80&iss=%C3%28')],
    ['callback: error with junk', request('GET', `/callback?state=x&error=${long(3000)}&error_description=%FF`)],
    ['callback: POST oversized body', request('POST', '/callback', form, `state=x&code=${long(40000)}`)],
    ['callback: POST malformed body', request('POST', '/callback', form, 'state=%%%&code=%ZZ&&&=')],
    ['callback: POST JSON body', request('POST', '/callback', { 'content-type': 'application/json' }, '{"state":"x"}')],
    ['callback: unknown method', request('DELETE', '/callback?state=x')],
    ['logout: junk query', request('GET', `/logout?${long(4000)}=%FF`)],
    ['logout: unknown method', request('PUT', '/logout', form, 'x=1')],
    ['back-channel: no token', request('POST', '/backchannel-logout', form, '')],
    ['back-channel: token as array', request('POST', '/backchannel-logout', form, 'logout_token=a&logout_token=b')],
    ['back-channel: junk token', request('POST', '/backchannel-logout', form, `logout_token=${long(9000)}`)],
    ['back-channel: non-UTF-8', request('POST', '/backchannel-logout', form, 'logout_token=%FF%FE.%80.%C0')],
    ['back-channel: GET', request('GET', '/backchannel-logout')],
    ['protected page: long cookie', request('GET', '/profile', { cookie: `authflow.sid=${long(14000)}` })],
    ['bearer: none', request('GET', '/api')],
    ['bearer: doubled', request('GET', '/api', { authorization: 'Bearer a.b.c, Bearer d.e.f' })],
    ['bearer: non-UTF-8', request('GET', '/api', { authorization: 'Bearer \xff\xfe.\x80.\xc0' })],
    ['bearer: oversized', request('GET', '/api', { authorization: `Bearer ${long(14000)}` })],
    ['bearer: JSON segments', request('GET', '/api', { authorization: `Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.` })],
    ['bearer: huge query', request('GET', `/api?${Array.from({ length: 1000 }, (_, i) => `q${i}=%FF`).join('&')}`)],
    ['raw non-UTF-8 path', request('GET', '/login/\xff\xfe')],
  ];
  return cases.map(([label, [head, body]]) => [label, head, body]);
}

describe('hostile input', () => {
  let op: DevOp;
  const servers: Server[] = [];
  const ports: Record<string, number> = {};

  before(async () => {
    op = await startDevOp();
    const options = () => ({ client: clientFor(op, 'webApp'), baseUrl: BASE, scopes: ['api://orders/Orders.Read'], routes: { backchannelLogout: '/backchannel-logout' } });
    const bearer = () => ({ client: clientFor(op, 'orders'), audience: 'api://orders', scopes: ['Orders.Read'] });

    const app = express();
    app.use(authSession({ baseUrl: BASE }));
    app.use(auth(options()));
    app.get('/profile', requireAuth(), (_req, res) => res.json({ ok: true }));
    app.get('/api', requireBearer(bearer()), (_req, res) => res.json({ ok: true }));
    app.use(authErrors());

    const koaApp = new Koa();
    koaApp.use(koa.authSession(koaApp, { baseUrl: BASE }));
    koaApp.use(koa.auth(options()));
    const koaBearer = koa.requireBearer(bearer());
    koaApp.use(async (ctx, next) => {
      if (ctx.path === '/profile') return koa.requireAuth()(ctx, async () => { ctx.body = { ok: true }; });
      if (ctx.path === '/api') return koaBearer(ctx, async () => { ctx.body = { ok: true }; });
      return next();
    });

    for (const [name, handler] of [['express', app], ['koa', koaApp.callback()]] as const) {
      const server = createServer(handler as Parameters<typeof createServer>[0]);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push(server);
      ports[name] = (server.address() as AddressInfo).port;
    }
  });
  after(async () => {
    for (const server of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
    await op.close();
  });

  for (const adapter of ['express', 'koa']) {
    it(`${adapter}: answers every hostile request without a 5xx or a stack trace`, { timeout: 60_000 }, async () => {
      const outcomes: Array<{ label: string; status: number }> = [];
      for (const [label, head, body] of hostileRequests()) {
        const { status, text } = await raw(ports[adapter]!, head, body);
        outcomes.push({ label, status });
        assert.ok(status >= 200 && status < 500, `${label}: ${status} ${text.slice(0, 300)}`);
        assert.doesNotMatch(text, STACK_TRACE, `${label}: a stack trace`);
      }
      const unknownMethods = outcomes.filter((o) => /unknown method|GET$/.test(o.label));
      assert.ok(unknownMethods.every((o) => o.status >= 400), 'unknown methods are refused');
      const callbacks = outcomes.filter((o) => o.label.startsWith('callback') || o.label.startsWith('back-channel') || o.label.startsWith('bearer'));
      assert.ok(callbacks.every((o) => o.status >= 400), `refused: ${JSON.stringify(callbacks.filter((o) => o.status < 400))}`);
      report(`hostile-input-${adapter}`, {
        requests: outcomes.length,
        statuses: [...countBy(outcomes, (o) => o.status)].map(([s, n]) => `${s}x${n}`).join(' '),
        fiveHundreds: outcomes.filter((o) => o.status >= 500).length,
      });
    });
  }
});
