/** The web adapter suites (webSuite.ts, backchannelSuite.ts) against authflow/express, authflow/koa, authflow/fastify and authflow/hono. */
import { buildExpressApp } from '../helpers/expressApp.js';
import { buildKoaApp } from '../helpers/koaApp.js';
import { buildFastifyApp } from '../helpers/fastifyApp.js';
import { buildHonoApp } from '../helpers/honoApp.js';
import { backchannelSuite } from './backchannelSuite.js';
import { selected } from './select.js';
import { webSuite, type WebAdapterUnderTest } from './webSuite.js';

const adapters: WebAdapterUnderTest[] = [{
  name: 'express',
  build: (op, options) => {
    const { app, client } = buildExpressApp(op, options);
    return { handler: app as never, client };
  },
  // express-session: `s:<id>.<signature>`, URL-encoded.
  sessionIdOf: (value) => decodeURIComponent(value).replace(/^s:/, '').split('.')[0]!,
  cookieFormat: /^authflow\.sid=s%3A[A-Za-z0-9_-]{32}\.[A-Za-z0-9%+/]+;/,
  clearsCookieAtLogout: false,
}, {
  name: 'koa',
  build: (op, options) => {
    const { app, client } = buildKoaApp(op, options);
    return { handler: app.callback(), client };
  },
  // authflow's signed cookie for koa-session: `<uuid>.<HMAC>`.
  sessionIdOf: (value) => value.split('.')[0]!,
  cookieFormat: /^authflow\.sid=[0-9a-f-]{36}\.[A-Za-z0-9_-]{43};/,
  clearsCookieAtLogout: true,
}, {
  name: 'fastify',
  build: (op, options) => {
    const { handler, client } = buildFastifyApp(op, options);
    return { handler, client };
  },
  // @fastify/session: `<id>.<signature>`, URL-encoded.
  sessionIdOf: (value) => decodeURIComponent(value).split('.')[0]!,
  cookieFormat: /^authflow\.sid=[A-Za-z0-9_-]{32}\.[A-Za-z0-9%+/]+;/,
  clearsCookieAtLogout: false,
}, {
  name: 'hono',
  build: (op, options) => {
    const { handler, client } = buildHonoApp(op, options);
    return { handler, client };
  },
  // authflow/hono's own session cookie: `<random id>.<HMAC>`.
  sessionIdOf: (value) => value.split('.')[0]!,
  cookieFormat: /^authflow\.sid=[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]{43};/,
  clearsCookieAtLogout: true,
}];

for (const adapter of adapters.filter((a) => selected(a.name))) {
  webSuite(adapter);
  backchannelSuite(adapter);
}
