/**
 * Pure functions of src/authority.ts for multi-tenant Entra, as tables: which authorities are
 * multi-tenant (Entra's hosts, and an Entra look-alike with `authorityType: 'entra'`), and the
 * tenant endpoints a tenant profile's refresh or a guest's OBO go to (refused: anything else).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAuthority, tenantEndpoints } from '../../src/authority.js';

const TID = 'f4b21c6e-8d3a-4b7f-a2e9-3c1d5e7f9a0b';

const authorities: Array<[string, 'entra' | 'oidc' | undefined, { multiTenant: boolean; tenant: string | undefined }]> = [
  ['https://login.microsoftonline.com/organizations/v2.0', undefined, { multiTenant: true, tenant: 'organizations' }],
  ['https://login.microsoftonline.com/common', undefined, { multiTenant: true, tenant: 'common' }],
  ['https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0', undefined, { multiTenant: false, tenant: 'contoso.onmicrosoft.com' }],
  ['http://127.0.0.1:4000/organizations/v2.0', 'entra', { multiTenant: true, tenant: 'organizations' }],
  ['http://127.0.0.1:4000/Common/v2.0/', 'entra', { multiTenant: true, tenant: 'common' }],
  ['http://127.0.0.1:4000/organizations/v2.0', 'oidc', { multiTenant: false, tenant: undefined }],
  ['http://127.0.0.1:4000/organizations/v2.0', undefined, { multiTenant: false, tenant: undefined }],
  [`http://127.0.0.1:4000/${TID}/v2.0`, 'entra', { multiTenant: false, tenant: undefined }],
  ['http://127.0.0.1:4000/organizations', 'entra', { multiTenant: false, tenant: undefined }],
];

for (const [url, authorityType, expected] of authorities) {
  test(`parseAuthority ${url} (${authorityType ?? 'by host'}) -> ${expected.multiTenant ? `multi-tenant ${expected.tenant}` : 'one tenant'}`, () => {
    const a = parseAuthority(url, { allowInsecureRequests: true, ...(authorityType ? { authorityType } : {}) });
    assert.deepEqual({ multiTenant: a.multiTenant, tenant: a.tenant }, expected);
  });
}

const organizations = parseAuthority('https://login.microsoftonline.com/organizations/v2.0', {});
const devOp = parseAuthority('http://127.0.0.1:4000/organizations/v2.0', { allowInsecureRequests: true, authorityType: 'entra' });
const single = parseAuthority(`https://login.microsoftonline.com/${TID}/v2.0`, {});

const endpoints: Array<[string, Parameters<typeof tenantEndpoints>, { issuer: string; tokenEndpoint: string } | undefined]> = [
  ['Entra /organizations', [organizations, TID, 'https://login.microsoftonline.com/organizations/oauth2/v2.0/token'],
    { issuer: `https://login.microsoftonline.com/${TID}/v2.0`, tokenEndpoint: `https://login.microsoftonline.com/${TID}/oauth2/v2.0/token` }],
  ['a tenant id in capitals is lower-cased', [organizations, TID.toUpperCase(), 'https://login.microsoftonline.com/organizations/oauth2/v2.0/token'],
    { issuer: `https://login.microsoftonline.com/${TID}/v2.0`, tokenEndpoint: `https://login.microsoftonline.com/${TID}/oauth2/v2.0/token` }],
  ['the dev OP (/organizations/v2.0/oauth2/…)', [devOp, TID, 'http://127.0.0.1:4000/organizations/v2.0/oauth2/v2.0/token'],
    { issuer: `http://127.0.0.1:4000/${TID}/v2.0`, tokenEndpoint: `http://127.0.0.1:4000/${TID}/v2.0/oauth2/v2.0/token` }],
  ['refused: a single-tenant authority', [single, TID, `https://login.microsoftonline.com/${TID}/oauth2/v2.0/token`], undefined],
  ['refused: no tenant', [organizations, undefined, 'https://login.microsoftonline.com/organizations/oauth2/v2.0/token'], undefined],
  ['refused: a tenant that is not a GUID (a path segment could be anything)', [organizations, '../evil', 'https://login.microsoftonline.com/organizations/oauth2/v2.0/token'], undefined],
  ['refused: a token endpoint without the multi-tenant segment', [organizations, TID, 'https://login.microsoftonline.com/other/oauth2/v2.0/token'], undefined],
];

for (const [name, args, expected] of endpoints) {
  test(`tenantEndpoints: ${name}`, () => {
    const found = tenantEndpoints(...args);
    assert.deepEqual(found ? { issuer: found.issuer.href.replace(/\/$/, ''), tokenEndpoint: found.tokenEndpoint } : undefined, expected);
  });
}
