/**
 * The OP failing under the web app (the dev OP's fault switch, no mocks): token endpoint down,
 * slow beyond the timeout, answering 500 or garbage. Users whose tokens are cached keep being
 * served; users who need a refresh get a quick 502/504 with a clear code; no request hangs; once
 * the OP recovers, refreshes work again.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import request from 'supertest';
import { auth, authErrors, authSession, requireAuth } from '../src/express/index.js';
import { clientFor, expireAccessTokens, startDevOp, type DevOp } from '../test/helpers/op.js';
import { MemoryTokenCacheStore, type ConfidentialClient, type TokenCacheStore } from '../src/index.js';
import { percentile, report } from './harness.js';

const TIMEOUT_MS = 500;
type Agent = ReturnType<typeof request.agent>;

describe('OP faults under the web app', () => {
  let op: DevOp;
  let client: ConfidentialClient;
  let app: express.Express;

  /** Partitions written, in order: the in-memory store, observed (it stays a real store). */
  const written: string[] = [];

  before(async () => {
    op = await startDevOp();
    const store = new MemoryTokenCacheStore();
    const observed: TokenCacheStore = {
      read: (partition) => store.read(partition),
      write: (partition, changes, options) => {
        written.push(partition);
        return store.write(partition, changes, options);
      },
      clear: (partition) => store.clear(partition),
    };
    client = clientFor(op, 'webApp', { timeoutMs: TIMEOUT_MS, cacheStore: observed });
    app = express();
    app.use(authSession({ baseUrl: 'http://localhost:3000' }));
    app.use(auth({ client, baseUrl: 'http://localhost:3000', scopes: ['api://orders/Orders.Read'] }));
    app.get('/token', requireAuth(), async (req, res) => {
      await req.getToken(['api://orders/Orders.Read']);
      res.json({ ok: true });
    });
    app.use(authErrors());
  });
  after(() => op.close());

  /** A signed-in session and the token cache partition its sign-in wrote. */
  async function signedIn(): Promise<{ agent: Agent; partition: string }> {
    const agent = request.agent(app);
    const login = await agent.get('/login');
    const callback = new URL(await op.signIn(login.headers.location!, { username: 'alice' }));
    await agent.get(`${callback.pathname}${callback.search}`);
    assert.equal((await agent.get('/token')).status, 200);
    return { agent, partition: written.at(-1)! };
  }

  it('serves cached tokens, fails refreshes fast with the right code, and recovers', { timeout: 60_000 }, async () => {
    const faults = [
      { fault: { tokenEndpoint: 'down' as const }, code: 'op_unreachable', status: 502 },
      { fault: { tokenEndpoint: 500 as const }, code: 'op_bad_response', status: 502 },
      { fault: { tokenEndpoint: 'garbage' as const }, code: 'op_bad_response', status: 502 },
      { fault: { tokenEndpoint: 'slow' as const, slowMs: 3000 }, code: 'op_timeout', status: 504 },
    ];
    const figures: Record<string, string | number> = {};
    for (const { fault, code, status } of faults) {
      const cached = await signedIn();
      const expired = await signedIn();
      // The second user's access token has expired: their next request needs the OP.
      await expireAccessTokens(client, expired.partition);
      op.faults.set(fault);
      try {
        const servedFromCache = await Promise.all(Array.from({ length: 10 }, () => cached.agent.get('/token')));
        const started = Date.now();
        const failed = await Promise.all(Array.from({ length: 10 }, async () => {
          const t = performance.now();
          const answer = await expired.agent.get('/token').set('accept', 'application/json');
          return { answer, ms: performance.now() - t };
        }));
        const p99 = percentile(failed.map((f) => f.ms), 99);
        figures[`${fault.tokenEndpoint}`] = `${failed[0]!.answer.status} ${failed[0]!.answer.body.error} p99=${Math.round(p99)}ms cached=${servedFromCache.filter((r) => r.status === 200).length}/10`;
        assert.ok(servedFromCache.every((r) => r.status === 200), `${fault.tokenEndpoint}: cached tokens still served`);
        for (const { answer } of failed) {
          assert.equal(answer.status, status, `${fault.tokenEndpoint}: ${answer.text}`);
          assert.equal(answer.body.error, code);
          assert.doesNotMatch(answer.text, /at .*\.(js|ts):\d+/, 'no stack trace');
        }
        assert.ok(Date.now() - started < TIMEOUT_MS * 4, `${fault.tokenEndpoint}: no hung request`);
      } finally {
        op.faults.clear();
      }
      if (fault.tokenEndpoint !== 'slow') {
        // The refresh token was never spent: the same user recovers as soon as the OP does.
        assert.equal((await expired.agent.get('/token')).status, 200, `${fault.tokenEndpoint}: recovered`);
      }
    }
    report('op-faults', figures);
  });

});
