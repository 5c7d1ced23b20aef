/**
 * Traces and metrics through the OpenTelemetry SDK (in-memory exporter and reader) for real
 * requests: a sign-in through the Express app, silent hits, a refresh storm and On-Behalf-Of,
 * against the dev OP and Redis. Every recorded span is scanned for the secrets and personal data
 * the test used.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Redis } from 'ioredis';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { RedisTokenCacheStore } from '../../src/index.js';
import { ATTR, METRIC, SPAN } from '../../src/telemetry/names.js';
import { buildExpressApp } from '../helpers/expressApp.js';
import { clientFor, expireAccessTokens, signIn, startDevOp, tokenRequests, type DevOp } from '../helpers/op.js';
import { connectRedis, deleteKeys, uniquePrefix } from '../helpers/redis.js';
import { installTelemetry, leaks, type Telemetry } from '../helpers/otel.js';

describe('telemetry: traces and metrics', () => {
  let op: DevOp;
  let redis: Redis;
  let otel: Telemetry;
  const prefix = uniquePrefix('otel');
  /** Every secret and personal value the tests handled, for the scan. */
  const secrets = new Set<string>();

  before(async () => {
    otel = installTelemetry();
    op = await startDevOp();
    redis = await connectRedis();
    for (const user of Object.values(op.users)) for (const value of [user.username, user.email, user.name, user.oid, user.password]) secrets.add(value);
    for (const c of Object.values(op.clients) as Array<{ clientSecret?: string; privateKey?: string }>) {
      if (c.clientSecret) secrets.add(c.clientSecret);
    }
  });
  beforeEach(() => otel.reset());
  after(async () => {
    await deleteKeys(redis, prefix);
    await redis.quit();
    await op.close();
  });

  /** Secrets stored under our prefix (tokens, PKCE verifiers) and the keys themselves (partition ids). */
  async function collectStored(): Promise<void> {
    for (const key of await redis.keys(`${prefix}*`)) {
      secrets.add(key.slice(prefix.length).split(':').slice(1).join(':'));
      const type = await redis.type(key);
      const values = type === 'hash' ? Object.values(await redis.hgetall(key)) : type === 'string' ? [(await redis.get(key))!] : [];
      for (const value of values) for (const m of value.matchAll(/"(?:secret|codeVerifier)":"([^"]+)"/g)) secrets.add(m[1]!);
    }
  }

  const attr = (span: ReadableSpan, key: string): unknown => span.attributes[key];
  const only = (spans: ReadableSpan[], what: string): ReadableSpan => {
    assert.equal(spans.length, 1, `one ${what} span, got ${spans.map((s) => s.name).join(', ') || 'none'}`);
    return spans[0]!;
  };

  it('a sign-in: /login and /callback spans, the auth-code acquisition under the callback with its token request and store write', async () => {
    const { app } = buildExpressApp(op, { redis, prefix });
    const agent = request.agent(app);
    const login = await agent.get('/login?returnTo=/orders');
    assert.equal(login.status, 302);
    const callback = new URL(await op.signIn(login.headers.location!, { username: 'alice' }));
    secrets.add(callback.searchParams.get('code')!);
    const done = await agent.get(`${callback.pathname}${callback.search}`);
    assert.equal(done.status, 302, done.text);
    const orders = await agent.get('/orders');
    assert.equal(orders.status, 200, orders.text);
    await collectStored();

    only(otel.named(`${SPAN.webPrefix}.login`), 'login');
    const callbackSpan = only(otel.named(`${SPAN.webPrefix}.callback`), 'callback');
    assert.equal(attr(callbackSpan, ATTR.route), '/callback');
    const acquire = otel.childrenOf(callbackSpan).find((s) => s.name === SPAN.acquireToken);
    assert.ok(acquire, 'the acquisition is a child of the callback span');
    assert.deepEqual(
      [attr(acquire, ATTR.flow), attr(acquire, ATTR.fromCache), attr(acquire, ATTR.cacheLayer), attr(acquire, ATTR.refreshed)],
      ['auth_code', false, 'none', false],
    );
    const children = otel.childrenOf(acquire);
    const post = only(children.filter((s) => s.name === 'POST'), 'token request');
    assert.equal(post.kind, SpanKind.CLIENT);
    assert.equal(attr(post, ATTR.httpMethod), 'POST');
    assert.equal(attr(post, ATTR.grantType), 'authorization_code');
    assert.equal(attr(post, ATTR.httpStatus), 200);
    assert.equal(attr(post, ATTR.serverAddress), new URL(op.issuer).hostname);
    assert.equal(attr(post, ATTR.serverPort), Number(new URL(op.issuer).port));
    const write = only(children.filter((s) => s.name === SPAN.store && attr(s, ATTR.dbOperation) === 'write'), 'store write');
    assert.deepEqual([attr(write, ATTR.dbSystem), attr(write, ATTR.partitions)], ['redis', 1]);

    assert.equal(await otel.count(METRIC.signIns, { [ATTR.outcome]: 'success' }), 1);
    assert.equal(await otel.count(METRIC.acquisitions, { [ATTR.flow]: 'auth_code', [ATTR.outcome]: 'network' }), 1);
    assert.equal(await otel.count(METRIC.tokenRequests, { [ATTR.grantType]: 'authorization_code', [ATTR.httpStatus]: 200 }), 1);
    assert.equal(await otel.histogramCount(METRIC.tokenRequestDuration, { [ATTR.grantType]: 'authorization_code' }), 1);
    assert.ok(await otel.histogramCount(METRIC.storeDuration, { [ATTR.dbSystem]: 'redis', [ATTR.dbOperation]: 'write' }) >= 1);

    // /orders right after: a silent hit, served from this process's copy or the store.
    const silent = only(otel.named(SPAN.acquireToken).filter((s) => attr(s, ATTR.flow) === 'silent'), 'silent acquisition');
    assert.equal(attr(silent, ATTR.fromCache), true);
    assert.ok(['local', 'store'].includes(attr(silent, ATTR.cacheLayer) as string));
    assert.equal(otel.childrenOf(silent).filter((s) => s.name === 'POST').length, 0, 'a hit asks the OP nothing');
    assert.equal(await otel.count(METRIC.acquisitions, { [ATTR.flow]: 'silent', [ATTR.outcome]: 'cache_hit' }), 1);

    // Sign-out and a refused back-channel logout: one span each, named by route.
    assert.equal((await agent.post('/logout')).status, 302);
    const logout = only(otel.named(`${SPAN.webPrefix}.logout`), 'logout');
    assert.equal(attr(logout, ATTR.route), '/logout');
    assert.ok(otel.childrenOf(logout).some((s) => s.name === SPAN.store && attr(s, ATTR.dbOperation) === 'clear'), 'the token cache cleared under the logout span');
    assert.equal((await request(app).post('/backchannel-logout').type('form').send({ logout_token: 'a.b' })).status, 400);
    const backchannel = only(otel.named(`${SPAN.webPrefix}.backchannel_logout`), 'back-channel logout');
    assert.deepEqual([attr(backchannel, ATTR.route), backchannel.status.code, attr(backchannel, ATTR.errorCode)], ['/backchannel-logout', SpanStatusCode.ERROR, 'invalid_request']);

    // The OP's address is configuration (the issuer's host), not the user's: it is left out of the IP check.
    assert.deepEqual(leaks(otel.spans(), [...secrets, '127.0.0.1', '::1'], [ATTR.serverAddress]), []);
    assert.deepEqual(leaks(otel.spans(), secrets), []);
  });

  it('a silent hit from the local copy: cache.layer local, no store read, counted as a local hit', async () => {
    const client = clientFor(op, 'webApp', { cacheStore: new RedisTokenCacheStore({ client: redis, prefix: `${prefix}tc2:` }) });
    const result = await signIn(op, client, { partition: 'p-hit' });
    secrets.add(result.accessToken);
    otel.reset();
    const again = await client.acquireTokenSilent({ scopes: ['api://orders/Orders.Read'], account: result.account!, partition: 'p-hit' });
    assert.equal(again.fromCache, true);
    const span = only(otel.named(SPAN.acquireToken), 'acquisition');
    assert.deepEqual([attr(span, ATTR.flow), attr(span, ATTR.fromCache), attr(span, ATTR.cacheLayer), attr(span, ATTR.refreshed)], ['silent', true, 'local', false]);
    assert.equal(otel.named(SPAN.store).length, 0);
    assert.equal(await otel.count(METRIC.acquisitions, { [ATTR.outcome]: 'cache_hit', [ATTR.cacheLayer]: 'local' }), 1);
    assert.equal(await otel.histogramCount(METRIC.acquisitionDuration, { [ATTR.flow]: 'silent' }), 1);
    assert.deepEqual(leaks(otel.spans(), secrets), []);
  });

  it('a silent hit from the store (no local copy): cache.layer store, one store read under the acquisition', async () => {
    const client = clientFor(op, 'webApp', { localCacheSeconds: 0, cacheStore: new RedisTokenCacheStore({ client: redis, prefix: `${prefix}tc4:` }) });
    const result = await signIn(op, client, { partition: 'p-store' });
    otel.reset();
    await client.acquireTokenSilent({ scopes: ['api://orders/Orders.Read'], account: result.account!, partition: 'p-store' });
    const span = only(otel.named(SPAN.acquireToken), 'acquisition');
    assert.deepEqual([attr(span, ATTR.fromCache), attr(span, ATTR.cacheLayer)], [true, 'store']);
    assert.deepEqual(otel.childrenOf(span).map((s) => [s.name, attr(s, ATTR.dbOperation)]), [[SPAN.store, 'read']]);
    assert.equal(await otel.count(METRIC.acquisitions, { [ATTR.outcome]: 'cache_hit', [ATTR.cacheLayer]: 'store' }), 1);
    assert.equal(await otel.count(METRIC.acquisitions, { [ATTR.outcome]: 'cache_hit', [ATTR.cacheLayer]: 'local' }), 0);
  });

  it('a refresh storm: one refresh (refreshed, lock waited, rotated tokens written), the other callers shared it', async () => {
    const client = clientFor(op, 'webApp', { cacheStore: new RedisTokenCacheStore({ client: redis, prefix: `${prefix}tc3:` }) });
    const result = await signIn(op, client, { partition: 'p-storm' });
    await expireAccessTokens(client, 'p-storm');
    op.resetStats();
    otel.reset();
    const callers = 12;
    const results = await Promise.all(Array.from({ length: callers }, () => client.acquireTokenSilent({ scopes: ['api://orders/Orders.Read'], account: result.account!, partition: 'p-storm' })));
    for (const r of results) secrets.add(r.accessToken);
    await collectStored();
    assert.equal(tokenRequests(op, 'refresh_token'), 1);

    const acquisitions = otel.named(SPAN.acquireToken);
    assert.equal(acquisitions.length, callers);
    const refreshing = only(acquisitions.filter((s) => attr(s, ATTR.refreshed) === true), 'refreshing acquisition');
    assert.equal(typeof attr(refreshing, ATTR.lockWaitedMs), 'number');
    const children = otel.childrenOf(refreshing);
    assert.equal(attr(only(children.filter((s) => s.name === 'POST'), 'refresh request'), ATTR.grantType), 'refresh_token');
    assert.deepEqual(children.filter((s) => s.name === SPAN.store).map((s) => attr(s, ATTR.dbOperation)).sort(), ['lock', 'read', 'write']);

    assert.equal(await otel.count(METRIC.acquisitions, { [ATTR.outcome]: 'refresh' }), 1);
    assert.equal(await otel.count(METRIC.acquisitions, { [ATTR.outcome]: 'shared' }), callers - 1);
    assert.equal(await otel.count(METRIC.tokenRequests, { [ATTR.grantType]: 'refresh_token', [ATTR.httpStatus]: 200 }), 1);
    assert.equal(await otel.count(METRIC.lockWaits, { [ATTR.lockOutcome]: 'acquired' }), 1);
    assert.deepEqual(leaks(otel.spans(), secrets), []);
  });

  it('On-Behalf-Of: a network acquisition with the jwt-bearer request, then a cache hit; the assertion appears nowhere', async () => {
    const web = clientFor(op, 'webApp');
    const assertion = (await signIn(op, web, { partition: 'p-obo' })).accessToken;
    secrets.add(assertion);
    const orders = clientFor(op, 'orders');
    otel.reset();
    const first = await orders.acquireTokenOnBehalfOf({ userAssertion: assertion, scopes: ['api://inventory/Inventory.Read'] });
    const second = await orders.acquireTokenOnBehalfOf({ userAssertion: assertion, scopes: ['api://inventory/Inventory.Read'] });
    secrets.add(first.accessToken);
    assert.deepEqual([first.fromCache, second.fromCache], [false, true]);

    const [network, hit] = otel.named(SPAN.acquireToken).sort((a, b) => (a.startTime[0] - b.startTime[0]) || (a.startTime[1] - b.startTime[1]));
    assert.deepEqual([attr(network!, ATTR.flow), attr(network!, ATTR.fromCache), attr(network!, ATTR.cacheLayer)], ['obo', false, 'none']);
    assert.deepEqual([attr(hit!, ATTR.flow), attr(hit!, ATTR.fromCache), attr(hit!, ATTR.cacheLayer)], ['obo', true, 'local']);
    const post = only(otel.childrenOf(network!).filter((s) => s.name === 'POST'), 'OBO request');
    assert.equal(attr(post, ATTR.grantType), 'urn:ietf:params:oauth:grant-type:jwt-bearer');
    assert.equal(attr(post, ATTR.httpStatus), 200);
    const memoryRead = otel.childrenOf(network!).find((s) => s.name === SPAN.store && attr(s, ATTR.dbOperation) === 'read');
    assert.equal(memoryRead && attr(memoryRead, ATTR.dbSystem), 'memory');

    assert.equal(await otel.count(METRIC.acquisitions, { [ATTR.flow]: 'obo', [ATTR.outcome]: 'network' }), 1);
    assert.equal(await otel.count(METRIC.acquisitions, { [ATTR.flow]: 'obo', [ATTR.outcome]: 'cache_hit' }), 1);
    assert.equal(await otel.count(METRIC.tokenRequests, { [ATTR.grantType]: 'urn:ietf:params:oauth:grant-type:jwt-bearer' }), 1);
    assert.deepEqual(leaks(otel.spans(), secrets), []);
    assert.ok(otel.spans().every((s) => s.status.code !== SpanStatusCode.ERROR));
  });

  it('the scan itself: it finds a planted value in an attribute and in an event', () => {
    const planted = 'planted-secret-value';
    const fake = (attributes: Record<string, string>, events: ReadableSpan['events'] = []): ReadableSpan => ({
      name: 'x', attributes, events, status: { code: SpanStatusCode.UNSET },
    }) as unknown as ReadableSpan;
    assert.equal(leaks([fake({ a: `Bearer ${planted}` })], [planted]).length, 1);
    assert.equal(leaks([fake({}, [{ name: 'e', attributes: { b: planted }, time: [0, 0], droppedAttributesCount: 0 }])], [planted]).length, 1);
    assert.equal(leaks([fake({ a: 'fine' })], [planted]).length, 0);
    assert.equal(leaks([fake({ 'server.address': planted })], [planted], ['server.address']).length, 0);
  });
});
