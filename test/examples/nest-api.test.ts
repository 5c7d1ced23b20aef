/**
 * The NestJS recipe (examples/nest-api): the orders API on Nest's default Express platform, using
 * authflow/express as it is. It boots as its own process (Nest's legacy decorators need the
 * example's tsconfig, given to tsx through TSX_TSCONFIG_PATH) against the dev OP and the inventory
 * API running here; real HTTP, real tokens.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInventoryApi } from '../../examples/apis/inventory.js';
import { clientFor, signIn, startDevOp, type DevOp } from '../helpers/op.js';

const root = new URL('../../', import.meta.url).pathname;

describe('NestJS recipe: the orders API on Nest with authflow/express', () => {
  let op: DevOp;
  let inventory: Server;
  let nest: ChildProcess;
  let base = '';
  let output = '';

  before(async () => {
    op = await startDevOp();
    inventory = createInventoryApi(clientFor(op, 'inventory')).listen(0, '127.0.0.1');
    await new Promise((resolve) => inventory.once('listening', resolve));
    nest = spawn(process.execPath, ['--import', 'tsx', 'examples/nest-api/main.ts'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        TSX_TSCONFIG_PATH: 'examples/nest-api/tsconfig.json',
        PORT: '0',
        AUTHORITY: op.issuer,
        CLIENT_ID: op.clients.orders.clientId,
        CLIENT_SECRET: op.clients.orders.clientSecret!,
        INVENTORY_URL: `http://127.0.0.1:${(inventory.address() as AddressInfo).port}`,
      },
    });
    nest.stderr!.on('data', (c: Buffer) => { output += c.toString(); });
    base = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the Nest app did not start:\n${output}`)), 60_000);
      nest.stdout!.on('data', (c: Buffer) => {
        output += c.toString();
        const url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
        if (url) {
          clearTimeout(timer);
          resolve(url.replace('[::1]', '127.0.0.1'));
        }
      });
      nest.once('exit', (code) => reject(new Error(`the Nest app exited (${code}):\n${output}`)));
    });
  });
  after(async () => {
    nest?.kill('SIGTERM');
    await new Promise((resolve) => inventory.close(resolve));
    await op.close();
  });

  const userToken = async (scopes = ['api://orders/Orders.Read']): Promise<string> =>
    (await signIn(op, clientFor(op, 'webApp'), { scopes, partition: `p-${Math.random()}` })).accessToken;
  const get = (token?: string): Promise<Response> => fetch(`${base}/orders`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

  it('answers a caller with a valid token, having called inventory On-Behalf-Of the user (req.getToken)', async () => {
    const answer = await get(await userToken());
    assert.equal(answer.status, 200, output);
    const body = await answer.json() as { user: string; orders: unknown[]; inventory: { onBehalfOf: string; calledBy: string } };
    assert.equal(body.user, op.users.alice.oid);
    assert.ok(body.orders.length > 0);
    assert.equal(body.inventory.onBehalfOf, op.users.alice.oid, 'inventory saw alice');
    assert.equal(body.inventory.calledBy, op.clients.orders.clientId, 'through the orders API');
  });

  it('refuses the way requireBearer does: 401 without a token, invalid_token for a bad one, 403 insufficient_scope', async () => {
    const none = await get();
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="api"');
    const bad = await get('not.a.token');
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate')!, /error="invalid_token"/);
    assert.equal((await bad.json() as { error: string }).error, 'token_invalid', 'authflow\'s answer, not Nest\'s 403 "Forbidden resource"');
    const underScoped = await get(await userToken(['api://orders/Orders.Write']));
    assert.equal(underScoped.status, 403);
    assert.match(underScoped.headers.get('www-authenticate')!, /error="insufficient_scope"/);
  });

  it('passes a claims challenge from the OBO exchange back as a 401 (the exception filter hands it to authErrors())', async () => {
    const token = await userToken();
    op.faults.set({ oboClaimsChallenge: '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}' });
    try {
      const answer = await get(token);
      assert.equal(answer.status, 401);
      assert.match(answer.headers.get('www-authenticate')!, /error="insufficient_claims", claims="[A-Za-z0-9+/=]+"/);
    } finally {
      op.faults.clear();
    }
  });
});
