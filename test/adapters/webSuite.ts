/**
 * One behaviour suite for every web adapter (Express, Koa, Fastify), over real HTTP (supertest) against the
 * dev OP, with Redis for sessions and token caches: sign-in (query and form_post callbacks), each
 * refused callback, session fixation, open redirects, incremental consent, a flushed cache,
 * logout (local and at the OP). Every response is scanned for tokens, codes and verifiers.
 * Adapter-specific tests stay beside the adapter (test/web/koa.test.ts) only where the framework differs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestListener } from 'node:http';
import request from 'supertest';
import type { Redis } from 'ioredis';
import type { ConfidentialClient } from '../../src/index.js';
import type { AppOptions } from '../helpers/expressApp.js';
import { INVENTORY } from '../helpers/koaApp.js';
import { startDevOp, type DevOp } from '../helpers/op.js';
import { connectRedis, deleteKeys, uniquePrefix } from '../helpers/redis.js';

type Agent = ReturnType<typeof request.agent>;
interface Seen { status: number; headers: Record<string, unknown>; body: string }

/** What the suite needs from an adapter. */
export interface WebAdapterUnderTest {
  name: string;
  /** The README's app (test/helpers): /, /profile, /orders, /inventory, /graph behind requireAuth. */
  build(op: DevOp, options: AppOptions & { redis: Redis; prefix: string }): { handler: RequestListener; client: ConfidentialClient };
  /** The session id in the session cookie's value ('' for a cleared cookie). */
  sessionIdOf(cookieValue: string): string;
  /** The session cookie's shape: an opaque id and its signature. */
  cookieFormat: RegExp;
  /** Whether logout clears the cookie (koa-session does; express-session leaves a dead id). */
  clearsCookieAtLogout: boolean;
}

export function webSuite(adapter: WebAdapterUnderTest): void {
  describe(`web adapter suite: authflow/${adapter.name}`, () => {
    let op: DevOp;
    let redis: Redis;
    let prefix: string;
    let handler: RequestListener;
    /** Every response the tests saw, and every secret they came across, for the leak scan at the end. */
    const seen: Seen[] = [];
    const secrets = new Set<string>();

    before(async () => {
      op = await startDevOp();
      redis = await connectRedis();
      prefix = uniquePrefix(`suite-${adapter.name}`);
      handler = adapter.build(op, { redis, prefix }).handler;
    });
    after(async () => {
      await deleteKeys(redis, prefix);
      redis.disconnect();
      await op.close();
    });

    const record = (response: request.Response): request.Response => {
      seen.push({ status: response.status, headers: response.headers, body: response.text ?? '' });
      return response;
    };
    const setCookies = (response: request.Response): string[] => ([] as string[]).concat(response.headers['set-cookie'] ?? []);
    /** The session id a response sets, if any; '' when it clears the cookie. */
    const sessionIdSet = (response: request.Response): string | undefined => {
      const value = setCookies(response).find((c) => c.startsWith('authflow.sid='))?.split(';')[0]!.slice('authflow.sid='.length);
      return value === undefined ? undefined : adapter.sessionIdOf(value);
    };
    const storedSession = async (sessionId: string): Promise<Record<string, unknown> | undefined> => {
      const value = await redis.get(`${prefix}sess:${sessionId}`);
      return value ? (JSON.parse(value) as Record<string, unknown>) : undefined;
    };
    const sessionKeys = (): Promise<string[]> => redis.keys(`${prefix}sess:*`);

    /**
     * Starts a sign-in in `agent`'s session and lets `username` through the OP; resolves to the
     * callback path and the session id the sign-in started in.
     */
    async function throughOp(agent: Agent, loginPath: string, options: { username?: string; consent?: boolean } = {}): Promise<{ path: string; sessionId: string | undefined }> {
      const login = record(await agent.get(loginPath));
      assert.equal(login.status, 302, login.text);
      const callback = new URL(await op.signIn(login.headers.location!, { username: options.username ?? 'alice', ...(options.consent === false ? { consent: false } : {}) }));
      const code = callback.searchParams.get('code');
      if (code) secrets.add(code);
      return { path: `${callback.pathname}${callback.search}`, sessionId: sessionIdSet(login) };
    }

    async function signedInAgent(returnTo = '/profile'): Promise<Agent> {
      const agent = request.agent(handler);
      const done = record(await agent.get((await throughOp(agent, `/login?returnTo=${encodeURIComponent(returnTo)}`)).path));
      assert.equal(done.status, 302, done.text);
      return agent;
    }

    /** Every secret of the token caches under our prefix, and the PKCE verifiers in stored sessions. */
    async function collectSecrets(): Promise<void> {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        cursor = next;
        for (const key of keys) {
          const type = await redis.type(key);
          const values = type === 'hash' ? Object.values(await redis.hgetall(key)) : type === 'string' ? [(await redis.get(key))!] : [];
          for (const value of values) for (const m of value.matchAll(/"(?:secret|codeVerifier)":"([^"]+)"/g)) secrets.add(m[1]!);
        }
      } while (cursor !== '0');
    }

    it('signs alice in end to end and brings her back to the page she asked for', async () => {
      const agent = request.agent(handler);
      const anonymous = record(await agent.get('/profile'));
      assert.equal(anonymous.status, 302);
      assert.equal(anonymous.headers.location, '/login?returnTo=%2Fprofile');
      assert.equal(anonymous.headers['cache-control'], 'no-store');
      const done = record(await agent.get((await throughOp(agent, anonymous.headers.location!)).path));
      assert.equal(done.status, 302);
      assert.equal(done.headers.location, 'http://localhost:3000/profile');
      const profile = record(await agent.get('/profile'));
      assert.equal(profile.status, 200);
      assert.deepEqual(profile.body, { name: op.users.alice.name, username: op.users.alice.username });
      const orders = record(await agent.get('/orders'));
      assert.equal(orders.status, 200);
      assert.deepEqual(orders.body, { aud: 'api://orders' });
      assert.deepEqual(record(await agent.get('/')).body, { signedIn: true });
      assert.deepEqual(record(await request(handler).get('/')).body, { signedIn: false });
    });

    it('reads a POST (urlencoded) callback like a query one', async () => {
      const agent = request.agent(handler);
      const { path } = await throughOp(agent, '/login?returnTo=%2Forders');
      const [pathname, query] = path.split('?') as [string, string];
      const done = record(await agent.post(pathname).type('form').send(query));
      assert.equal(done.status, 302, done.text);
      assert.equal(done.headers.location, 'http://localhost:3000/orders');
      assert.deepEqual(record(await agent.get('/orders')).body, { aud: 'api://orders' });
    });

    it('sets an httpOnly, SameSite=Lax session cookie and regenerates the session id at sign-in', async () => {
      const agent = request.agent(handler);
      const login = record(await agent.get('/login'));
      const cookies = setCookies(login).filter((c) => c.startsWith('authflow.sid'));
      assert.equal(cookies.length, 1, 'one cookie: the session id, signed with authflow\'s secret');
      assert.match(cookies[0]!, adapter.cookieFormat, 'an opaque id and its HMAC');
      for (const raw of cookies) {
        assert.match(raw, /HttpOnly/i);
        assert.match(raw, /SameSite=Lax/i);
        assert.doesNotMatch(raw, /Secure/i, 'not Secure on http://localhost');
        assert.match(raw, /path=\//i);
      }
      const before = sessionIdSet(login);
      assert.ok(before, 'a session id at login');
      assert.ok(await storedSession(before), 'the pre-sign-in session is stored');
      const callback = new URL(await op.signIn(login.headers.location!, { username: 'alice' }));
      const done = record(await agent.get(`${callback.pathname}${callback.search}`));
      assert.equal(done.status, 302);
      const afterSignIn = sessionIdSet(done);
      assert.ok(afterSignIn && afterSignIn !== before, 'a new session id after sign-in');
      assert.equal(await redis.exists(`${prefix}sess:${before}`), 0, 'the pre-sign-in session is gone');
      const stored = await storedSession(afterSignIn);
      const data = stored?.authflow as { user?: unknown; signIns?: unknown } | undefined;
      assert.ok(data?.user, 'the new session holds the user');
      assert.equal(data?.signIns, undefined, 'and nothing of the pre-sign-in session');
      // Nothing but authflow's data and the session middleware's own bookkeeping (express-session: cookie).
      assert.deepEqual(Object.keys(stored!).filter((k) => !k.startsWith('_') && k !== 'cookie'), ['authflow']);
      assert.equal(record(await agent.get('/profile')).status, 200, 'the browser follows the new id');
    });

    const refusals: Array<[string, (path: string) => string, number, string]> = [
      ['state mismatch', (path) => path.replace(/state=[^&]+/, 'state=forged-state-value'), 400, 'state_mismatch'],
      ['tampered iss', (path) => path.replace(/iss=[^&]+/, `iss=${encodeURIComponent('https://evil.example')}`), 400, 'issuer_mismatch'],
    ];
    for (const [name, tamper, status, code] of refusals) {
      it(`refuses a callback with a ${name}: ${status} ${code}, no session, no token`, async () => {
        const agent = request.agent(handler);
        const { path, sessionId } = await throughOp(agent, '/login');
        const caches = (await redis.keys(`${prefix}tc:*`)).sort();
        const refused = record(await agent.get(tamper(path)).set('accept', 'application/json'));
        assert.equal(refused.status, status);
        assert.equal(refused.body.error, code);
        assert.equal(refused.headers['cache-control'], 'no-store');
        const newId = sessionIdSet(refused);
        assert.ok(newId === undefined || newId === sessionId, 'no new session id');
        assert.equal(((await storedSession(sessionId!))?.authflow as { user?: unknown } | undefined)?.user, undefined, 'no user in the session');
        assert.deepEqual((await redis.keys(`${prefix}tc:*`)).sort(), caches, 'no token cached');
        assert.equal(record(await agent.get('/profile')).status, 302, 'not signed in');
      });
    }

    it('refuses a replayed callback, keeping the signed-in session as it was', async () => {
      const agent = request.agent(handler);
      const { path } = await throughOp(agent, '/login');
      const done = record(await agent.get(path));
      assert.equal(done.status, 302);
      const sessionId = sessionIdSet(done)!;
      const storedBefore = await storedSession(sessionId);
      const replay = record(await agent.get(path));
      assert.equal(replay.status, 400);
      assert.match(replay.text, /flow_missing/);
      assert.match(replay.headers['content-type']!, /text\/html/);
      assert.equal(sessionIdSet(replay), undefined, 'the session cookie is left alone');
      assert.deepEqual((await storedSession(sessionId))?.authflow, storedBefore?.authflow, 'the session is unchanged');
      assert.equal(record(await agent.get('/profile')).status, 200, 'still signed in');
      const sessions = (await sessionKeys()).length;
      const stranger = record(await request(handler).get(path).set('accept', 'application/json'));
      assert.equal(stranger.status, 400);
      assert.equal(stranger.body.error, 'flow_missing');
      assert.equal(sessionIdSet(stranger), undefined, 'no session for a stranger');
      assert.equal((await sessionKeys()).length, sessions, 'no session stored for a stranger');
    });

    it('shows the OP\'s access_denied as a 401 and creates no session', async () => {
      const agent = request.agent(handler);
      const { path, sessionId } = await throughOp(agent, '/login', { username: 'bob', consent: false });
      const denied = record(await agent.get(path).set('accept', 'application/json'));
      assert.equal(denied.status, 401);
      assert.equal(denied.body.error, 'access_denied');
      const newId = sessionIdSet(denied);
      assert.ok(newId === undefined || newId === sessionId, 'no new session id');
      assert.equal(((await storedSession(sessionId!))?.authflow as { user?: unknown } | undefined)?.user, undefined);
      assert.equal(record(await agent.get('/profile')).status, 302);
    });

    it('escapes an error_description forged into the callback URL', async () => {
      const agent = request.agent(handler);
      const { path } = await throughOp(agent, '/login');
      const state = new URLSearchParams(path.split('?')[1]).get('state')!;
      const forged = record(await agent.get(`/callback?state=${state}&error=access_denied&error_description=${encodeURIComponent('<script>alert(1)</script>')}`));
      assert.equal(forged.status, 401);
      assert.match(forged.headers['content-type']!, /text\/html/);
      assert.ok(!forged.text.includes('<script>'));
      assert.match(forged.text, /&#60;script&#62;/);
    });

    it('never redirects off-site after sign-in, whatever returnTo says', async () => {
      const attempts = [
        'https://evil.example/', '//evil.example', '/\\evil.example', '\\\\evil.example', 'javascript:alert(1)',
        '/%2F%2Fevil.example', '/%5Cevil.example', '%2F%2Fevil.example', '/\t/evil.example', 'http:/evil.example',
        '///evil.example', ' //evil.example', 'data:text/html,hi',
      ];
      for (const returnTo of attempts) {
        const agent = request.agent(handler);
        const done = record(await agent.get((await throughOp(agent, `/login?returnTo=${encodeURIComponent(returnTo)}`)).path));
        assert.equal(done.status, 302);
        assert.equal(done.headers.location, 'http://localhost:3000/', `returnTo ${JSON.stringify(returnTo)}`);
      }
      const agent = request.agent(handler);
      const done = record(await agent.get((await throughOp(agent, `/login?returnTo=${encodeURIComponent('/orders?page=2#top')}`)).path));
      assert.equal(done.headers.location, 'http://localhost:3000/orders?page=2#top', 'a local path is kept (absolute, on the app)');
    });

    it('turns a token request needing consent into a sign-in for the missing scopes, back to the same page', async () => {
      const agent = await signedInAgent();
      const api = record(await agent.get('/inventory').set('accept', 'application/json'));
      assert.equal(api.status, 401);
      assert.equal(api.body.login_uri, '/login?returnTo=%2Finventory');
      assert.match(String(api.headers['www-authenticate']), /login_uri="\/login\?returnTo=%2Finventory"/);
      assert.equal(api.headers['cache-control'], 'no-store');

      const page = record(await agent.get('/inventory'));
      assert.equal(page.status, 302);
      assert.equal(page.headers.location, '/login?returnTo=%2Finventory');
      const login = record(await agent.get(page.headers.location!));
      const scopes = new URL(login.headers.location!).searchParams.get('scope')!.split(' ');
      assert.ok(scopes.includes(INVENTORY[0]!), `asks for ${INVENTORY[0]}: ${scopes.join(' ')}`);
      const callback = new URL(await op.signIn(login.headers.location!, { username: 'alice' }));
      const done = record(await agent.get(`${callback.pathname}${callback.search}`));
      assert.equal(done.headers.location, 'http://localhost:3000/inventory');
      const inventory = record(await agent.get('/inventory'));
      assert.equal(inventory.status, 200);
      assert.deepEqual(inventory.body, { aud: 'api://inventory' });
    });

    it('sends a user whose token cache was flushed to sign in again, not to a 500', async () => {
      const agent = await signedInAgent();
      assert.equal(record(await agent.get('/orders')).status, 200);
      await collectSecrets();
      await deleteKeys(redis, `${prefix}tc:`);
      // This instance keeps a local copy of the partition for localCacheSeconds (1 s here): a token
      // still valid is served from it meanwhile; after that the flush is seen.
      assert.equal(record(await agent.get('/orders')).status, 200, 'served from the local copy');
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const page = record(await agent.get('/orders'));
      assert.equal(page.status, 302);
      assert.equal(page.headers.location, '/login?returnTo=%2Forders');
      const api = record(await agent.get('/orders').set('accept', 'application/json'));
      assert.equal(api.status, 401);
      assert.equal(api.body.error, 'interaction_required');
      assert.equal(api.body.login_uri, '/login?returnTo=%2Forders');
    });

    it('logs out: the cache partition and the session are gone', async () => {
      const agent = request.agent(handler);
      const signedIn = record(await agent.get((await throughOp(agent, '/login')).path));
      const sessionId = sessionIdSet(signedIn)!;
      assert.equal(await redis.exists(`${prefix}sess:${sessionId}`), 1);
      await collectSecrets();
      const before = new Set(await redis.keys(`${prefix}tc:*`));
      const out = record(await agent.post('/logout'));
      assert.equal(out.status, 302);
      assert.equal(out.headers.location, 'http://localhost:3000/');
      // koa-session clears the cookie; express-session leaves it naming a session that no longer exists.
      if (adapter.clearsCookieAtLogout) assert.equal(sessionIdSet(out), '', 'the session cookie is cleared');
      const afterKeys = new Set(await redis.keys(`${prefix}tc:*`));
      assert.equal([...before].filter((k) => !afterKeys.has(k)).length, 1, 'one partition cleared');
      assert.equal(await redis.exists(`${prefix}sess:${sessionId}`), 0, 'the session is destroyed');
      assert.equal(record(await agent.get('/profile')).status, 302);
    });

    it('logs out at the OP too when idpLogout is on, without putting the ID token in the URL', async () => {
      const withIdp = adapter.build(op, { redis, prefix, idpLogout: true });
      const agent = request.agent(withIdp.handler);
      const { path } = await throughOp(agent, '/login');
      record(await agent.get(path));
      const out = record(await agent.post('/logout'));
      assert.equal(out.status, 302);
      const location = new URL(out.headers.location!);
      assert.equal(location.origin + location.pathname, (await withIdp.client.discover()).endSessionEndpoint);
      assert.equal(location.searchParams.get('client_id'), op.clients.webApp.clientId);
      assert.equal(location.searchParams.get('post_logout_redirect_uri'), 'http://localhost:3000/');
      assert.equal(location.searchParams.get('id_token_hint'), null);
    });

    it('leaks no token, code or verifier in any response', async () => {
      await collectSecrets();
      assert.ok(secrets.size > 10, `collected ${secrets.size} secrets to look for`);
      assert.ok(seen.length > 30);
      for (const response of seen) {
        const text = `${JSON.stringify(response.headers)}\n${response.body}`;
        for (const secret of secrets) assert.ok(!text.includes(secret), `a ${response.status} response contains a secret`);
      }
    });
  });
}
