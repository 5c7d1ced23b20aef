/**
 * The security review's web findings, each as the attack (a request) and the refusal (status and
 * error code), against authflow/express and authflow/koa with the dev OP and a real Redis.
 * Catalog: test/security/README.md.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Redis } from 'ioredis';
import { safeReturnTo } from '../../src/web/returnTo.js';
import { buildExpressApp, BASE_URL } from '../helpers/expressApp.js';
import { buildKoaApp } from '../helpers/koaApp.js';
import { startDevOp, type DevOp } from '../helpers/op.js';
import { connectRedis, deleteKeys, uniquePrefix } from '../helpers/redis.js';
import { BASE, RETURN_TO_FORMS } from './returnto-table.js';

type Agent = ReturnType<typeof request.agent>;
type Handler = Parameters<typeof request.agent>[0];

describe('finding 1: safeReturnTo judges the resolved URL (table)', () => {
  for (const [label, value, expected] of RETURN_TO_FORMS) {
    it(`finding 1: ${label} → ${expected === `${BASE}/` ? 'home' : 'kept'}`, () => {
      assert.equal(safeReturnTo(value, BASE), expected);
    });
  }
  it('finding 1: a base URL with a path sends refusals to its home page', () => {
    assert.equal(safeReturnTo('/.//evil.example', 'https://app.example/app'), 'https://app.example/app/');
    assert.equal(safeReturnTo('/app/orders', 'https://app.example/app'), 'https://app.example/app/orders');
  });
});

describe('security: web findings (Express and Koa)', () => {
  let op: DevOp;
  let redis: Redis;
  let prefix: string;
  const apps: Array<{ name: string; handler: () => Handler }> = [];

  before(async () => {
    op = await startDevOp();
    redis = await connectRedis();
    prefix = uniquePrefix('secweb');
    const express = buildExpressApp(op, { redis, prefix: `${prefix}x:` });
    const koa = buildKoaApp(op, { redis, prefix: `${prefix}k:` });
    apps.push({ name: 'express', handler: () => express.app }, { name: 'koa', handler: () => koa.app.callback() });
  });
  after(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await op.close();
  });

  /** Every (key, entry) pair of the back-channel index under `indexPrefix`, as "key|entry". */
  async function indexEntries(indexPrefix: string): Promise<Set<string>> {
    const found = new Set<string>();
    for (const key of await redis.keys(`${indexPrefix}*`)) {
      if ((await redis.type(key)) !== 'set') continue;
      for (const entry of await redis.smembers(key)) found.add(`${key}|${entry}`);
    }
    return found;
  }

  /** Starts a sign-in in `agent`'s session, lets alice through the OP and answers the callback. */
  async function signIn(agent: Agent, loginPath = '/login'): Promise<request.Response> {
    const login = await agent.get(loginPath);
    assert.equal(login.status, 302, login.text);
    const callback = new URL(await op.signIn(login.headers.location!, { username: 'alice' }));
    return agent.get(`${callback.pathname}${callback.search}`);
  }

  for (const adapter of ['express', 'koa'] as const) {
    it(`finding 1: returnTo with dot segments cannot redirect off-site after sign-in (${adapter})`, async () => {
      const { handler } = apps.find((a) => a.name === adapter)!;
      for (const returnTo of ['/.//evil.example/x', '/a/..//evil.example/x', '/%2e//evil.example/x', '/..//evil.example/x']) {
        const done = await signIn(request.agent(handler()), `/login?returnTo=${encodeURIComponent(returnTo)}`);
        assert.equal(done.status, 302);
        const target = new URL(done.headers.location!, BASE_URL);
        assert.equal(target.origin, new URL(BASE_URL).origin, `${returnTo} → ${done.headers.location}`);
        assert.equal(done.headers.location, `${BASE_URL}/`, `${returnTo} is refused`);
      }
      const kept = await signIn(request.agent(handler()), `/login?returnTo=${encodeURIComponent('/orders?page=2')}`);
      assert.equal(kept.headers.location, `${BASE_URL}/orders?page=2`, 'a local path is kept, as an absolute URL');
    });

    it(`finding 6: a cross-site POST /logout is refused, 403 cross_site_request (${adapter})`, async () => {
      const { handler } = apps.find((a) => a.name === adapter)!;
      const agent = request.agent(handler());
      await signIn(agent);
      const forgeries: Array<Record<string, string>> = [
        { origin: 'https://evil.example' },
        { origin: 'null' },
        { origin: 'http://localhost:3000.evil.example' },
        { 'sec-fetch-site': 'cross-site' },
        { 'sec-fetch-site': 'same-site' },
        { origin: BASE_URL, 'sec-fetch-site': 'cross-site' },
      ];
      for (const headers of forgeries) {
        const out = await agent.post('/logout').set(headers).set('accept', 'application/json');
        assert.equal(out.status, 403, JSON.stringify(headers));
        assert.equal(out.body.error, 'cross_site_request', JSON.stringify(headers));
      }
      assert.equal((await agent.get('/profile')).status, 200, 'still signed in');
    });

    it(`finding 6: GET /logout answers a confirmation page and signs nobody out (${adapter})`, async () => {
      const { handler } = apps.find((a) => a.name === adapter)!;
      const agent = request.agent(handler());
      await signIn(agent);
      const page = await agent.get('/logout');
      assert.equal(page.status, 200);
      assert.match(String(page.headers['content-type']), /^text\/html/);
      assert.equal(page.headers['cache-control'], 'no-store');
      assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/);
      assert.match(page.text, /<form method="post" action="\/logout"><button id="sign-out" type="submit">/);
      assert.equal((await agent.get('/profile')).status, 200, 'still signed in');
    });

    it(`finding 6: a same-origin POST /logout signs out (${adapter})`, async () => {
      const { handler } = apps.find((a) => a.name === adapter)!;
      const agent = request.agent(handler());
      await signIn(agent);
      const out = await agent.post('/logout').set({ origin: BASE_URL, 'sec-fetch-site': 'same-origin' });
      assert.equal(out.status, 302);
      assert.equal(out.headers.location, `${BASE_URL}/`);
      assert.equal((await agent.get('/profile')).status, 302, 'signed out');
    });

    it(`finding 14: logout removes the session from the back-channel index (${adapter})`, async () => {
      const { handler } = apps.find((a) => a.name === adapter)!;
      const indexPrefix = `${prefix}${adapter === 'express' ? 'x' : 'k'}:sx:`;
      const before = await indexEntries(indexPrefix);
      const agent = request.agent(handler());
      await signIn(agent);
      const mine = [...await indexEntries(indexPrefix)].filter((e) => !before.has(e));
      assert.ok(mine.length >= 1, 'the sign-in is filed in the index');
      assert.equal((await agent.post('/logout')).status, 302);
      const left = await indexEntries(indexPrefix);
      assert.deepEqual(mine.filter((e) => left.has(e)), [], 'no index entry of the ended session is left');
    });
  }
});
