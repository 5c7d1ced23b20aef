/**
 * The adapter kit below the HTTP suites: the route table (method + path → handler, and whether it
 * reads a body) and the form reader (raw-body, limits, charset, encoding), over a real node:http server.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import request from 'supertest';
import { AuthError, ConfidentialClient } from '../../src/index.js';
import { MAX_FORM_BYTES, readForm } from '../../src/web/form.js';
import { routeTable } from '../../src/web/routes.js';
import { WebAuth } from '../../src/web/webAuth.js';
import { RequestStates } from '../../src/web/requestStates.js';
import { guardCallbackStore, guarded } from '../../src/web/storeGuard.js';

const client = new ConfidentialClient({ clientId: 'app', authority: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0', credential: { secret: 's' } });

describe('routeTable', () => {
  const routes = routeTable(new WebAuth({ client, baseUrl: 'https://app.example', routes: { login: '/signin', backchannelLogout: '/bcl' } }));
  const table: Array<[string, string, boolean | undefined]> = [
    ['GET', '/signin', false], ['GET', '/login', undefined], ['POST', '/signin', undefined],
    ['GET', '/callback', false], ['POST', '/callback', true],
    ['GET', '/logout', false], ['POST', '/logout', false], ['PUT', '/logout', undefined],
    ['POST', '/bcl', true], ['GET', '/bcl', undefined], ['GET', '/other', undefined],
  ];
  for (const [method, path, readsBody] of table) {
    it(`${method} ${path} → ${readsBody === undefined ? 'not authflow\'s' : readsBody ? 'reads a body' : 'no body'}`, () => {
      assert.equal(routes.match(method, path)?.readsBody, readsBody);
    });
  }
  it('lists every route it matches (for frameworks that register each route: Fastify)', () => {
    const listed = routes.list.map(({ method, path }) => `${method} ${path}`).sort();
    assert.deepEqual(listed, ['GET /callback', 'GET /logout', 'GET /signin', 'POST /bcl', 'POST /callback', 'POST /logout']);
    for (const { method, path } of routes.list) assert.ok(routes.match(method, path));
  });
  it('no back-channel route unless configured', () => {
    assert.equal(routeTable(new WebAuth({ client, baseUrl: 'https://app.example' })).match('POST', '/backchannel-logout'), undefined);
  });
});

describe('readForm', () => {
  const server = createServer((req, res) => {
    readForm(req).then((form) => res.end(JSON.stringify({ form })), (err: AuthError) => {
      res.statusCode = err.status;
      res.end(JSON.stringify({ reason: err.reason }));
    });
  });
  const post = (type: string | undefined, body: string | Buffer, headers: Record<string, string> = {}) => {
    const r = request(server).post('/').set(headers);
    return (type ? r.set('content-type', type) : r).send(body);
  };

  const table: Array<[string, string | undefined, string | Buffer, Record<string, string>, number, unknown]> = [
    ['a form', 'application/x-www-form-urlencoded', 'a=1&b=2', {}, 200, { form: { a: '1', b: '2' } }],
    ['utf-8 charset', 'application/x-www-form-urlencoded; charset=UTF-8', 'a=%C3%A9', {}, 200, { form: { a: 'é' } }],
    ['a repeated name', 'application/x-www-form-urlencoded', 'a=1&a=2', {}, 200, { form: { a: ['1', '2'] } }],
    ['another type: an empty form', 'application/json', '{"a":1}', {}, 200, { form: {} }],
    ['too large', 'application/x-www-form-urlencoded', `a=${'x'.repeat(MAX_FORM_BYTES)}`, {}, 413, { reason: 'body_too_large' }],
    ['too many fields', 'application/x-www-form-urlencoded', Array.from({ length: 51 }, (_, i) => `f${i}=1`).join('&'), {}, 413, { reason: 'body_too_large' }],
    ['another charset', 'application/x-www-form-urlencoded; charset=iso-8859-1', 'a=1', {}, 415, { reason: 'body_unsupported' }],
    ['a content encoding', 'application/x-www-form-urlencoded', 'a=1', { 'content-encoding': 'gzip' }, 415, { reason: 'body_unsupported' }],
  ];
  for (const [name, type, body, headers, status, answer] of table) {
    it(name, async () => {
      const response = await post(type, body, headers);
      assert.equal(response.status, status, response.text);
      assert.deepEqual(JSON.parse(response.text), answer);
    });
  }
  it('a __proto__ field is an ordinary field', async () => {
    const response = await post('application/x-www-form-urlencoded', '__proto__=x&state=s');
    const { form } = JSON.parse(response.text) as { form: Record<string, unknown> };
    assert.ok(Object.hasOwn(form, '__proto__'));
    assert.equal(form.state, 's');
  });
});

describe('RequestStates', () => {
  it('keeps one state per request, made at the first of(), and none before', () => {
    const states = new RequestStates<object, { n?: number }>(() => ({}));
    const [a, b] = [{}, {}];
    assert.equal(states.peek(a), undefined);
    states.of(a).n = 1;
    assert.equal(states.of(a), states.peek(a));
    assert.deepEqual([states.peek(a)?.n, states.peek(b)], [1, undefined]);
    assert.notEqual(states.of(b), states.of(a));
  });
});

describe('guardCallbackStore (express-session and Fastify stores)', () => {
  const guard = { timeoutMs: 100, client: undefined };
  type Cb = (err?: unknown, value?: unknown) => void;
  const through = (get: (sid: string, cb: Cb) => unknown): Promise<{ err?: unknown; value?: unknown }> => new Promise((resolve) => {
    (guardCallbackStore({ get, set() {}, destroy() {} }, guard) as unknown as { get(sid: string, cb: Cb): void }).get('sid', (err, value) => resolve({ err, value }));
  });
  const failure = (outcome: { err?: unknown }, reason: string): void => {
    assert.ok(outcome.err instanceof AuthError, String(outcome.err));
    assert.deepEqual([outcome.err.code, outcome.err.reason], ['store_unavailable', reason]);
  };

  it('hands the value on, after the store\'s own call has returned (the app never runs inside the store\'s code)', async () => {
    const order: string[] = [];
    const outcome = through((_sid, cb) => { cb(null, 'data'); order.push('store returned'); });
    assert.deepEqual(await outcome, { err: null, value: 'data' });
    assert.deepEqual(order, ['store returned']);
  });

  it('an error, a throw, a rejected promise (connect-redis 8) and silence are each store_unavailable', async () => {
    failure(await through((_sid, cb) => cb(new Error('ECONNRESET'))), 'store_failed');
    failure(await through(() => { throw new Error('bug'); }), 'store_failed');
    failure(await through(() => Promise.reject(new Error('closed'))), 'store_failed');
    const started = Date.now();
    failure(await through(() => undefined), 'store_timeout');
    assert.ok(Date.now() - started < 1_000);
  });

  it('answers once: a store calling back after its timeout, or twice, changes nothing', async () => {
    let late: Cb | undefined;
    const calls: unknown[] = [];
    const store = guardCallbackStore({ get: (_sid: string, cb: Cb) => { late = cb; }, set() {}, destroy() {} }, guard) as unknown as { get(sid: string, cb: Cb): void };
    await new Promise<void>((resolve) => store.get('sid', (err) => { calls.push((err as AuthError).reason); resolve(); }));
    late!(null, 'too late');
    late!(new Error('and again'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(calls, ['store_timeout']);
  });
});

describe('guarded (koa-session and Hono stores, promise style)', () => {
  const guard = { timeoutMs: 100, client: undefined };
  const thenable = (settle: (resolve: (v: unknown) => void, reject: (e: unknown) => void) => void): PromiseLike<unknown> => ({
    then: (onFulfilled, onRejected) => new Promise(settle).then(onFulfilled, onRejected),
  });
  const reasonOf = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => 'resolved', (err: unknown) => (err instanceof AuthError ? err.reason : String(err)));

  it('follows a store\'s own thenable as a promise: its value, its rejection, its silence', async () => {
    assert.equal(await guarded(guard, 'read', () => thenable((resolve) => resolve('data'))), 'data');
    assert.equal(await reasonOf(guarded(guard, 'read', () => thenable((_r, reject) => reject(new Error('down'))))), 'store_failed');
    assert.equal(await reasonOf(guarded(guard, 'read', () => thenable(() => {}))), 'store_timeout');
    assert.equal(await guarded(guard, 'read', () => 'plain'), 'plain');
    assert.equal(await reasonOf(guarded(guard, 'read', () => { throw new Error('bug'); })), 'store_failed');
  });
});
