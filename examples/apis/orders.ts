/**
 * The `orders` web API: accepts the web app's tokens for api://orders (scope Orders.Read) and
 * calls the inventory API as the same user, with a token from On-Behalf-Of (`req.getToken`).
 */
import express, { type Express } from 'express';
import type { BearerClaims, ConfidentialClient } from '../../src/index.js';
import { authErrors, requireBearer } from '../../src/express/index.js';

export interface OrdersApiOptions {
  /** The orders API's own confidential client (it authenticates the OBO exchange). */
  client: ConfidentialClient;
  /** Base URL of the inventory API. */
  inventoryUrl: string;
  /**
   * Continuous Access Evaluation: the user's TokensValidFrom after a revocation (the dev OP's
   * `op.tokensValidFrom`); older tokens are answered with Entra's claims challenge.
   */
  tokensValidFrom?: (claims: BearerClaims) => number | undefined;
  /** Base URL of the reports API (v1 tokens), called too when given (the multi-tenant example). */
  reportsUrl?: string;
}

export function createOrdersApi(options: OrdersApiOptions): Express {
  const api = express();
  api.disable('x-powered-by');
  // `.catch(next)` sends failures (a claims challenge from the OBO exchange) to authErrors(); Express 5
  // would do it for an async handler by itself, Express 4 would not.
  api.get('/orders', requireBearer({
    client: options.client, audience: 'api://orders', scopes: ['Orders.Read'],
    ...(options.tokensValidFrom ? { tokensValidFrom: options.tokensValidFrom } : {}),
  }), (req, res, next) => void (async () => {
    const token = await req.getToken(['api://inventory/Inventory.Read']);
    const inventory = await fetch(`${options.inventoryUrl}/inventory`, { headers: { authorization: `Bearer ${token}` } });
    if (!inventory.ok) {
      res.status(502).json({ error: 'inventory_failed', status: inventory.status });
      return;
    }
    let reports: unknown;
    if (options.reportsUrl) {
      // On-Behalf-Of for a guest goes to the tenant of her token (authflow picks that tenant's endpoint).
      const reportsToken = await req.getToken(['api://reports/Reports.Read']);
      const answer = await fetch(`${options.reportsUrl}/reports`, { headers: { authorization: `Bearer ${reportsToken}` } });
      reports = answer.ok ? await answer.json() : { error: 'reports_failed', status: answer.status };
    }
    res.json({
      orders: [{ id: 1001, sku: 'tea-001', quantity: 2 }, { id: 1002, sku: 'mug-002', quantity: 1 }],
      user: req.auth?.oid,
      tenant: req.auth?.tid,
      inventory: await inventory.json(),
      ...(reports ? { reports } : {}),
    });
  })().catch(next));
  api.use(authErrors());
  return api;
}
