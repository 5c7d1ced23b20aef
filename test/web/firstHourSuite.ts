/**
 * The first hour of a new user, as one behaviour suite run once per adapter (Express, Koa), each
 * in its own test process (setup mistakes are logged once per process): failures reach stderr
 * through the default logger with the correlation id the page shows and the OP saw, never a
 * token, code, verifier or secret; setup mistakes are named once; a page needing a scope the OP
 * never grants ends on a readable page after one round trip; /login fails (503) before the trip
 * when the session store is down; a host other than baseUrl's is named.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestListener } from 'node:http';
import request from 'supertest';
import { Redis } from 'ioredis';
import type { ConfidentialClient } from '../../src/index.js';
import { GENERIC_DESCRIPTION } from '../../src/web/render.js';
import { BASE_URL, type AppOptions } from '../helpers/expressApp.js';
import { clientFor, expireAccessTokens, signIn, startDevOp, type DevOp } from '../helpers/op.js';
import { connectRedis, deleteKeys, freePort, uniquePrefix } from '../helpers/redis.js';
import { captureStderr, type StderrCapture } from '../helpers/stderr.js';

type Agent = ReturnType<typeof request.agent>;

/** What the suite needs from an adapter: the README's app, and the app with each wiring mistake. */
export interface AdapterUnderTest {
  name: string;
  app(op: DevOp, options: AppOptions & { redis: Redis; prefix: string }): { handler: RequestListener; client: ConfidentialClient };
  /** auth() without any session middleware. */
  withoutSession(op: DevOp): RequestListener;
  /** A route calling getToken mounted before auth(). */
  authAfterRoutes(op: DevOp): RequestListener;
  /** requireAuth() on an app that never mounts auth(). */
  requireAuthWithoutAuth(): RequestListener;
  /** The README's app with its session store on `redis`. */
  withSessionRedis(op: DevOp, redis: Redis, prefix: string): RequestListener;
  /** A web API: `GET /orders` behind requireBearer({ client: orders }), calling inventory On-Behalf-Of. */
  api(orders: ConfidentialClient): RequestListener;
}

const correlationIdOf = (html: string): string | undefined => /id="correlation-id">([^<]+)</.exec(html)?.[1];

export function firstHourSuite(adapter: AdapterUnderTest): void {
  describe(`the first hour with authflow/${adapter.name}`, () => {
    let op: DevOp;
    let redis: Redis;
    let prefix: string;
    let stderr: StderrCapture;
    /** Every secret the tests came across: none may reach stderr. */
    const secrets = new Set<string>();

    before(async () => {
      op = await startDevOp();
      redis = await connectRedis();
      prefix = uniquePrefix(`first-${adapter.name}`);
      for (const client of Object.values(op.clients)) if ('clientSecret' in client && client.clientSecret) secrets.add(client.clientSecret);
      stderr = captureStderr();
    });
    after(async () => {
      stderr?.restore();
      await deleteKeys(redis, prefix);
      redis.disconnect();
      await op.close();
    });

    async function throughOp(agent: Agent, loginPath: string): Promise<string> {
      const login = await agent.get(loginPath);
      assert.equal(login.status, 302, login.text);
      await collectSecrets(); // the PKCE verifier, in the stored session
      const callback = new URL(await op.signIn(login.headers.location!, { username: 'alice' }));
      const code = callback.searchParams.get('code');
      if (code) secrets.add(code);
      return `${callback.pathname}${callback.search}`;
    }

    async function collectSecrets(): Promise<void> {
      for (const key of await redis.keys(`${prefix}*`)) {
        const type = await redis.type(key);
        const values = type === 'hash' ? Object.values(await redis.hgetall(key)) : type === 'string' ? [(await redis.get(key))!] : [];
        for (const value of values) for (const m of value.matchAll(/"(?:secret|codeVerifier)":"([^"]+)"/g)) secrets.add(m[1]!);
      }
    }

    const linesWith = (text: string): string[] => stderr.authflowLines().filter((l) => l.includes(text));

    it('a wrong client secret: the log line has the OP\'s code and description, with the id on the page and at the OP', async () => {
      secrets.add('not-the-secret');
      const { handler } = adapter.app(op, { redis, prefix: `${prefix}wrong:`, clientOptions: { credential: { secret: 'not-the-secret' } } });
      const agent = request.agent(handler);
      const page = await agent.get(await throughOp(agent, '/login'));
      assert.equal(page.status, 500);
      // Outside production the page says what the OP said, and what to do.
      assert.match(page.text, /invalid_client/);
      assert.match(page.text, /AADSTS7000215: Invalid client secret provided/);
      assert.match(page.text, /id="error-reason">invalid_client_secret</);
      assert.match(page.text, /use the secret&#39;s value \(not its id\) in &#34;credential.secret&#34;/);
      const id = correlationIdOf(page.text);
      assert.ok(id, page.text);
      const [line, ...more] = linesWith('invalid_client');
      assert.ok(line, stderr.lines().join('\n'));
      assert.equal(more.length, 0, 'one line per failure');
      assert.match(line, /^authflow error invalid_client: AADSTS7000215: Invalid client secret provided/);
      assert.equal(stderr.fields(line).correlationId, id, 'the page\'s id is the log line\'s');
      const atOp = op.lastErrors().filter((e) => e.error === 'invalid_client').at(-1);
      assert.equal(atOp?.clientRequestId, id, 'the page\'s id is the client-request-id the OP received');
    });

    it('a web API whose own secret is wrong: the JSON and the log line carry the id the OP saw', async () => {
      const user = await signIn(op, clientFor(op, 'webApp'), { scopes: ['api://orders/Orders.Read'] });
      secrets.add(user.accessToken);
      const handler = adapter.api(clientFor(op, 'orders', { credential: { secret: 'not-the-api-secret' } }));
      const answer = await request(handler).get('/orders').set('authorization', `Bearer ${user.accessToken}`);
      assert.equal(answer.status, 500, answer.text);
      const body = JSON.parse(answer.text) as { error: string; correlation_id?: string };
      assert.equal(body.error, 'invalid_client');
      const line = linesWith('invalid_client').find((l) => l.includes(body.correlation_id!));
      assert.ok(line, stderr.lines().join('\n'));
      assert.equal(stderr.fields(line).path, '/orders');
      assert.equal(op.lastErrors().filter((e) => e.error === 'invalid_client').at(-1)?.clientRequestId, body.correlation_id);
    });

    it('a sign-in, a refresh and failures leave lines on stderr, none with a token, code, verifier or secret', async () => {
      const { handler, client } = adapter.app(op, { redis, prefix });
      const agent = request.agent(handler);
      assert.equal((await agent.get(await throughOp(agent, '/login?returnTo=/orders'))).status, 302);
      assert.equal((await agent.get('/orders')).status, 200);
      await collectSecrets();
      const partition = (await redis.keys(`${prefix}tc:*`)).map((k) => /\{(.+)\}/.exec(k)?.[1]).find(Boolean)!;
      await expireAccessTokens(client, partition);
      assert.equal((await agent.get('/orders')).status, 200, 'refreshed');
      await collectSecrets();
      const before = stderr.authflowLines().length;
      // Failures: a replayed callback, a forged state, an unknown scope at refresh.
      const replay = await throughOp(agent, '/login');
      assert.equal((await agent.get(replay)).status, 302);
      assert.equal((await agent.get(replay)).status, 400);
      assert.equal((await agent.get('/callback?state=forged&code=forged')).status, 400);
      assert.equal((await agent.get('/graph')).status, 302);
      await collectSecrets();
      assert.ok(stderr.authflowLines().length > before, 'the failures were logged');
      const text = stderr.lines().join('\n');
      assert.ok(secrets.size >= 6, `collected ${secrets.size} secrets`);
      for (const secret of secrets) assert.ok(!text.includes(secret), 'a secret reached stderr');
    });

    it('in production the page stays generic and the log line carries the detail, with the same id', async () => {
      const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string | undefined }> = [];
      const logger = Object.fromEntries(['debug', 'info', 'warn', 'error'].map((level) => [level, (obj: Record<string, unknown>, msg?: string) => lines.push({ level, obj, msg })]));
      const { handler } = adapter.app(op, {
        redis, prefix: `${prefix}prod:`, sessionSecret: 'a-production-session-secret-of-32+chars',
        clientOptions: { credential: { secret: 'not-the-secret' }, logger: logger as never },
      });
      const agent = request.agent(handler);
      process.env.NODE_ENV = 'production';
      try {
        const page = await agent.get(await throughOp(agent, '/login'));
        assert.equal(page.status, 500);
        assert.ok(page.text.includes(GENERIC_DESCRIPTION), page.text);
        assert.doesNotMatch(page.text, /AADSTS7000215|invalid_client_secret|invalid_client<\/code>.*op-error/);
        const logged = lines.find((l) => l.obj.code === 'invalid_client');
        assert.match(logged?.msg ?? '', /invalid_client: AADSTS7000215: Invalid client secret provided/);
        assert.equal(logged?.obj.correlationId, correlationIdOf(page.text));
        // A host other than baseUrl's: the page stays plain, the log names both hosts.
        const missing = await agent.get('/callback?state=none&code=none');
        assert.equal(missing.status, 400);
        assert.doesNotMatch(missing.text, /baseUrl/);
        assert.match(String(lines.find((l) => l.obj.code === 'flow_missing')?.obj.hostMismatch), /127\.0\.0\.1.*localhost:3000/);
      } finally {
        delete process.env.NODE_ENV;
      }
    });

    it('a host other than baseUrl\'s is named on the page and in the log (cookie set for the other host)', async () => {
      const { handler } = adapter.app(op, { redis, prefix });
      const agent = request.agent(handler);
      // supertest talks to 127.0.0.1:<port>; baseUrl is http://localhost:3000.
      assert.equal((await agent.get('/login')).status, 302);
      assert.ok(linesWith('sign-in started at another host').some((l) => /127\.0\.0\.1.*localhost:3000/.test(l)), stderr.lines().join('\n'));
      const page = await agent.get('/callback?state=unknown&code=unknown').set('host', 'localhost:3000');
      assert.equal(page.status, 400);
      assert.doesNotMatch(page.text, /other host/, 'no hint when the host is baseUrl\'s');
      const fresh = await request(handler).get('/callback?state=unknown&code=unknown').set('host', '127.0.0.1:3000');
      assert.equal(fresh.status, 400);
      assert.match(fresh.text, /flow_missing/);
      assert.match(fresh.text, /127\.0\.0\.1:3000.*localhost:3000.*cookie was probably set for the other host/s);
      const line = linesWith('flow_missing').find((l) => l.includes(correlationIdOf(fresh.text)!));
      assert.match(line ?? '', /127\.0\.0\.1:3000/);
    });

    it('a page needing a scope the OP never grants: one sign-in round trip, then a readable page with the OP\'s reason', async () => {
      const { handler } = adapter.app(op, { redis, prefix });
      const agent = request.agent(handler);
      assert.equal((await agent.get(await throughOp(agent, '/login'))).status, 302);
      const first = await agent.get('/graph');
      assert.equal(first.status, 302);
      assert.equal(first.headers.location, '/login?returnTo=%2Fgraph');
      const back = await agent.get(await throughOp(agent, first.headers.location!));
      assert.equal(back.headers.location, 'http://localhost:3000/graph');
      const second = await agent.get('/graph');
      assert.equal(second.status, 403, 'no second redirect');
      assert.match(second.text, /AADSTS65001/);
      assert.match(second.text, /https:\/\/graph\.microsoft\.com\/User\.Read/);
      assert.match(second.text, /consent_required/);
      // Another page or scope still gets its sign-in.
      assert.equal((await agent.get('/inventory')).status, 302);
    });

    it('a sign-in that worked lifts the retry limit: the same page may send the browser to sign in again', async () => {
      const { handler, client } = adapter.app(op, { redis, prefix: `${prefix}retry:` });
      const agent = request.agent(handler);
      assert.equal((await agent.get(await throughOp(agent, '/login'))).status, 302);
      const consent = await agent.get('/inventory');
      assert.equal(consent.headers.location, '/login?returnTo=%2Finventory');
      assert.equal((await agent.get(await throughOp(agent, consent.headers.location!))).headers.location, 'http://localhost:3000/inventory');
      assert.equal((await agent.get('/inventory')).status, 200);
      // The token cache is gone (evicted, flushed): within the window, still a sign-in, not an error page.
      for (const key of await redis.keys(`${prefix}retry:tc:*`)) await client.clearCache(/\{(.+)\}/.exec(key)![1]!);
      const again = await agent.get('/inventory');
      assert.equal(again.status, 302, again.text);
      assert.equal(again.headers.location, '/login?returnTo=%2Finventory');
    });

    it('setup mistakes are named on the page and logged once per process', async () => {
      const cases: Array<[string, RequestListener, string, RegExp]> = [
        ['no session middleware', adapter.withoutSession(op), '/login', /authflow needs a session/],
        ['auth() after the routes', adapter.authAfterRoutes(op), '/orders', /mount app\.use\(auth\(\.\.\.\)\) before your routes/],
        ['requireAuth() without auth()', adapter.requireAuthWithoutAuth(), '/profile', /mount app\.use\(auth\(\.\.\.\)\) before the routes that use requireAuth\(\)/],
      ];
      for (const [what, handler, path, message] of cases) {
        const first = await request(handler).get(path);
        const second = await request(handler).get(path);
        assert.equal(first.status, 500, what);
        assert.equal(second.status, 500, what);
        if (adapter.name === 'express' || what === 'no session middleware') assert.match(first.text, message, `${what}: on the page`);
        const logged = stderr.authflowLines().filter((l) => message.test(l));
        assert.equal(logged.length, 1, `${what}: logged once: ${stderr.lines().join('\n')}`);
        assert.match(logged[0]!, /^authflow error /);
      }
    });

    it('with the session store down, /login answers 503 and never sends the browser to the OP', async () => {
      const port = await freePort(); // nothing listens there
      const down = new Redis(`redis://127.0.0.1:${port}`, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 200 });
      down.on('error', () => {});
      try {
        const authorizations = op.stats().authorization;
        const login = await request(adapter.withSessionRedis(op, down, `${prefix}down:`)).get('/login');
        assert.equal(login.status, 503, login.text);
        assert.equal(login.headers.location, undefined);
        assert.match(login.text, /store_unavailable/);
        assert.equal(op.stats().authorization, authorizations);
        assert.ok(linesWith('store_unavailable').length > 0);
      } finally {
        down.disconnect();
      }
    });

    it('an authority without its /v2.0 path: the page and the log name the URL asked and what to check', async () => {
      const { handler } = adapter.app(op, { redis, prefix, clientOptions: { authority: op.issuer.replace(/\/v2\.0$/, '') } });
      const page = await request(handler).get('/login');
      assert.equal(page.status, 502);
      assert.match(page.text, /HTTP 404 .*\/\.well-known\/openid-configuration/);
      assert.match(page.text, /ends in \/v2\.0/);
      assert.ok(linesWith('discovery_failed').some((l) => l.includes(correlationIdOf(page.text)!)));
    });
  });
}

export { BASE_URL };
