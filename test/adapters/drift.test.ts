/**
 * The drift items of issue 18, each run against every adapter so that they cannot drift again:
 * - a form body is read only on the routes that need one (Koa read it on every POST);
 * - a session store that does not answer fails within `storeTimeoutMs` with 503 (Express only);
 * - a refused form_post callback answers `no-store` (only the Koa suite tested it);
 * - content negotiation through the framework's `accepts` (q-values), not a hand-written scan;
 * - a store that fails while the session loads answers authflow's 503 page (Koa answered Koa's text).
 * Dev OP and real HTTP (supertest); the hanging and failing stores are fakes, since a real store
 * cannot be made to hang on demand (said where used).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestListener } from 'node:http';
import express from 'express';
import session from 'express-session';
import Koa from 'koa';
import Fastify from 'fastify';
import type { SessionStore } from '@fastify/session';
import request from 'supertest';
import * as ex from '../../src/express/index.js';
import * as koa from '../../src/koa/index.js';
import * as fst from '../../src/fastify/index.js';
import { listenerOf } from '../helpers/fastifyApp.js';
import { Hono } from 'hono';
import * as hono from '../../src/hono/index.js';
import { listenerOf as honoListener } from '../helpers/honoApp.js';
import { clientFor, startDevOp, type DevOp } from '../helpers/op.js';
import { selected } from './select.js';

const BASE_URL = 'http://localhost:3000';

/** A session store whose reads can be made to hang or fail (a fault Redis cannot produce on demand). */
function faultyMemory() {
  const data = new Map<string, unknown>();
  const fault: { mode: 'none' | 'hang' | 'fail' } = { mode: 'none' };
  const get = async (key: string): Promise<unknown> => {
    if (fault.mode === 'hang') return new Promise(() => {});
    if (fault.mode === 'fail') throw new Error('store down');
    return data.get(key);
  };
  return { data, fault, get };
}

interface Adapter {
  name: string;
  app(op: DevOp): { handler: RequestListener; fault: { mode: 'none' | 'hang' | 'fail' } };
}

const adapters: Adapter[] = [
  {
    name: 'express',
    app(op) {
      const m = faultyMemory();
      class Store extends session.Store {
        get(sid: string, cb: (err: unknown, s?: session.SessionData | null) => void): void {
          m.get(sid).then((s) => cb(null, (s as session.SessionData) ?? null), cb);
        }
        set(sid: string, s: session.SessionData, cb?: (err?: unknown) => void): void {
          m.data.set(sid, JSON.parse(JSON.stringify(s)));
          cb?.();
        }
        destroy(sid: string, cb?: (err?: unknown) => void): void {
          m.data.delete(sid);
          cb?.();
        }
      }
      const app = express();
      app.use(ex.authSession({ baseUrl: BASE_URL, store: new Store(), storeTimeoutMs: 200 }));
      app.use(ex.auth({ client: clientFor(op, 'webApp'), baseUrl: BASE_URL }));
      app.get('/profile', ex.requireAuth(), (_req, res) => res.json({ ok: true }));
      app.use(ex.authErrors());
      return { handler: app as unknown as RequestListener, fault: m.fault };
    },
  },
  {
    name: 'koa',
    app(op) {
      const m = faultyMemory();
      const store = {
        get: (key: string) => m.get(key) as Promise<Record<string, unknown> | undefined>,
        set: async (key: string, value: Record<string, unknown>) => void m.data.set(key, value),
        destroy: async (key: string) => void m.data.delete(key),
      };
      const app = new Koa();
      app.silent = true;
      app.use(koa.authSession(app, { baseUrl: BASE_URL, store, storeTimeoutMs: 200 }));
      app.use(koa.auth({ client: clientFor(op, 'webApp'), baseUrl: BASE_URL }));
      const guard = koa.requireAuth();
      app.use(async (ctx, next) => (ctx.path === '/profile' ? guard(ctx, async () => void (ctx.body = { ok: true })) : next()));
      return { handler: app.callback(), fault: m.fault };
    },
  },
  {
    name: 'fastify',
    app(op) {
      const m = faultyMemory();
      // An express-session-style (callback) store, as @fastify/session takes.
      const store: SessionStore = {
        get: (sid, cb) => void m.get(sid).then((s) => cb(null, (s ?? null) as Parameters<typeof cb>[1]), cb),
        set: (sid, s, cb) => void (m.data.set(sid, JSON.parse(JSON.stringify(s))), cb()),
        destroy: (sid, cb) => void (m.data.delete(sid), cb()),
      };
      const app = Fastify();
      app.register(fst.authSession, { baseUrl: BASE_URL, store, storeTimeoutMs: 200 });
      app.register(fst.auth, { client: clientFor(op, 'webApp'), baseUrl: BASE_URL });
      app.get('/profile', { preHandler: fst.requireAuth() }, async () => ({ ok: true }));
      return { handler: listenerOf(app), fault: m.fault };
    },
  },
  {
    name: 'hono',
    app(op) {
      const m = faultyMemory();
      // authflow/hono's own (promise-style) store contract.
      const store = {
        get: (key: string) => m.get(key) as Promise<Record<string, unknown> | undefined>,
        set: async (key: string, value: Record<string, unknown>) => void m.data.set(key, value),
        destroy: async (key: string) => void m.data.delete(key),
      };
      const app = new Hono<hono.AuthEnv>();
      app.use(hono.authSession({ baseUrl: BASE_URL, store, storeTimeoutMs: 200 }));
      app.use(hono.auth({ client: clientFor(op, 'webApp'), baseUrl: BASE_URL }));
      app.get('/profile', hono.requireAuth(), (c) => c.json({ ok: true }));
      app.onError(hono.authErrors());
      return { handler: honoListener(app), fault: m.fault };
    },
  },
];

describe('adapter kit: the drift items, the same on every adapter', () => {
  let op: DevOp;
  before(async () => {
    op = await startDevOp();
  });
  after(() => op.close());

  for (const adapter of adapters.filter((a) => selected(a.name))) {
    describe(adapter.name, () => {
      it('reads a form body only on routes that need one: POST /logout ignores a 40 KB body', async () => {
        const { handler } = adapter.app(op);
        const out = await request(handler).post('/logout').type('form').send(`x=${'a'.repeat(40_000)}`);
        assert.equal(out.status, 302, out.text);
        const callback = await request(handler).post('/callback').type('form').send(`state=x&code=${'a'.repeat(40_000)}`);
        assert.equal(callback.status, 413, callback.text);
      });

      it('a refused form_post callback answers no-store with the reason', async () => {
        const { handler } = adapter.app(op);
        const refused = await request(handler).post('/callback').set('accept', 'application/json').type('form').send({ state: 'unknown', code: 'c' });
        assert.equal(refused.status, 400);
        assert.equal(refused.headers['cache-control'], 'no-store');
        assert.equal(refused.body.error, 'flow_missing');
      });

      it('content negotiation weighs q-values (the framework\'s accepts): JSON preferred over a low-q HTML gets a 401, not a redirect', async () => {
        const { handler } = adapter.app(op);
        const api = await request(handler).get('/profile').set('accept', 'text/html;q=0.1, application/json');
        assert.equal(api.status, 401, api.text);
        assert.equal(api.body.error, 'login_required');
        const page = await request(handler).get('/profile').set('accept', 'text/html,application/xhtml+xml,*/*;q=0.8');
        assert.equal(page.status, 302);
      });

      it('a session store that does not answer fails within storeTimeoutMs with 503 store_unavailable', async () => {
        const { handler, fault } = adapter.app(op);
        const agent = request.agent(handler);
        const login = await agent.get('/login');
        assert.equal(login.status, 302);
        fault.mode = 'hang';
        const started = Date.now();
        const stuck = await agent.get('/profile').set('accept', 'application/json');
        assert.equal(stuck.status, 503, stuck.text);
        assert.equal(stuck.body.error, 'store_unavailable');
        assert.ok(Date.now() - started < 2_000, `answered after ${Date.now() - started} ms`);
      });

      it('a session store that fails while the session loads answers authflow\'s 503 page', async () => {
        const { handler, fault } = adapter.app(op);
        const agent = request.agent(handler);
        assert.equal((await agent.get('/login')).status, 302);
        fault.mode = 'fail';
        const page = await agent.get('/profile');
        assert.equal(page.status, 503);
        assert.match(page.text, /id="error-code">store_unavailable</);
      });
    });
  }
});
