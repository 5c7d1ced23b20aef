/**
 * The interop suite's ground: Entra's real host names mapped onto the dev OP on loopback. The
 * dev OP answers discovery as the host asked for (endpoints under it, one issuer), and Entra's
 * instance discovery with the clouds' alias groups, which MSAL Python asks for before it looks at
 * entries filed under another alias (login.windows.net, written by msal-node and authflow).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ENTRA_CLOUDS } from '../../src/cache/environments.js';
import { startInterop, type Interop } from './peers.js';

describe('Entra host names mapped onto the dev OP', () => {
  let env: Interop;
  before(async () => {
    env = await startInterop();
  });
  after(() => env?.close());

  it('answers discovery at every alias with endpoints under that host and one issuer', async () => {
    for (const host of ['login.microsoftonline.com', 'login.windows.net', 'login.microsoft.com', 'sts.windows.net']) {
      const metadata = await (await fetch(`https://${host}/${env.op.tenantId}/v2.0/.well-known/openid-configuration`)).json() as Record<string, string>;
      assert.equal(metadata.issuer, `https://login.microsoftonline.com/${env.op.tenantId}/v2.0`);
      assert.ok(metadata.token_endpoint!.startsWith(`https://${host}/`), metadata.token_endpoint);
    }
  });

  it('answers Entra\'s instance discovery with the alias groups', async () => {
    const answer = await (await fetch('https://login.microsoftonline.com/common/discovery/instance?api-version=1.1&authorization_endpoint=https://login.microsoftonline.com/common/oauth2/authorize')).json() as {
      tenant_discovery_endpoint: string; metadata: unknown;
    };
    assert.deepEqual(answer.metadata, ENTRA_CLOUDS);
    assert.equal(answer.tenant_discovery_endpoint, `https://login.microsoftonline.com/${env.op.tenantId}/v2.0/.well-known/openid-configuration`);
  });

});
