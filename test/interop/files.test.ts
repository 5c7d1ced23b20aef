/**
 * Issue 15, deliverables 1 and 3, observations 4 and 5: every cache the peers write survives
 * authflow's import and export unchanged, and one cache file is shared by msal-node's file
 * persistence (a cache plugin reading and writing its serialized cache), MSAL Python's
 * SerializableTokenCache (its documented file recipe) and authflow's FileTokenCacheStore without
 * losing an entry of any of them.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ICachePlugin } from '@azure/msal-node';
import { FileTokenCacheStore } from '../../src/index.js';
import { Matrix } from './matrix.js';
import {
  INVENTORY, ORDERS, authflowPeer, msalNodePeer, msalPythonPeer, pythonMsalAvailable, startInterop, type Interop,
} from './peers.js';

const python = pythonMsalAvailable();
const matrix = new Matrix();
type Json = Record<string, Record<string, unknown>>;

/** A cache as JSON without its empty sections (MSAL Python writes only the sections it has, msal-node and authflow all five). */
function normalised(json: string): Json {
  return Object.fromEntries(Object.entries(JSON.parse(json) as Json).filter(([, entries]) => !(entries && typeof entries === 'object' && Object.keys(entries).length === 0)));
}

const keysOf = (json: Json): string[] => Object.entries(json).flatMap(([section, entries]) => Object.keys(entries ?? {}).map((key) => `${section}/${key}`));

describe('interop: caches survive authflow unchanged; one cache file for three libraries', { skip: python ? false : 'python3-msal is not installed' }, () => {
  let env: Interop;
  before(async () => {
    env = await startInterop();
  });
  after(async () => {
    for (const line of matrix.lines()) console.log(line);
    await env?.close();
  });

  it('round trip: importCache then exportCache gives back every cache msal-node and MSAL Python write, deep-equal', async () => {
    const caches: Array<[string, string]> = [];
    const m = await msalNodePeer(env);
    { const o = await m.signIn('alice', ORDERS); assert.ok(o.ok, `m.signIn: ${o.error} ${o.description}`); }
    { const o = await m.silent(ORDERS, { username: 'alice', forceRefresh: true }); assert.ok(o.ok, `m.silent: ${o.error} ${o.description}`); }
    caches.push(['msal-node user cache', await m.exportCache()]);
    const md = await msalNodePeer(env, { client: 'daemon' });
    { const o = await md.clientCredentials(['api://inventory/.default']); assert.ok(o.ok, `md.clientCredentials: ${o.error} ${o.description}`); }
    caches.push(['msal-node app cache', await md.exportCache()]);
    const p = await msalPythonPeer(env);
    const pd = await msalPythonPeer(env, { client: 'daemon' });
    try {
      { const o = await p.signIn('bob', ORDERS); assert.ok(o.ok, `p.signIn: ${o.error} ${o.description}`); }
      { const o = await p.silent(ORDERS, { username: 'bob', forceRefresh: true }); assert.ok(o.ok, `p.silent: ${o.error} ${o.description}`); }
      caches.push(['MSAL Python user cache', await p.exportCache()]);
      { const o = await pd.clientCredentials(['api://inventory/.default']); assert.ok(o.ok, `pd.clientCredentials: ${o.error} ${o.description}`); }
      caches.push(['MSAL Python app cache', await pd.exportCache()]);
    } finally {
      await p.close();
      await pd.close();
    }
    // Both users' caches in one, plus an extension section and a field no MSAL knows.
    const merged = { ...JSON.parse(caches[0]![1]) as Json };
    for (const [section, entries] of Object.entries(JSON.parse(caches[2]![1]) as Json)) merged[section] = { ...merged[section], ...entries };
    merged.FutureSection = { k: { anything: [1, 2] } };
    const [firstAt] = Object.values(merged.AccessToken!) as Array<Record<string, unknown>>;
    firstAt!.some_future_field = 'kept';
    caches.push(['both users + an unknown section and field', JSON.stringify(merged)]);

    for (const [name, json] of caches) {
      const a = authflowPeer(env, { partition: 'round-trip' });
      await a.importCache(json);
      assert.deepEqual(normalised(await a.exportCache()), normalised(json), `${name}: exported unchanged`);
      matrix.record(name.startsWith('MSAL Python') ? 'msal-python + authflow' : 'msal-node + authflow', `${name} → authflow → back`, 'importCache/exportCache round trip', 'deep-equal');
    }
  });

  it('one file: msal-node signs alice in, authflow reads her and signs bob in, msal-node and MSAL Python keep working on it', async () => {
    const path = join(env.dir, 'shared-cache.json');
    const plugin: ICachePlugin = {
      beforeCacheAccess: async (context) => {
        if (existsSync(path)) context.tokenCache.deserialize(readFileSync(path, 'utf8'));
      },
      afterCacheAccess: async (context) => {
        if (context.cacheHasChanged) writeFileSync(path, context.tokenCache.serialize());
      },
    };
    const m = await msalNodePeer(env, { cachePlugin: plugin });
    { const o = await m.signIn('alice', ORDERS); assert.ok(o.ok, `m.signIn: ${o.error} ${o.description}`); }
    const msalKeys = keysOf(JSON.parse(readFileSync(path, 'utf8')) as Json);
    assert.ok(msalKeys.length >= 4, `msal-node wrote its entries (${msalKeys.length})`);

    const a = authflowPeer(env, { partition: 'default', cacheStore: new FileTokenCacheStore(path) });
    const accounts = await a.client.getAccounts({ partition: 'default' });
    assert.deepEqual(accounts.map((acc) => acc.username), ['alice'], 'authflow lists msal-node\'s account (observation 5)');
    env.tokenRequests();
    { const o = await a.silent(ORDERS, { username: 'alice' }); assert.ok(o.ok, `a.silent: ${o.error} ${o.description}`); }
    assert.equal(env.tokenRequests(), 0, 'authflow serves msal-node\'s token from the file');
    matrix.record('msal-node + authflow', 'msal-node file → FileTokenCacheStore', 'getAccounts + silent hit', 'pass');

    { const o = await a.signIn('bob', ORDERS); assert.ok(o.ok, `a.signIn: ${o.error} ${o.description}`); }
    const afterAuthflow = keysOf(JSON.parse(readFileSync(path, 'utf8')) as Json);
    for (const key of msalKeys) assert.ok(afterAuthflow.includes(key), `msal-node's ${key.split('/')[0]} entry survives authflow's sign-in`);
    matrix.record('msal-node + authflow', 'FileTokenCacheStore sign-in on msal-node\'s file', 'every msal-node entry kept', 'pass');

    const m2 = await msalNodePeer(env, { cachePlugin: plugin });
    const names = (await m2.app.getTokenCache().getAllAccounts()).map((acc) => acc.username).sort();
    assert.deepEqual(names, ['alice', 'bob']);
    env.tokenRequests();
    { const o = await m2.silent(ORDERS, { username: 'bob' }); assert.ok(o.ok, `m2.silent: ${o.error} ${o.description}`); }
    { const o = await m2.silent(ORDERS, { username: 'alice' }); assert.ok(o.ok, `m2.silent: ${o.error} ${o.description}`); }
    assert.equal(env.tokenRequests(), 0, 'msal-node serves both users from the shared file');
    matrix.record('msal-node + authflow', 'FileTokenCacheStore → msal-node file', 'both accounts, silent hits', 'pass');

    // MSAL Python: its SerializableTokenCache recipe (deserialize the file, act, write serialize() back).
    const p = await msalPythonPeer(env);
    try {
      await p.importCache(readFileSync(path, 'utf8'));
      { const o = await p.signIn('bob', INVENTORY); assert.ok(o.ok, `p.signIn: ${o.error} ${o.description}`); }
      writeFileSync(path, await p.exportCache());
      const pythonKeys = keysOf(JSON.parse(readFileSync(path, 'utf8')) as Json);
      for (const key of afterAuthflow) assert.ok(pythonKeys.includes(key), `MSAL Python kept ${key.split('/')[0]}`);
      env.tokenRequests();
      assert.ok((await a.silent(INVENTORY, { username: 'bob' })).ok, 'authflow serves MSAL Python\'s new token');
      { const o = await a.silent(ORDERS, { username: 'alice' }); assert.ok(o.ok, `a.silent: ${o.error} ${o.description}`); }
      assert.equal(env.tokenRequests(), 0);
      { const o = await a.signIn('alice', INVENTORY); assert.ok(o.ok, `a.signIn: ${o.error} ${o.description}`); }
      const last = keysOf(JSON.parse(readFileSync(path, 'utf8')) as Json);
      const pythonOwn = pythonKeys.filter((key) => !afterAuthflow.includes(key) && key.includes('login.microsoftonline.com'));
      assert.ok(pythonOwn.length > 0, 'MSAL Python wrote entries of its own');
      // Tokens may be rotated and the app metadata is rewritten under login.windows.net (the same
      // entity under Entra's alias); MSAL Python's account and ID token must stay.
      for (const key of pythonOwn.filter((k) => k.startsWith('Account/') || k.startsWith('IdToken/'))) {
        assert.ok(last.includes(key), `authflow kept MSAL Python's ${key.split('/')[0]}`);
      }
      await p.importCache(readFileSync(path, 'utf8'));
      const accountsSeen = await p.silent(INVENTORY, { username: 'bob' });
      assert.ok(accountsSeen.ok, `MSAL Python still reads the file: ${accountsSeen.error}`);
      matrix.record('msal-python + authflow', 'SerializableTokenCache file ↔ FileTokenCacheStore', 'entries kept both ways, silent hits', 'pass');
    } finally {
      await p.close();
    }
  });
});
