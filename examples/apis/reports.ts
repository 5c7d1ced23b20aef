/**
 * The downstream `reports` API (multi-tenant example): its registration leaves
 * `accessTokenAcceptedVersion` at 1, so Entra issues it v1 access tokens
 * (`https://sts.windows.net/<tid>/`, `appid`): `requireBearer` accepts them with `acceptV1Issuer`.
 */
import express, { type Express } from 'express';
import type { ConfidentialClient } from '../../src/index.js';
import { authErrors, requireBearer } from '../../src/express/index.js';

export function createReportsApi(client: ConfidentialClient): Express {
  const api = express();
  api.disable('x-powered-by');
  api.get('/reports', requireBearer({ client, audience: 'api://reports', scopes: ['Reports.Read'], roles: ['Reports.Read.All'], acceptV1Issuer: true }), (req, res) => {
    res.json({
      reports: [{ id: 'q3-sales', title: 'Sales, third quarter' }],
      // What the v1 token says: its version, the calling app (`appid`), the user and the tenant.
      tokenVersion: req.auth?.['ver'],
      calledBy: req.auth?.['appid'],
      onBehalfOf: req.auth?.oid,
      tenant: req.auth?.tid,
    });
  });
  api.use(authErrors());
  return api;
}
