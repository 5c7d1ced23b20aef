/**
 * The `orders` web API (examples/apis/orders.ts) on Fastify 5: accepts the web app's tokens for
 * api://orders (scope Orders.Read) and calls the inventory API as the same user, with a token from
 * On-Behalf-Of (`request.getToken`). `npm start -- --orders=fastify` runs it.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { authErrors, requireBearer } from '../../src/fastify/index.js';
import type { OrdersApiOptions } from './orders.js';

export function createFastifyOrdersApi(options: OrdersApiOptions): FastifyInstance {
  const api = Fastify();
  // authflow's failures (a claims challenge from the OBO exchange) answered in the error handler.
  api.register(authErrors);
  api.register(async (routes) => routes.get('/orders', { preHandler: requireBearer({
    client: options.client, audience: 'api://orders', scopes: ['Orders.Read'],
    ...(options.tokensValidFrom ? { tokensValidFrom: options.tokensValidFrom } : {}),
  }) }, async (request, reply) => {
    const token = await request.getToken(['api://inventory/Inventory.Read']);
    const inventory = await fetch(`${options.inventoryUrl}/inventory`, { headers: { authorization: `Bearer ${token}` } });
    if (!inventory.ok) return reply.code(502).send({ error: 'inventory_failed', status: inventory.status });
    return {
      orders: [{ id: 1001, sku: 'tea-001', quantity: 2 }, { id: 1002, sku: 'mug-002', quantity: 1 }],
      user: request.auth?.oid,
      inventory: await inventory.json(),
    };
  }));
  return api;
}
