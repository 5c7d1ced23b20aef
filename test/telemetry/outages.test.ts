/**
 * Telemetry when things fail: the OP down or answering 500 (dev OP faults), Redis unreachable
 * (a client pointed at a closed port), a refresh lock held past the wait; and one correlation id
 * followed from the browser's error page through authflow's log line (with the trace id of the
 * callback's span) to the OP's own error log.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import request from 'supertest';
import { Redis } from 'ioredis';
import { SpanStatusCode } from '@opentelemetry/api';
import { AuthError, RedisTokenCacheStore, type AccountInfo, type Logger } from '../../src/index.js';
import { ATTR, METRIC, SPAN } from '../../src/telemetry/names.js';
import { buildExpressApp } from '../helpers/expressApp.js';
import { clientFor, expireAccessTokens, refusedWith, signIn, startDevOp, type DevOp } from '../helpers/op.js';
import { connectRedis, deleteKeys, uniquePrefix } from '../helpers/redis.js';
import { installTelemetry, type Telemetry } from '../helpers/otel.js';

const ORDERS = ['api://orders/Orders.Read'];

describe('telemetry: outages', () => {
  let op: DevOp;
  let redis: Redis;
  let otel: Telemetry;
  const prefix = uniquePrefix('otel-out');

  before(async () => {
    otel = installTelemetry();
    op = await startDevOp();
    redis = await connectRedis();
  });
  beforeEach(() => {
    op.faults.clear();
    otel.reset();
  });
  after(async () => {
    op.faults.clear();
    await deleteKeys(redis, prefix);
    await redis.quit();
    await op.close();
  });

  it('the OP down: the refresh request fails as op_unreachable on its span, the acquisition and both counters', async () => {
    const client = clientFor(op, 'webApp', { timeoutMs: 2000 });
    const { account } = await signIn(op, client, { partition: 'p-down' });
    await expireAccessTokens(client, 'p-down');
    op.faults.set({ tokenEndpoint: 'down' });
    otel.reset();
    await assert.rejects(client.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'p-down' }), refusedWith('op_unreachable'));

    const [acquire] = otel.named(SPAN.acquireToken);
    assert.ok(acquire);
    assert.equal(acquire.status.code, SpanStatusCode.ERROR);
    assert.deepEqual([acquire.attributes[ATTR.errorCode], acquire.attributes[ATTR.refreshed], acquire.attributes[ATTR.fromCache]], ['op_unreachable', false, false]);
    const post = otel.childrenOf(acquire).find((s) => s.name === 'POST');
    assert.ok(post);
    assert.equal(post.status.code, SpanStatusCode.ERROR);
    assert.equal(post.attributes[ATTR.errorType], 'op_unreachable');
    assert.equal(post.attributes[ATTR.httpStatus], undefined);
    assert.equal(await otel.count(METRIC.acquisitions, { [ATTR.flow]: 'silent', [ATTR.outcome]: 'error', [ATTR.errorCode]: 'op_unreachable' }), 1);
    assert.equal(await otel.count(METRIC.tokenRequests, { [ATTR.grantType]: 'refresh_token', [ATTR.errorType]: 'op_unreachable' }), 1);
  });

  it('the OP answering 500: the status on the request span and in the token-request counter', async () => {
    const client = clientFor(op, 'daemon');
    op.faults.set({ tokenEndpoint: 500 });
    await assert.rejects(client.acquireTokenForClient({ scopes: ['api://orders/.default'] }), (err) => err instanceof AuthError);
    const [acquire] = otel.named(SPAN.acquireToken);
    assert.equal(acquire?.attributes[ATTR.flow], 'client_credentials');
    const post = otel.childrenOf(acquire!).find((s) => s.name === 'POST');
    assert.equal(post?.attributes[ATTR.httpStatus], 500);
    assert.equal(post?.status.code, SpanStatusCode.ERROR);
    assert.equal(await otel.count(METRIC.tokenRequests, { [ATTR.grantType]: 'client_credentials', [ATTR.httpStatus]: 500 }), 1);
    assert.equal(await otel.count(METRIC.acquisitions, { [ATTR.flow]: 'client_credentials', [ATTR.outcome]: 'error' }), 1);
  });

  it('Redis unreachable: store_unavailable on the store span, the acquisition and the store-error counter', async () => {
    const port = await closedPort();
    const down = new Redis({ host: '127.0.0.1', port, lazyConnect: true, connectTimeout: 300, maxRetriesPerRequest: 0, retryStrategy: () => 200 });
    down.on('error', () => {}); // ECONNREFUSED is the point; ioredis would print it as unhandled
    try {
      const client = clientFor(op, 'webApp', { cacheStore: new RedisTokenCacheStore({ client: down, commandTimeoutMs: 300 }) });
      const account = { homeAccountId: 'uid.utid', environment: 'x', tenantId: 'utid', username: 'u', localAccountId: 'uid' } as AccountInfo;
      await assert.rejects(client.acquireTokenSilent({ scopes: ORDERS, account, partition: 'p-redis-down' }), refusedWith('store_unavailable'));
    } finally {
      down.disconnect();
    }
    const [acquire] = otel.named(SPAN.acquireToken);
    assert.equal(acquire?.attributes[ATTR.errorCode], 'store_unavailable');
    const read = otel.childrenOf(acquire!).find((s) => s.name === SPAN.store);
    assert.deepEqual([read?.attributes[ATTR.dbSystem], read?.attributes[ATTR.dbOperation], read?.status.code], ['redis', 'read', SpanStatusCode.ERROR]);
    assert.equal(await otel.count(METRIC.storeErrors, { [ATTR.dbSystem]: 'redis', [ATTR.dbOperation]: 'read' }), 1);
    assert.equal(await otel.count(METRIC.acquisitions, { [ATTR.outcome]: 'error', [ATTR.errorCode]: 'store_unavailable' }), 1);
  });

  it('a refresh lock held by another instance past lockWaitMs: counted as a lock-wait timeout', async () => {
    const store = new RedisTokenCacheStore({ client: redis, prefix: `${prefix}lock:`, lockWaitMs: 300 });
    const client = clientFor(op, 'webApp', { cacheStore: store });
    const { account } = await signIn(op, client, { partition: 'p-lock' });
    await expireAccessTokens(client, 'p-lock');
    const holder = new RedisTokenCacheStore({ client: redis, prefix: `${prefix}lock:` });
    const release = await holder.lock('p-lock');
    otel.reset();
    try {
      await assert.rejects(client.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'p-lock' }), refusedWith('store_unavailable'));
    } finally {
      await release();
    }
    assert.equal(await otel.count(METRIC.lockWaits, { [ATTR.lockOutcome]: 'timeout' }), 1);
    assert.equal(await otel.count(METRIC.lockWaits, { [ATTR.lockOutcome]: 'acquired' }), 0);
    const [acquire] = otel.named(SPAN.acquireToken);
    assert.ok((acquire?.attributes[ATTR.lockWaitedMs] as number) >= 250, `waited ${String(acquire?.attributes[ATTR.lockWaitedMs])} ms`);
  });

  it('one correlation id: the error page, authflow\'s log line (with the callback span\'s trace id) and the OP\'s log', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger: Logger = {
      debug: (obj) => lines.push({ level: 'debug', ...obj }),
      info: (obj) => lines.push({ level: 'info', ...obj }),
      warn: (obj) => lines.push({ level: 'warn', ...obj }),
      error: (obj) => lines.push({ level: 'error', ...obj }),
    };
    const { app } = buildExpressApp(op, { clientOptions: { credential: { secret: 'not-the-registered-secret' }, logger } });
    const agent = request.agent(app);
    const login = await agent.get('/login');
    const callback = new URL(await op.signIn(login.headers.location!, { username: 'alice' }));
    const page = await agent.get(`${callback.pathname}${callback.search}`).set('accept', 'text/html');
    assert.ok(page.status >= 400, `status ${page.status}`);
    const shown = /<code id="correlation-id">([^<]+)<\/code>/.exec(page.text)?.[1];
    assert.ok(shown, 'the page shows a correlation id');

    const logged = lines.filter((line) => line.correlationId === shown && line.code !== undefined);
    assert.ok(logged.length >= 1, `authflow logged ${shown}: ${JSON.stringify(lines)}`);
    const [callbackSpan] = otel.named(`${SPAN.webPrefix}.callback`);
    assert.ok(callbackSpan);
    // The OP-request line is written inside the acquisition: it names the flow and the trace.
    const opLine = lines.find((line) => line.correlationId === shown && line.endpoint !== undefined);
    assert.equal(opLine?.flow, 'auth_code', 'the OP-request line names the flow');
    assert.equal(opLine?.trace_id, callbackSpan.spanContext().traceId, 'the OP-request line carries the trace id of the callback');
    // Logged once the response is in, by the acquisition (the request's own span has ended).
    const acquire = otel.childrenOf(callbackSpan).find((s) => s.name === SPAN.acquireToken);
    assert.equal(opLine?.span_id, acquire?.spanContext().spanId);
    assert.ok(op.lastErrors().some((e) => e.clientRequestId === shown), `the OP logged ${shown}: ${JSON.stringify(op.lastErrors().slice(-3))}`);
    assert.equal(await otel.count(METRIC.signIns, { [ATTR.outcome]: 'failure', [ATTR.errorCode]: 'invalid_client' }), 1);
  });
});

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
