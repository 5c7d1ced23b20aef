/**
 * PublicClients wired to the dev OP's `cli` client, and small helpers for the public-client suites.
 */
import { PublicClient, type PublicClientOptions } from '../../src/index.js';
import type { DevOp } from '../helpers/op.js';

export { refusedWith, startDevOp, tokenRequests, type DevOp } from '../helpers/op.js';

export const ORDERS = ['api://orders/Orders.Read'];
export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** A PublicClient for the dev OP's `cli` client, speaking its Entra dialect over http. */
export function publicClientFor(op: DevOp, overrides: Partial<PublicClientOptions> = {}): PublicClient {
  return new PublicClient({
    clientId: op.clients.cli.clientId,
    authority: op.issuer,
    allowInsecureRequests: true,
    authorityType: 'entra',
    ...overrides,
  });
}


/** Makes every access token in the client's cache look expired, as time would (the refresh token is untouched). */
export async function expireAccessTokens(client: PublicClient): Promise<void> {
  const cache = JSON.parse(await client.exportCache()) as { AccessToken: Record<string, { expires_on: string; extended_expires_on: string }> };
  const past = String(Math.floor(Date.now() / 1000) - 10);
  for (const at of Object.values(cache.AccessToken)) {
    at.expires_on = past;
    at.extended_expires_on = past;
  }
  await client.importCache(cache);
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
