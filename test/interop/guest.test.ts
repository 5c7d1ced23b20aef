/**
 * Issue 15's tenant-profile part, across libraries: a guest's cache (alice of contoso, signed in
 * at the fabrikam authority: home account contoso, realm fabrikam, guest `oid`) moves between
 * authflow and msal-node / MSAL Python both ways: the other library serves the guest's fabrikam
 * token from the cache (no request) and refreshes it (one request), and authflow reads the result
 * back as the same home account with its fabrikam tenant profile.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { Matrix } from './matrix.js';
import { ORDERS, authflowPeer, msalNodePeer, msalPythonPeer, pythonMsalAvailable, startInterop, type Interop, type Outcome, type Peer } from './peers.js';

const python = pythonMsalAvailable();
const matrix = new Matrix();

/** MSAL Python orders refresh tokens by whole-second `last_modification_time`: hand its cache over on a new second (as rounds.test.ts explains). */
async function nextSecond(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
}

async function step(env: Interop, label: string, requests: number, run: () => Promise<Outcome>): Promise<Outcome> {
  env.tokenRequests();
  const outcome = await run();
  const made = env.tokenRequests();
  assert.ok(outcome.ok, `${label}: ${outcome.error} ${outcome.description ?? ''}`);
  assert.equal(made, requests, `${label}: ${made} token requests, expected ${requests}`);
  return outcome;
}

describe('interop: a guest\'s cache (fabrikam tenant profile of a contoso account)', { skip: python ? false : 'python3-msal is not installed' }, () => {
  let base: Interop;
  let env: Interop;
  before(async () => {
    base = await startInterop();
    // The same dev OP, at fabrikam's authority: where alice is a guest.
    env = { ...base, authority: `https://login.microsoftonline.com/${base.op.tenants.fabrikam.id}` };
  });
  after(async () => {
    for (const line of matrix.lines()) console.log(line);
    await base?.close();
  });

  const peerOf = (name: 'msal-node' | 'msal-python'): Promise<Peer> => (name === 'msal-node' ? msalNodePeer(env) : msalPythonPeer(env));

  for (const other of ['msal-node', 'msal-python'] as const) {
    for (const authflowFirst of [true, false]) {
      const [first, second] = authflowFirst ? ['authflow', other] : [other, 'authflow'];
      it(`${first} signs the guest in, ${second} serves and refreshes her fabrikam token, authflow reads her profile`, async () => {
        const af = authflowPeer(env, { partition: `guest-${other}-${first}` });
        const peer = await peerOf(other);
        const peers: Record<string, Peer> = { authflow: af, [other]: peer };
        const pair = `${other} + authflow`;
        try {
          const signedIn = await step(env, `${first} sign-in`, 1, () => peers[first]!.signIn('alice', ORDERS));
          if (other === 'msal-python') await nextSecond();
          await peers[second]!.importCache(await peers[first]!.exportCache());
          const hit = await step(env, `${second} silent hit`, 0, () => peers[second]!.silent(ORDERS, { username: 'alice' }));
          assert.equal(hit.token, signedIn.token, `${second} serves the guest token ${first} cached`);
          matrix.record(pair, `${first} → ${second}`, 'guest: silent hit (0 requests)', 'pass');
          await step(env, `${second} forceRefresh`, 1, () => peers[second]!.silent(ORDERS, { username: 'alice', forceRefresh: true }));
          matrix.record(pair, `${first} → ${second}`, 'guest: forceRefresh (1 request)', 'pass');
          // back to authflow (when it went first) and read: one account, home contoso, fabrikam profile, fabrikam token
          if (second !== 'authflow') {
            if (other === 'msal-python') await nextSecond();
            await af.importCache(await peer.exportCache());
          }
          const [account] = await af.client.getAccounts({ partition: `guest-${other}-${first}` });
          assert.equal(account?.homeAccountId, `${base.op.users.alice.oid}.${base.op.tenants.contoso.id}`);
          assert.equal(account?.tenantId, base.op.tenants.fabrikam.id);
          assert.equal(account?.localAccountId, base.op.guests.aliceInFabrikam.oid);
          assert.deepEqual([...account!.tenantProfiles!.keys()], [base.op.tenants.fabrikam.id]);
          const result = await af.client.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: `guest-${other}-${first}` });
          // MSAL Python keeps authflow's access token beside the one it refreshed (another key):
          // two live matches, so authflow drops both and refreshes, as msal-node does (README, MSAL rules).
          assert.equal(result.fromCache, !(other === 'msal-python' && first === 'authflow'));
          assert.equal(decodeJwt(result.accessToken)['tid'], base.op.tenants.fabrikam.id);
          assert.equal(decodeJwt(result.accessToken)['oid'], base.op.guests.aliceInFabrikam.oid);
          matrix.record(pair, `${first} → ${second} → authflow`, 'guest: one account, fabrikam profile, fabrikam token', 'pass');
        } finally {
          await peer.close();
        }
      });
    }
  }
});
