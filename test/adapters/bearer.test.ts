/** The requireBearer suite (bearerSuite.ts) against authflow/express, authflow/koa, authflow/fastify and authflow/hono. */
import type { RequestListener } from 'node:http';
import express from 'express';
import Koa from 'koa';
import Fastify from 'fastify';
import { decodeJwt } from 'jose';
import * as ex from '../../src/express/index.js';
import * as koa from '../../src/koa/index.js';
import * as fst from '../../src/fastify/index.js';
import { Hono } from 'hono';
import * as hono from '../../src/hono/index.js';
import { listenerOf as honoListener } from '../helpers/honoApp.js';
import { listenerOf } from '../helpers/fastifyApp.js';
import { bearerSuite } from './bearerSuite.js';
import { selected } from './select.js';

const OPTIONS = { audience: 'api://orders', scopes: ['Orders.Read'] };
const INVENTORY = ['api://inventory/Inventory.Read'];
const INVENTORY_APP = ['api://inventory/.default'];

if (selected('express')) bearerSuite({
  name: 'express',
  api: (orders, extra = {}) => {
    const app = express();
    app.use(ex.requireBearer({ client: orders, ...OPTIONS, ...extra }));
    // Rejections go to next() by hand: Express 4 does not do it for async handlers.
    app.get('/', (req, res) => res.json({ caller: req.auth?.oid }));
    app.get('/obo', (req, res, next) => req.getToken(INVENTORY).then((t) => res.json({ aud: decodeJwt(t).aud, caller: req.auth?.oid }), next));
    app.get('/app', (req, res, next) => req.getAppToken(INVENTORY_APP).then((t) => res.json({ aud: decodeJwt(t).aud }), next));
    app.use(ex.authErrors());
    return app as unknown as RequestListener;
  },
});

if (selected('koa')) bearerSuite({
  name: 'koa',
  api: (orders, extra = {}) => {
    const app = new Koa();
    app.silent = true;
    app.use(koa.requireBearer({ client: orders, ...OPTIONS, ...extra }));
    app.use(async (ctx) => {
      if (ctx.path === '/obo') ctx.body = { aud: decodeJwt(await ctx.getToken(INVENTORY)).aud, caller: ctx.state.auth?.oid };
      else if (ctx.path === '/app') ctx.body = { aud: decodeJwt(await ctx.getAppToken(INVENTORY_APP)).aud };
      else ctx.body = { caller: ctx.state.auth?.oid };
    });
    return app.callback();
  },
});

if (selected('fastify')) bearerSuite({
  name: 'fastify',
  api: (orders, extra = {}) => {
    const app = Fastify();
    app.register(fst.authErrors);
    app.register(async (api) => {
      api.addHook('preHandler', fst.requireBearer({ client: orders, ...OPTIONS, ...extra }));
      api.get('/', async (request) => ({ caller: request.auth?.oid }));
      api.get('/obo', async (request) => ({ aud: decodeJwt(await request.getToken(INVENTORY)).aud, caller: request.auth?.oid }));
      api.get('/app', async (request) => ({ aud: decodeJwt(await request.getAppToken(INVENTORY_APP)).aud }));
    });
    return listenerOf(app);
  },
});

if (selected('hono')) bearerSuite({
  name: 'hono',
  api: (orders, extra = {}) => {
    const app = new Hono<hono.AuthEnv>();
    app.use(hono.requireBearer({ client: orders, ...OPTIONS, ...extra }));
    app.get('/', (c) => c.json({ caller: c.var.auth?.oid }));
    app.get('/obo', async (c) => c.json({ aud: decodeJwt(await c.var.getToken(INVENTORY)).aud, caller: c.var.auth?.oid }));
    app.get('/app', async (c) => c.json({ aud: decodeJwt(await c.var.getAppToken(INVENTORY_APP)).aud }));
    app.onError(hono.authErrors());
    return honoListener(app);
  },
});
