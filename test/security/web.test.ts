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
  }
});
