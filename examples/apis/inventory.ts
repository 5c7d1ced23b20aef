/**
 * The downstream `inventory` API: accepts tokens for api://inventory with the Inventory.Read
 * scope (users, through On-Behalf-Of) or the Inventory.Read.All role (apps).
 */
import express, { type Express } from 'express';
import type { ConfidentialClient } from '../../src/index.js';
import { authErrors, requireBearer } from '../../src/express/index.js';

export function createInventoryApi(client: ConfidentialClient): Express {
  const api = express();
  api.disable('x-powered-by');
  api.get('/inventory', requireBearer({ client, audience: 'api://inventory', scopes: ['Inventory.Read'], roles: ['Inventory.Read.All'] }), (req, res) => {
    res.json({
      items: [{ sku: 'tea-001', name: 'Green tea', stock: 42 }, { sku: 'mug-002', name: 'Mug', stock: 7 }],
      // Who is asking, as the token says: the calling app and, for delegated tokens, the user.
      calledBy: req.auth?.azp,
      onBehalfOf: req.auth?.oid,
    });
  });
  api.use(authErrors());
  return api;
}
