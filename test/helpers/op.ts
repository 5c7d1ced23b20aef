/**
 * The dev OP per suite, and clients wired to it. Client ids, secrets and redirect URIs are read
 * from `op.clients`, never repeated here.
 */
import assert from 'node:assert/strict';
import { AuthError, ConfidentialClient, type ConfidentialClientOptions, type TokenResult } from '../../src/index.js';
import { startDevOp } from '../../examples/dev-op/index.js';

export type DevOp = Awaited<ReturnType<typeof startDevOp>>;
export { startDevOp };

type ClientName = 'webApp' | 'orders' | 'ordersCert' | 'inventory' | 'daemon';

/** A ConfidentialClient for one of the dev OP's clients, speaking its Entra dialect over http. */
export function clientFor(op: DevOp, name: ClientName, overrides: Partial<ConfidentialClientOptions> = {}): ConfidentialClient {
  const registered = op.clients[name] as { clientId: string; clientSecret?: string; privateKey?: string; certificate?: string };
  const credential = registered.privateKey && registered.certificate
    ? { privateKey: registered.privateKey, certificate: registered.certificate }
    : { secret: registered.clientSecret! };
  return new ConfidentialClient({
    clientId: registered.clientId,
    authority: op.issuer,
    credential,
    allowInsecureRequests: true,
    authorityType: 'entra',
    ...overrides,
  });
}

export const redirectUriOf = (op: DevOp): string => op.clients.webApp.redirectUris![0]!;

/** Completes a sign-in for `username` through the dev OP's pages; resolves to the token result. */
export async function signIn(
  op: DevOp,
  client: ConfidentialClient,
  options: { username?: string; scopes?: string[]; partition?: string } = {},
): Promise<TokenResult> {
  const flow = await client.initiateAuthCodeFlow({ scopes: options.scopes ?? ['api://orders/Orders.Read'], redirectUri: redirectUriOf(op) });
  const callback = new URL(await op.signIn(flow.authUri, { username: options.username ?? 'alice' }));
  return client.acquireTokenByAuthCodeFlow(flow, callback.searchParams, options.partition ? { partition: options.partition } : {});
}

/** Makes every access token in a partition look expired, as time would (the refresh token is untouched). */
export async function expireAccessTokens(client: ConfidentialClient, partition: string): Promise<void> {
  const cache = JSON.parse(await client.exportCache(partition)) as { AccessToken: Record<string, { expires_on: string; extended_expires_on: string }> };
  const past = String(Math.floor(Date.now() / 1000) - 10);
  for (const at of Object.values(cache.AccessToken)) {
    at.expires_on = past;
    at.extended_expires_on = past;
  }
  await client.importCache(partition, cache);
}

/** The refresh token secret cached in a partition (tests compare rotations; never printed). */
export async function cachedRefreshToken(client: ConfidentialClient, partition: string): Promise<string | undefined> {
  const cache = JSON.parse(await client.exportCache(partition)) as { RefreshToken: Record<string, { secret: string }> };
  return Object.values(cache.RefreshToken)[0]?.secret;
}

/** Count of token-endpoint requests with this grant type since the last `resetStats()`. */
export const tokenRequests = (op: DevOp, grantType: string): number => (op.stats().token as Record<string, number | undefined>)[grantType] ?? 0;

/** An assert.rejects / assert.throws matcher for an AuthError with this code. */
export const refusedWith = (code: string) => (err: unknown): boolean => {
  assert.ok(err instanceof AuthError, `expected an AuthError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  return true;
};
