/**
 * The web apps' call to the orders API (Express and Hono examples alike): with the user's token,
 * and, when the API refuses a revoked token with a Continuous Access Evaluation claims challenge,
 * once more with a token that satisfies it. Asking for that token skips the cache; when it needs
 * the user, getToken fails with the typed error that sends the browser to sign in with the claims.
 */
import { parseClaimsChallenge } from '../../src/index.js';

export const ORDERS_SCOPE = 'api://orders/Orders.Read';

type GetToken = (scopes: readonly string[], options?: { claims?: string }) => Promise<string>;

/** The orders API's status and JSON answer. */
export async function callOrders(ordersUrl: string, getToken: GetToken): Promise<{ status: number; result: unknown }> {
  const call = (token: string): Promise<Response> => fetch(`${ordersUrl}/orders`, { headers: { authorization: `Bearer ${token}` } });
  let answer = await call(await getToken([ORDERS_SCOPE]));
  const claims = answer.status === 401 ? parseClaimsChallenge(answer.headers.get('www-authenticate')) : undefined;
  if (claims) answer = await call(await getToken([ORDERS_SCOPE], { claims }));
  return { status: answer.status, result: await answer.json() as unknown };
}
