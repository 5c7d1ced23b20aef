/**
 * The OP rotates its signing key while a web API (requireBearer) is under load: tokens signed with
 * the old key stay valid until they expire, tokens signed with the new key are accepted once the
 * API has refetched the JWKS (within the default cooldown), and the refetching stays bounded (no
 * burst of JWKS downloads whatever the request rate).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { authErrors, requireBearer } from '../src/express/index.js';
import { clientFor, signIn, startDevOp, type DevOp } from '../test/helpers/op.js';
import { countBy, report, runLoad } from './harness.js';

const COOLDOWN_SECONDS = 5; // the library's default, stated here to bound the wait below

describe('OP key rotation under load', () => {
  let op: DevOp;
  let server: Server;
  let apiUrl: string;
  let jwksFetches = 0;

  before(async () => {
    op = await startDevOp();
    const api = express();
    const countingFetch = (url: string, init: RequestInit): Promise<Response> => {
      if (url.includes('/keys')) jwksFetches++;
      return fetch(url, init);
    };
    api.get('/orders', requireBearer({ client: clientFor(op, 'orders'), audience: 'api://orders', scopes: ['Orders.Read'], fetch: countingFetch }), (req, res) => {
      res.json({ ok: true, kid: req.auth?.oid });
    });
    api.use(authErrors());
    server = createServer(api);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await op.close();
  });

  const tokenFor = async (username: string): Promise<string> =>
    (await signIn(op, clientFor(op, 'webApp'), { username, scopes: ['api://orders/Orders.Read'], partition: `${username}-${Date.now()}` })).accessToken;

  it('keeps old tokens valid, picks up the new key, and refetches the JWKS a bounded number of times', { timeout: 60_000 }, async () => {
    const oldToken = await tokenFor('alice');
    const tokens = [oldToken];
    const rotatedAt: number[] = [];
    const loadRun = runLoad({
      users: 20,
      durationMs: (COOLDOWN_SECONDS + 6) * 1000,
      urls: () => `${apiUrl}/orders`,
      headers: (user) => ({ authorization: `Bearer ${tokens[user % tokens.length]!}`, 'x-token': String(user % tokens.length) }),
      pauseMs: 5,
    });
    // Under load: rotate, then start using a token signed with the new key.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await op.rotateKeys();
    rotatedAt.push(Date.now());
    tokens.push(await tokenFor('bob'));
    const samples = await loadRun;

    const oldTokenSamples = samples.filter((s) => s.user % 2 === 0);
    const newTokenSamples = samples.filter((s) => s.user % 2 === 1 && s.at > rotatedAt[0]!);
    const newAfterCooldown = newTokenSamples.filter((s) => s.at > rotatedAt[0]! + (COOLDOWN_SECONDS + 1) * 1000);
    report('jwks-rotation', {
      requests: samples.length,
      statuses: [...countBy(samples, (s) => s.status)].map(([s, n]) => `${s}x${n}`).join(' '),
      oldTokenOk: `${oldTokenSamples.filter((s) => s.status === 200).length}/${oldTokenSamples.length}`,
      newTokenOkAfterCooldown: `${newAfterCooldown.filter((s) => s.status === 200).length}/${newAfterCooldown.length}`,
      newTokenRefusedBeforeRefetch: newTokenSamples.filter((s) => s.status === 401).length,
      jwksFetches,
    });
    assert.ok(oldTokenSamples.every((s) => s.status === 200), 'tokens signed with the old key stay valid');
    assert.ok(newAfterCooldown.length > 0 && newAfterCooldown.every((s) => s.status === 200), 'the new key is picked up');
    assert.ok(samples.every((s) => s.status === 200 || s.status === 401), 'nothing but 200, or 401 before the refetch');
    assert.ok(jwksFetches >= 2 && jwksFetches <= 3, `JWKS fetched ${jwksFetches} times for ${samples.length} requests`);
  });
});
