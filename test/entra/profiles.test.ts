/**
 * `accountProfiles` (src/cache/lookup.ts), a table: which tenant profiles one Account entity
 * stands for — msal-node 7's single entity with `tenantProfiles` (JSON strings), or one entity
 * per tenant (authflow, MSAL Python). Malformed profile entries are skipped, never the account.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accountProfiles } from '../../src/cache/lookup.js';
import type { AccountEntity } from '../../src/cache/entities.js';

const HOME = 'c0c0c0c0-0000-4000-8000-000000000001';
const GUEST = 'fafafafa-0000-4000-8000-000000000002';
const base = {
  home_account_id: `oid-home.${HOME}`, environment: 'login.windows.net', realm: HOME, local_account_id: 'oid-home',
  username: 'alice', authority_type: 'MSSTS',
} as unknown as AccountEntity;
const profile = (tenantId: string, localAccountId: string, isHomeTenant: boolean): string => JSON.stringify({ tenantId, localAccountId, name: 'Alice', isHomeTenant });

const cases: Array<[string, unknown, Array<[string, string]>]> = [
  ['no tenantProfiles: its own realm', undefined, [[HOME, 'oid-home']]],
  ['empty array: its own realm', [], [[HOME, 'oid-home']]],
  ['msal-node, guest only (signed in at the host tenant alone): the guest profile, not the home realm', [profile(GUEST, 'oid-guest', false)], [[GUEST, 'oid-guest']]],
  ['msal-node, home and guest', [profile(HOME, 'oid-home', true), profile(GUEST, 'oid-guest', false)], [[HOME, 'oid-home'], [GUEST, 'oid-guest']]],
  ['objects instead of strings are read too', [{ tenantId: GUEST, localAccountId: 'oid-guest' }], [[GUEST, 'oid-guest']]],
  ['a malformed entry is skipped', ['{not json', profile(GUEST, 'oid-guest', false), JSON.stringify({ localAccountId: 'x' })], [[GUEST, 'oid-guest']]],
  ['nothing usable: its own realm', ['{not json'], [[HOME, 'oid-home']]],
];

for (const [name, tenantProfiles, expected] of cases) {
  test(`accountProfiles: ${name}`, () => {
    const entity = (tenantProfiles === undefined ? base : { ...base, tenantProfiles }) as AccountEntity;
    assert.deepEqual(accountProfiles(entity).map((p) => [p.realm, p.local_account_id]), expected);
    for (const p of accountProfiles(entity)) assert.equal(p.home_account_id, base.home_account_id);
  });
}
