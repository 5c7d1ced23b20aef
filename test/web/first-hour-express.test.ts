/** The first-hour suite (see firstHourSuite.ts) against authflow/express. */
import express from 'express';
import { RedisStore } from 'connect-redis';
import { auth, authErrors, authSession, requireAuth, requireBearer } from '../../src/express/index.js';
import { BASE_URL, buildExpressApp, INVENTORY, ORDERS } from '../helpers/expressApp.js';
import { clientFor } from '../helpers/op.js';
import { firstHourSuite } from './firstHourSuite.js';

firstHourSuite({
  name: 'express',
  app: (op, options) => {
    const { app, client } = buildExpressApp(op, options);
    return { handler: app, client };
  },
  withoutSession: (op) => {
    const app = express();
    app.use(auth({ client: clientFor(op, 'webApp'), baseUrl: BASE_URL }));
    app.use(authErrors());
    return app;
  },
  authAfterRoutes: (op) => {
    const app = express();
    app.use(authSession({ baseUrl: BASE_URL }));
    app.get('/orders', (req, res, next) => {
      req.getToken(ORDERS).then((token) => res.json({ token: token.length }), next);
    });
    app.use(auth({ client: clientFor(op, 'webApp'), baseUrl: BASE_URL }));
    app.use(authErrors());
    return app;
  },
  requireAuthWithoutAuth: () => {
    const app = express();
    app.use(authSession({ baseUrl: BASE_URL }));
    app.get('/profile', requireAuth(), (_req, res) => res.json({}));
    app.use(authErrors());
    return app;
  },
  withSessionRedis: (op, redis, prefix) => {
    const app = express();
    app.use(authSession({ baseUrl: BASE_URL, store: new RedisStore({ client: redis, prefix }) }));
    app.use(auth({ client: clientFor(op, 'webApp'), baseUrl: BASE_URL }));
    app.use(authErrors());
    return app;
  },
  api: (orders) => {
    const app = express();
    app.get('/orders', requireBearer({ client: orders, audience: 'api://orders', scopes: ['Orders.Read'] }), (req, res, next) => {
      req.getToken(INVENTORY).then((token) => res.json({ token: token.length }), next);
    });
    app.use(authErrors());
    return app;
  },
});
