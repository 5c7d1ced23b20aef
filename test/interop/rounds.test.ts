/**
 * Issue 15, deliverable 1: authflow shares one user's cache with msal-node 7 and MSAL Python, both
 * directions. One library signs in; then five rounds alternate between the two libraries, each
 * taking the other's serialized cache: a silent cache hit (no token request), a forceRefresh and a
 * refresh of an expired access token (one token request each, the rotated refresh token handed
 * on). A library that picked a used refresh token would get `invalid_grant` from the dev OP,
 * which rotates refresh tokens.
 *
 * Reproduces observations 1 (msal-node writes `login.windows.net` for a `login.microsoftonline.com`
 * authority) and 2 (a stale refresh token left under another key format).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix } from './matrix.js';
import {
  ORDERS, authflowPeer, expireAccessTokens, msalNodePeer, msalPythonPeer, pythonMsalAvailable, startInterop, type Interop, type Outcome, type Peer,
} from './peers.js';

const python = pythonMsalAvailable();
const matrix = new Matrix();
type PeerName = Peer['name'];

async function makePeer(env: Interop, name: PeerName): Promise<Peer> {
  if (name === 'authflow') return authflowPeer(env);
  if (name === 'msal-node') return msalNodePeer(env);
  return msalPythonPeer(env);
}

/**
 * MSAL Python orders refresh tokens by `last_modification_time`, in whole seconds, and keeps the
 * entry another library wrote beside the one it rotates (its own key format). Within one second
 * it cannot tell them apart and may try the used one first (the dev OP then revokes the grant, as
 * a rotating OP should on reuse). Handing the cache over on a new second is what real use does.
 */
async function nextSecond(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
}

/** One operation: its outcome must be ok and cost exactly `requests` token requests. */
async function step(env: Interop, label: string, requests: number, run: () => Promise<Outcome>): Promise<Outcome> {
  env.tokenRequests();
  const outcome = await run();
  const made = env.tokenRequests();
  assert.ok(outcome.ok, `${label}: ${outcome.error} ${outcome.description ?? ''}`);
  assert.equal(made, requests, `${label}: ${made} token requests, expected ${requests}`);
  return outcome;
}

describe('interop: one user\'s cache moves between authflow and its peers, five rounds each way', { skip: python ? false : 'python3-msal is not installed' }, () => {
  let env: Interop;
  before(async () => {
    env = await startInterop();
  });
  after(async () => {
    for (const line of matrix.lines()) console.log(line);
    await env?.close();
  });

  const pairs: Array<[PeerName, PeerName]> = [['authflow', 'msal-node'], ['msal-node', 'authflow'], ['authflow', 'msal-python'], ['msal-python', 'authflow']];
  for (const [first, second] of pairs) {
    it(`${first} signs in, then ${second} and ${first} alternate: silent hit, forceRefresh, refresh`, async () => {
      const peers = { [first]: await makePeer(env, first), [second]: await makePeer(env, second) } as Record<PeerName, Peer>;
      const pair = `${first === 'authflow' ? second : first} + authflow`;
      try {
        const signedIn = await step(env, `${first} sign-in`, 1, () => peers[first].signIn('alice', ORDERS));
        let cache = await peers[first].exportCache();
        let lastToken = signedIn.token;
        for (let round = 1; round <= 5; round++) {
          const name = round % 2 === 1 ? second : first;
          const from = round % 2 === 1 ? first : second;
          const peer = peers[name];
          const direction = `${from} → ${name}`;
          if (first === 'msal-python' || second === 'msal-python') await nextSecond();
          await peer.importCache(cache);
          const hit = await step(env, `round ${round} ${name} silent hit`, 0, () => peer.silent(ORDERS, { username: 'alice' }));
          assert.equal(hit.token, lastToken, `round ${round}: ${name} serves the token ${from} cached`);
          if (round <= 2) matrix.record(pair, direction, 'silent: cache hit (0 token requests)', 'pass');
          const forced = await step(env, `round ${round} ${name} forceRefresh`, 1, () => peer.silent(ORDERS, { username: 'alice', forceRefresh: true }));
          assert.notEqual(forced.token, hit.token);
          if (round <= 2) matrix.record(pair, direction, 'forceRefresh (1 request, rotated RT)', 'pass');
          await peer.importCache(expireAccessTokens(await peer.exportCache()));
          const refreshed = await step(env, `round ${round} ${name} refresh`, 1, () => peer.silent(ORDERS, { username: 'alice' }));
          if (round <= 2) matrix.record(pair, direction, 'refresh of an expired AT (1 request)', 'pass');
          lastToken = refreshed.token;
          cache = await peer.exportCache();
        }
        matrix.record(pair, `${first} first`, '5 rounds, never invalid_grant', 'pass');
      } finally {
        for (const peer of Object.values(peers)) await peer.close();
      }
    });
  }
});
