/**
 * The device-code flow against the dev OP over real HTTP: the test plays the user on the "other
 * device" with op.signIn(verification_uri_complete). Polls are counted at the dev OP's token endpoint.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { AuthError, type DevicePollInfo, type PublicClient } from '../../src/index.js';
import { DEVICE_GRANT, ORDERS, delay, publicClientFor, refusedWith, startDevOp, tokenRequests, type DevOp } from './helpers.js';

describe('device-code flow', () => {
  let op: DevOp;
  let client: PublicClient;

  before(async () => {
    op = await startDevOp();
    client = publicClientFor(op);
  });
  after(() => op.close());

  it('signs bob in end to end: tokens cached, getAccounts lists him, then silent from the cache', async () => {
    const flow = await client.initiateDeviceFlow({ scopes: ORDERS });
    assert.match(flow.userCode, /^[A-Z]{4}-[A-Z]{4}$/);
    assert.ok(flow.verificationUri.startsWith(op.issuer));
    assert.ok(flow.verificationUriComplete?.includes(encodeURIComponent(flow.userCode)) || flow.verificationUriComplete?.includes(flow.userCode));
    assert.ok(flow.message.includes(flow.userCode) && flow.message.includes(flow.verificationUri));
    assert.equal(flow.interval, 1, 'the dev OP advertises a 1 s interval');
    assert.equal(flow.expiresIn, 600);
    assert.deepEqual(flow.scopes, ['api://orders/Orders.Read', 'openid', 'profile', 'offline_access']);
    assert.equal(JSON.parse(JSON.stringify(flow)).deviceCode, flow.deviceCode, 'the flow is plain data');

    op.resetStats();
    const polling = client.acquireTokenByDeviceFlow(flow);
    const userStep = op.signIn(flow.verificationUriComplete!, { username: 'bob' });
    const [result] = await Promise.all([polling, userStep]);

    const bob = op.users.bob;
    assert.equal(result.fromCache, false);
    assert.equal(result.account?.homeAccountId, `${bob.oid}.${op.tenantId}`);
    assert.equal(result.account?.username, 'bob');
    assert.equal(result.account?.name, bob.name);
    assert.equal(result.idTokenClaims?.aud, op.clients.cli.clientId);
    assert.equal(decodeJwt(result.accessToken).aud, 'api://orders');
    assert.ok(tokenRequests(op, DEVICE_GRANT) >= 1);

    // getAccounts adds the tenant profiles (msal-node's shape): here the one tenant bob signed in to.
    const listed = await client.getAccounts();
    assert.deepEqual([...listed[0]!.tenantProfiles!.keys()], [result.account!.tenantId]);
    const plain = (list: typeof listed) => list.map(({ tenantProfiles: _profiles, ...account }) => account);
    assert.deepEqual(plain(listed), [result.account]);
    assert.deepEqual(plain(await client.getAccounts({ username: 'BOB' })), [result.account]);
    assert.deepEqual(await client.getAccounts({ username: 'alice' }), []);
    const cache = JSON.parse(await client.exportCache()) as Record<string, Record<string, unknown>>;
    assert.equal(Object.keys(cache.RefreshToken!).length, 1);
    assert.equal(Object.keys(cache.IdToken!).length, 1);

    op.resetStats();
    const silent = await client.acquireTokenSilent({ scopes: ORDERS, account: result.account! });
    assert.equal(silent.fromCache, true);
    assert.equal(silent.accessToken, result.accessToken);
    assert.equal(op.stats().tokenRequests, 0);
  });

  it('keeps polling while the user has not finished (onPending), then succeeds', async () => {
    const flow = await client.initiateDeviceFlow({ scopes: ORDERS });
    const pending: DevicePollInfo[] = [];
    let userStep: Promise<string> | undefined;
    const result = await client.acquireTokenByDeviceFlow(flow, {
      onPending: (info) => {
        pending.push(info);
        userStep ??= op.signIn(flow.verificationUriComplete!, { username: 'alice' });
      },
    });
    await userStep;
    assert.ok(pending.length >= 1);
    assert.deepEqual(pending[0], { attempt: 1, reason: 'authorization_pending', interval: 1 });
    assert.equal(result.account?.username, 'alice');
  });

  it('honours slow_down: polling faster than allowed adds 5 s to the interval', async () => {
    const flow = await client.initiateDeviceFlow({ scopes: ORDERS });
    op.resetStats();
    const pending: DevicePollInfo[] = [];
    let userStep: Promise<string> | undefined;
    const started = Date.now();
    // A client ignoring the OP's 1 s interval: the second poll comes too soon.
    const result = await client.acquireTokenByDeviceFlow({ ...flow, interval: 0.05 }, {
      onPending: (info) => {
        pending.push(info);
        if (info.reason === 'slow_down') userStep ??= op.signIn(flow.verificationUriComplete!, { username: 'bob' });
      },
    });
    await userStep;
    assert.deepEqual(pending.map((p) => [p.reason, p.interval]), [['authorization_pending', 0.05], ['slow_down', 5.05]]);
    assert.equal(tokenRequests(op, DEVICE_GRANT), 3, 'pending, slow_down, then the tokens after 5.05 s');
    assert.ok(Date.now() - started >= 5000, 'waited the longer interval');
    assert.equal(result.account?.username, 'bob');
  });

  it('stops with access_denied when the user declines at the OP', async () => {
    const flow = await client.initiateDeviceFlow({ scopes: ORDERS });
    const polling = client.acquireTokenByDeviceFlow(flow);
    // The OP's abort page is not a success page: the dev OP's helper rejects, the poll gets the answer.
    await op.signIn(flow.verificationUriComplete!, { username: 'bob', consent: false }).catch(() => undefined);
    await assert.rejects(polling, (err: unknown) => {
      refusedWith('access_denied')(err);
      assert.match((err as AuthError).description, /declined/);
      return true;
    });
  });

  it('cancels with an AbortSignal: rejects at once with flow_cancelled and polls no more', async () => {
    const flow = await client.initiateDeviceFlow({ scopes: ORDERS });
    op.resetStats();
    const controller = new AbortController();
    let abortedAt = 0;
    const polling = client.acquireTokenByDeviceFlow(flow, {
      signal: controller.signal,
      onPending: () => {
        abortedAt = Date.now();
        controller.abort();
      },
    });
    await assert.rejects(polling, refusedWith('flow_cancelled'));
    assert.ok(Date.now() - abortedAt < 200, 'rejected promptly, not at the next poll');
    const polls = tokenRequests(op, DEVICE_GRANT);
    assert.equal(polls, 1);
    await delay(1500);
    assert.equal(tokenRequests(op, DEVICE_GRANT), polls, 'no poll after the cancel');

    const already = new AbortController();
    already.abort();
    await assert.rejects(client.acquireTokenByDeviceFlow(flow, { signal: already.signal }), refusedWith('flow_cancelled'));
    assert.equal(tokenRequests(op, DEVICE_GRANT), polls);
  });

  it('refuses something that is not a device flow (flow_missing)', async () => {
    await assert.rejects(client.acquireTokenByDeviceFlow(undefined as never), refusedWith('flow_missing'));
  });
});

describe('device-code flow: expiry', () => {
  let op: DevOp;
  before(async () => {
    // oidc-provider sets exp in whole seconds (now, rounded down, + ttl): a code lives between
    // ttl - 1 and ttl seconds. With 2, the first poll (after the 1 s interval) could come after
    // expiry and never see authorization_pending (a clean-clone CI run failed so); 3 leaves a second.
    op = await startDevOp({ deviceCodeTtl: 3 });
  });
  after(() => op.close());

  it('stops with expired_token when the user never completes the sign-in', async () => {
    const client = publicClientFor(op);
    const flow = await client.initiateDeviceFlow({ scopes: ORDERS });
    assert.equal(flow.expiresIn, 3);
    const pending: DevicePollInfo[] = [];
    await assert.rejects(client.acquireTokenByDeviceFlow(flow, { onPending: (info) => pending.push(info) }), (err: unknown) => {
      refusedWith('expired_token')(err);
      assert.match((err as AuthError).description, /expired/);
      return true;
    });
    assert.ok(pending.length >= 1);
    assert.ok(op.lastErrors().some((e) => e.error === 'expired_token'), 'the OP said so');
  });
});
