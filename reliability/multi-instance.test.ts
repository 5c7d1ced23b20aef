/**
 * Four app instances (processes) sharing one Redis and the dev OP, access tokens living 5 s:
 * 50 signed-in users call a route that uses req.getToken, round robin over the instances, for
 * RELIABILITY_SECONDS (default 60). Nothing may fail, every expiry costs exactly one refresh at
 * the OP, and no user loses their refresh token to a rotation race.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDevOp, tokenRequests, type DevOp } from '../test/helpers/op.js';
import { connectRedis, deleteKeys, redisUrl, uniquePrefix } from '../test/helpers/redis.js';
import { countBy, percentile, report, runLoad, signInSession, startWorkers } from './harness.js';

const SECONDS = Number(process.env.RELIABILITY_SECONDS ?? 60);
const USERS = 50;
const TOKEN_LIFETIME = 5;

describe('several instances under load', () => {
  let op: DevOp;
  let prefix: string;
  let stack: Awaited<ReturnType<typeof startWorkers>>;

  before(async () => {
    op = await startDevOp({ accessTokenTtl: TOKEN_LIFETIME });
    prefix = uniquePrefix('multi');
    stack = await startWorkers(4, {
      ISSUER: op.issuer,
      CLIENT_ID: op.clients.webApp.clientId,
      CLIENT_SECRET: op.clients.webApp.clientSecret!,
      REDIS_URL: await redisUrl(),
      PREFIX: prefix,
      RENEWAL_OFFSET: '1',
    });
  });
  after(async () => {
    await stack?.stop();
    const redis = await connectRedis();
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await op?.close();
  });

  it(`${USERS} users, 4 instances, ${SECONDS} s: no errors, one refresh per expiry, nobody signed out`, { timeout: (SECONDS + 120) * 1000 }, async () => {
    const urls = stack.workers.map((w) => w.url);
    const cookies: string[] = [];
    for (let user = 0; user < USERS; user++) cookies.push(await signInSession(op, urls[user % urls.length]!, user % 2 ? 'bob' : 'alice'));
    // Refreshes are counted from the next whole second on: every token issued from then on came from
    // a refresh, every earlier one from a sign-in (on a loaded machine the first sign-ins' tokens may
    // expire before the load starts, so "tokens seen minus one per user" would undercount).
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 10));
    const loadStart = Math.floor(Date.now() / 1000);
    op.resetStats();

    const samples = await runLoad({
      users: USERS,
      durationMs: SECONDS * 1000,
      urls: (_user, i) => `${urls[i % urls.length]}/token`,
      headers: (user) => ({ cookie: cookies[user]! }),
      pauseMs: 50,
    });

    const errors = samples.filter((s) => s.status !== 200);
    const statuses = [...countBy(errors, (s) => s.status)].map(([status, n]) => `${status}x${n}`).join(' ') || 'none';
    // Tokens each user got, by expiry: two different tokens for one expiry would mean two refreshes.
    let newTokens = 0;
    let duplicateRefreshes = 0;
    for (let user = 0; user < USERS; user++) {
      const tokens = new Map<string, number>();
      for (const s of samples) if (s.user === user && s.status === 200) {
        const { hash, exp } = JSON.parse(s.body) as { hash: string; exp: number };
        tokens.set(hash, exp);
      }
      const expiries = [...tokens.values()].sort((a, b) => a - b);
      newTokens += expiries.filter((exp) => exp - TOKEN_LIFETIME >= loadStart).length;
      for (let i = 1; i < expiries.length; i++) if (expiries[i]! - expiries[i - 1]! < TOKEN_LIFETIME / 2) duplicateRefreshes++;
    }
    const refreshes = tokenRequests(op, 'refresh_token');
    const latencies = samples.map((s) => s.ms);
    const invalidGrants = op.lastErrors().filter((e) => e.error === 'invalid_grant').length;
    report('multi-instance', {
      seconds: SECONDS,
      instances: 4,
      users: USERS,
      requests: samples.length,
      errors: errors.length,
      errorStatuses: statuses,
      refreshesAtOp: refreshes,
      refreshesPerExpiry: newTokens > 0 ? Number((refreshes / newTokens).toFixed(3)) : 0,
      duplicateRefreshes,
      invalidGrantAtOp: invalidGrants,
      p50ms: Math.round(percentile(latencies, 50)),
      p99ms: Math.round(percentile(latencies, 99)),
    });

    assert.equal(errors.length, 0, `errors: ${statuses}`);
    assert.ok(newTokens >= USERS * Math.floor((SECONDS - 1) / TOKEN_LIFETIME) * 0.5, `tokens were renewed (${newTokens})`);
    assert.equal(refreshes, newTokens, 'every refresh at the OP produced a token that was used: one refresh per expiry');
    assert.equal(duplicateRefreshes, 0);
    assert.equal(invalidGrants, 0, 'no refresh token was redeemed twice');
    for (const w of stack.workers) assert.equal(w.process.exitCode, null, 'every instance is still running');
  });
});
