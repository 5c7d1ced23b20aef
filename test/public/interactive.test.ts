/**
 * The interactive (system browser) flow against the dev OP: the test's openBrowser plays the
 * browser — it drives the OP's pages with op.signIn and then follows the redirect to the loopback
 * listener, as a browser would.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PublicClient } from '../../src/index.js';
import { ORDERS, publicClientFor, refusedWith, startDevOp, type DevOp } from './helpers.js';

describe('interactive flow (loopback redirect)', () => {
  let op: DevOp;
  let client: PublicClient;

  before(async () => {
    op = await startDevOp();
    client = publicClientFor(op);
  });
  after(() => op.close());

  /** What the "browser" saw. */
  interface Seen { authUri?: URL; redirectUri?: string; page?: string; status?: number; done?: Promise<void> }

  /** A browser that signs `username` in, optionally tampering with the auth URI or the callback URL. */
  function browser(seen: Seen, options: { username?: string; consent?: boolean; authUri?: (u: URL) => void; callback?: (u: URL) => void } = {}) {
    return async (url: string): Promise<void> => {
      seen.done = visit(url);
      await seen.done;
    };
    async function visit(url: string): Promise<void> {
      const authUri = new URL(url);
      seen.authUri = new URL(url);
      seen.redirectUri = authUri.searchParams.get('redirect_uri') ?? undefined;
      options.authUri?.(authUri);
      const final = new URL(await op.signIn(authUri.href, { username: options.username ?? 'alice', ...(options.consent === false ? { consent: false } : {}) }));
      options.callback?.(final);
      const res = await fetch(final);
      seen.status = res.status;
      seen.page = await res.text();
    }
  }

  async function assertListenerClosed(redirectUri: string | undefined): Promise<void> {
    assert.ok(redirectUri);
    await assert.rejects(fetch(redirectUri), TypeError, 'nothing listens on the redirect URI any more');
  }

  it('signs alice in through the loopback redirect; the browser gets a page without tokens; the listener closes', async () => {
    const seen: Seen = {};
    const result = await client.acquireTokenInteractive({ scopes: ORDERS, openBrowser: browser(seen) });
    await seen.done;
    assert.equal(result.account?.username, 'alice');
    assert.equal(result.fromCache, false);
    assert.match(seen.redirectUri ?? '', /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.notEqual(seen.redirectUri, 'http://127.0.0.1:0/');
    const auth = seen.authUri!;
    assert.equal(auth.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(auth.searchParams.get('state'));
    assert.ok(auth.searchParams.get('nonce'));
    assert.equal(result.idTokenClaims?.nonce, auth.searchParams.get('nonce'));
    assert.equal(seen.status, 200);
    assert.match(seen.page ?? '', /close this window/);
    assert.ok(!seen.page?.includes(result.accessToken) && !/eyJ/.test(seen.page ?? ''), 'no token in the page');
    await assertListenerClosed(seen.redirectUri);

    const silent = await client.acquireTokenSilent({ scopes: ORDERS, account: result.account! });
    assert.equal(silent.fromCache, true);
  });

  it('refuses a tampered callback (state_mismatch) and closes the listener', async () => {
    const seen: Seen = {};
    await assert.rejects(client.acquireTokenInteractive({
      scopes: ORDERS,
      openBrowser: browser(seen, { callback: (u) => u.searchParams.set('state', 'forged-state-value') }),
    }), refusedWith('state_mismatch'));
    await seen.done;
    assert.equal(seen.status, 400);
    assert.match(seen.page ?? '', /did not complete/);
    await assertListenerClosed(seen.redirectUri);
  });

  it('checks the nonce: an ID token minted for another nonce is refused (nonce_mismatch)', async () => {
    const seen: Seen = {};
    await assert.rejects(client.acquireTokenInteractive({
      scopes: ORDERS,
      openBrowser: browser(seen, { authUri: (u) => u.searchParams.set('nonce', 'attacker-chosen-nonce') }),
    }), refusedWith('nonce_mismatch'));
    await assertListenerClosed(seen.redirectUri);
  });

  it('passes the OP\'s refusal through (the user declines consent: access_denied)', async () => {
    const seen: Seen = {};
    await assert.rejects(client.acquireTokenInteractive({ scopes: ORDERS, openBrowser: browser(seen, { consent: false }) }), refusedWith('access_denied'));
    await assertListenerClosed(seen.redirectUri);
  });

  it('times out with flow_timeout when the browser never comes back, and closes the listener', async () => {
    let redirectUri: string | undefined;
    const started = Date.now();
    await assert.rejects(client.acquireTokenInteractive({
      scopes: ORDERS,
      timeoutMs: 300,
      openBrowser: async (url) => { redirectUri = new URL(url).searchParams.get('redirect_uri') ?? undefined; },
    }), refusedWith('flow_timeout'));
    assert.ok(Date.now() - started < 2000);
    await assertListenerClosed(redirectUri);
  });

  it('cancels with an AbortSignal (flow_cancelled), and passes openBrowser\'s own failure through', async () => {
    const controller = new AbortController();
    let redirectUri: string | undefined;
    await assert.rejects(client.acquireTokenInteractive({
      scopes: ORDERS,
      signal: controller.signal,
      openBrowser: async (url) => {
        redirectUri = new URL(url).searchParams.get('redirect_uri') ?? undefined;
        setTimeout(() => controller.abort(), 20);
      },
    }), refusedWith('flow_cancelled'));
    await assertListenerClosed(redirectUri);

    await assert.rejects(client.acquireTokenInteractive({
      scopes: ORDERS,
      openBrowser: async (url) => {
        redirectUri = new URL(url).searchParams.get('redirect_uri') ?? undefined;
        throw new Error('no browser here');
      },
    }), /no browser here/);
    await assertListenerClosed(redirectUri);
  });

  it('refuses a request without openBrowser (invalid_argument)', async () => {
    await assert.rejects(client.acquireTokenInteractive({ scopes: ORDERS } as never), refusedWith('invalid_argument'));
  });
});
