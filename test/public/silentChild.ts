/**
 * Run as a separate process by fileStore.test.ts: a new PublicClient reading the cache file left
 * by another process, acquiring a token silently. Prints one JSON line; never a token.
 * Env: AUTHFLOW_TEST_ISSUER, AUTHFLOW_TEST_CACHE, AUTHFLOW_TEST_CLIENT_ID.
 */
import { createHash } from 'node:crypto';
import { FileTokenCacheStore, PublicClient } from '../../src/index.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const client = new PublicClient({
  clientId: env('AUTHFLOW_TEST_CLIENT_ID'),
  authority: env('AUTHFLOW_TEST_ISSUER'),
  allowInsecureRequests: true,
  authorityType: 'entra',
  cacheStore: new FileTokenCacheStore(env('AUTHFLOW_TEST_CACHE')),
});
const accounts = await client.getAccounts();
const [account] = accounts;
if (!account) {
  console.log(JSON.stringify({ accounts: 0 }));
} else {
  const result = await client.acquireTokenSilent({ scopes: ['api://orders/Orders.Read'], account });
  console.log(JSON.stringify({
    accounts: accounts.length,
    username: account.username,
    name: account.name,
    fromCache: result.fromCache,
    accessTokenSha256: createHash('sha256').update(result.accessToken).digest('hex'),
  }));
}
