/** The first-hour suite (see firstHourSuite.ts) against authflow/koa. */
import Koa from 'koa';
import session from 'koa-session';
import { auth, authSession, redisSessionStore, requireAuth, requireBearer } from '../../src/koa/index.js';
import { BASE_URL, INVENTORY, ORDERS } from '../helpers/expressApp.js';
import { buildKoaApp } from '../helpers/koaApp.js';
import { clientFor } from '../helpers/op.js';
import { firstHourSuite } from './firstHourSuite.js';

firstHourSuite({
  name: 'koa',
  app: (op, options) => {
    const { app, client } = buildKoaApp(op, options);
    return { handler: app.callback(), client };
  },
  withoutSession: (op) => {
    const app = new Koa();
    app.silent = true;
    app.use(auth({ client: clientFor(op, 'webApp'), baseUrl: BASE_URL }));
    return app.callback();
  },
  authAfterRoutes: (op) => {
    const app = new Koa();
    app.silent = true;
    app.use(authSession(app, { baseUrl: BASE_URL }));
    app.use(async (ctx, next) => {
      if (ctx.path !== '/orders') return next();
      ctx.body = { token: (await ctx.getToken(ORDERS)).length };
    });
    app.use(auth({ client: clientFor(op, 'webApp'), baseUrl: BASE_URL }));
    return app.callback();
  },
  requireAuthWithoutAuth: () => {
    const app = new Koa();
    app.silent = true;
    app.keys = ['k'];
    app.use(session({}, app));
    app.use(requireAuth());
    return app.callback();
  },
  withSessionRedis: (op, redis, prefix) => {
    const app = new Koa();
    app.silent = true;
    app.use(authSession(app, { baseUrl: BASE_URL, store: redisSessionStore({ client: redis, prefix }) }));
    app.use(auth({ client: clientFor(op, 'webApp'), baseUrl: BASE_URL }));
    return app.callback();
  },
  api: (orders) => {
    const app = new Koa();
    app.silent = true;
    app.use(requireBearer({ client: orders, audience: 'api://orders', scopes: ['Orders.Read'] }));
    app.use(async (ctx) => {
      ctx.body = { token: (await ctx.getToken(INVENTORY)).length };
    });
    return app.callback();
  },
});
