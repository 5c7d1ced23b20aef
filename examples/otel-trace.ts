/**
 * Prints the trace of README "Observability": a signed-in user's `/profile` whose access token has
 * expired, so `req.getToken` refreshes it at the dev OP. The app's request span is made here by
 * hand (HTTP instrumentation would make it); authflow's spans are its own. Run:
 * `npx tsx examples/otel-trace.ts`.
 */
import express from 'express';
import request from 'supertest';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AlwaysOnSampler, BasicTracerProvider, ConsoleSpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ConfidentialClient } from '../src/index.js';
import { auth, authSession, requireAuth } from '../src/express/index.js';
import { startDevOp } from './dev-op/index.js';

const ORDERS = ['api://orders/Orders.Read'];
let printing = false;
const consoleExporter = new ConsoleSpanExporter();
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(new BasicTracerProvider({
  sampler: new AlwaysOnSampler(),
  spanProcessors: [new SimpleSpanProcessor({
    export: (spans: ReadableSpan[], done) => (printing ? consoleExporter.export(spans, done) : done({ code: 0 })),
    shutdown: () => Promise.resolve(),
  })],
}));

const op = await startDevOp();
const webApp = op.clients.webApp;
const redirectUri = new URL(webApp.redirectUris![0]!);
const client = new ConfidentialClient({ clientId: webApp.clientId, authority: op.issuer, credential: { secret: webApp.clientSecret! }, allowInsecureRequests: true, authorityType: 'entra' });
const app = express();
app.use((req, res, next) => {
  // What @opentelemetry/instrumentation-http would do: a SERVER span per request.
  const span = trace.getTracer('app').startSpan(`${req.method} ${req.path}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'http.route': req.path } });
  res.on('finish', () => {
    span.setAttribute('http.response.status_code', res.statusCode);
    span.end();
  });
  context.with(trace.setSpan(context.active(), span), next);
});
app.use(authSession({ baseUrl: redirectUri.origin }));
app.use(auth({ client, baseUrl: redirectUri.origin, scopes: ORDERS }));
app.get('/profile', requireAuth(), (req, res, next) => {
  req.getToken(ORDERS).then(() => res.json({ name: req.user?.name }), next);
});

try {
  const agent = request.agent(app);
  const login = await agent.get('/login?returnTo=/profile');
  const callback = new URL(await op.signIn(login.headers.location!, { username: 'alice' }));
  await agent.get(`${callback.pathname}${callback.search}`);
  // Time passes: every cached access token expires (the refresh token does not).
  for (const partition of await partitions(agent)) {
    const cache = JSON.parse(await client.exportCache(partition)) as { AccessToken: Record<string, { expires_on: string; extended_expires_on: string }> };
    for (const at of Object.values(cache.AccessToken)) at.expires_on = at.extended_expires_on = String(Math.floor(Date.now() / 1000) - 10);
    await client.importCache(partition, cache);
  }
  printing = true;
  await agent.get('/profile').expect(200);
} finally {
  await op.close();
}

/** The session's cache partition, read the way the app would (the session knows it). */
async function partitions(agent: ReturnType<typeof request.agent>): Promise<string[]> {
  const seen: string[] = [];
  app.get('/__partition', (req, res) => res.json({ partition: (req.session as unknown as { authflow?: { user?: { partition?: string } } }).authflow?.user?.partition }));
  const { body } = await agent.get('/__partition') as { body: { partition?: string } };
  if (body.partition) seen.push(body.partition);
  return seen;
}
