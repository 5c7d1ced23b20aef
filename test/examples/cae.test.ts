/**
 * The example's CAE round trip over HTTP (supertest): alice signs in, calls the orders API (which
 * calls inventory On-Behalf-Of), is revoked at the dev OP (`op.revoke`), and the next call goes:
 * orders API 401 `insufficient_claims` -> web app `req.getToken(scopes, { claims })` -> refresh
 * refused (AADSTS50173) -> sign-in carrying the claims -> orders API accepts the new token.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { startStack, type Stack } from '../../examples/stack.js';

type Agent = ReturnType<typeof request.agent>;

describe('the example: CAE revocation and the claims challenge round trip', () => {
  let stack: Stack;
  before(async () => { stack = await startStack(); });
  after(() => stack.close());

  /** Completes the OP's pages from a 302 to /login or the authorize URL; resolves to where the app sends the browser after the callback. */
  async function throughOp(agent: Agent, authorize: string): Promise<string> {
    const callback = new URL(await stack.op.signIn(authorize, { username: 'alice' }));
    const back = await agent.get(callback.pathname + callback.search);
    assert.equal(back.status, 302, back.text);
    return new URL(back.headers.location!, stack.appUrl).pathname;
  }

  const resultOf = (html: string): { user?: string; inventory?: { onBehalfOf?: string } } =>
    JSON.parse(/<pre id="api-result">([^<]*)<\/pre>/.exec(html)![1]!.replace(/&#34;/g, '"')) as { user?: string };

  it('a revoked user is sent to sign in again with the claims, then the API call works', async () => {
    const agent = request.agent(stack.appUrl);
    const login = await agent.get('/login?returnTo=%2Fprofile');
    assert.deepEqual(JSON.parse(new URL(login.headers.location!).searchParams.get('claims')!), { access_token: { xms_cc: { values: ['CP1'] } } });
    assert.equal(await throughOp(agent, login.headers.location!), '/profile');
    const first = await agent.get('/call-api');
    assert.equal(first.status, 200, first.text);
    assert.equal(resultOf(first.text).user, stack.op.users.alice.oid);

    const validFrom = await stack.op.revoke('alice');
    const challenged = await agent.get('/call-api').set('accept', 'text/html');
    assert.equal(challenged.status, 302, challenged.text);
    assert.equal(challenged.headers.location, '/login?returnTo=%2Fcall-api');
    const again = await agent.get(challenged.headers.location!);
    const claims = JSON.parse(new URL(again.headers.location!).searchParams.get('claims')!) as unknown;
    assert.deepEqual(claims, { access_token: { nbf: { essential: true, value: String(validFrom) }, xms_cc: { values: ['CP1'] } } });
    assert.match(stack.op.lastErrors().map((e) => e.description ?? '').join('\n'), /AADSTS50173/);

    assert.equal(await throughOp(agent, again.headers.location!), '/call-api');
    const after = await agent.get('/call-api');
    assert.equal(after.status, 200, after.text);
    assert.equal(resultOf(after.text).user, stack.op.users.alice.oid);
    assert.equal(resultOf(after.text).inventory?.onBehalfOf, stack.op.users.alice.oid);
  });
});
