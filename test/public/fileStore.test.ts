/**
 * FileTokenCacheStore: one MSAL-format cache file, mode 0600, written atomically, corrupt files
 * read as empty; and a CLI's sign-in surviving into a new process (a child `node --import tsx`).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { FileTokenCacheStore, type Logger, type RefreshTokenEntity, type AccessTokenEntity } from '../../src/index.js';
import { ORDERS, expireAccessTokens, publicClientFor, refusedWith, startDevOp, tokenRequests, type DevOp } from './helpers.js';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./silentChild.ts', import.meta.url));

const mode = (path: string): number => statSync(path).mode & 0o777;

function accessToken(n: number): AccessTokenEntity {
  return {
    credential_type: 'AccessToken', secret: `secret-${n}`, home_account_id: 'uid.utid', environment: 'login.example', client_id: 'cli',
    realm: 'utid', target: `api://x/Scope${n}`, token_type: 'Bearer', cached_at: '1', expires_on: '4000000000', extended_expires_on: '4000000000',
  };
}
const keyOf = (at: AccessTokenEntity): string => ['uid.utid', 'login.example', 'accesstoken', 'cli', 'utid', at.target].join('-').toLowerCase();

describe('FileTokenCacheStore', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'authflow-file-store-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the directory (0700) and writes MSAL JSON with mode 0600; reads it back', async () => {
    const path = join(dir, 'nested', 'deeper', 'cache.json');
    const store = new FileTokenCacheStore(path);
    assert.deepEqual(await store.read('default'), {}, 'no file: empty');
    const at = accessToken(1);
    await store.write('default', { set: { [keyOf(at)]: at }, remove: [] });
    assert.equal(mode(path), 0o600);
    assert.equal(mode(join(dir, 'nested', 'deeper')), 0o700);
    const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(json).sort(), ['AccessToken', 'Account', 'AppMetadata', 'IdToken', 'RefreshToken']);
    assert.deepEqual(json.AccessToken, { [keyOf(at)]: at });
    assert.deepEqual(await new FileTokenCacheStore(path).read('default'), { [keyOf(at)]: at }, 'another store instance reads it');

    await store.write('default', { set: {}, remove: [keyOf(at)] });
    assert.deepEqual(await store.read('default'), {});
    await store.clear('default');
    assert.throws(() => statSync(path), /ENOENT/);
    await store.clear('default');
  });

  it('tightens an existing file to 0600 on the next write', async () => {
    const path = join(dir, 'loose.json');
    writeFileSync(path, '{}', { mode: 0o644 });
    assert.equal(mode(path), 0o644);
    const at = accessToken(2);
    await new FileTokenCacheStore(path).write('default', { set: { [keyOf(at)]: at }, remove: [] });
    assert.equal(mode(path), 0o600);
  });

  it('writes atomically: concurrent writes all land, the file always parses, no temp file remains', async () => {
    const path = join(dir, 'busy.json');
    const store = new FileTokenCacheStore(path);
    // A crashed writer's leftover (half a file under a temp name) changes nothing.
    writeFileSync(join(dir, '.busy.json.99999.deadbeef.tmp'), '{"AccessToken": {"half', { mode: 0o600 });
    const entities = Array.from({ length: 25 }, (_, i) => accessToken(100 + i));
    let reading = true;
    let reads = 0;
    const reader = (async () => {
      while (reading) {
        try {
          JSON.parse(readFileSync(path, 'utf8'));
          reads += 1;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    await Promise.all(entities.map((at) => store.write('default', { set: { [keyOf(at)]: at }, remove: [] })));
    reading = false;
    await reader;
    assert.ok(reads > 0);
    const stored = await store.read('default');
    assert.equal(Object.keys(stored).length, 25, 'no write lost another\'s entity');
    const left = readdirSync(dir).filter((f) => f.startsWith('.busy.json.') && !f.includes('99999'));
    assert.deepEqual(left, [], 'no temp file of ours remains');
  });

  it('reads a corrupt file as empty with a logged warning, and never overwrites it (issue 15, observation 5)', async () => {
    const path = join(dir, 'corrupt.json');
    const warnings: string[] = [];
    const logger: Logger = { debug: () => {}, info: () => {}, warn: (obj, msg) => warnings.push(`${msg} ${JSON.stringify(obj)}`), error: () => {} };
    const store = new FileTokenCacheStore(path, { logger });
    for (const content of ['{"AccessToken": {"k": ', '[1, 2]']) {
      writeFileSync(path, content);
      assert.deepEqual(await store.read('default'), {});
    }
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /not a readable MSAL cache/);
    assert.ok(warnings.every((w) => w.includes(path)), 'the warning names the file');
    const at = accessToken(3);
    await store.write('default', { set: { [keyOf(at)]: at }, remove: [] });
    assert.deepEqual(await store.read('default'), { [keyOf(at)]: at });
    assert.equal(mode(path), 0o600);
    const aside = readdirSync(dir).filter((f) => f.startsWith('corrupt.json.unreadable-'));
    assert.equal(aside.length, 1, 'the unreadable file was moved aside, not overwritten');
    assert.equal(readFileSync(join(dir, aside[0]!), 'utf8'), '[1, 2]');
  });

  it('keeps an unusable entry and unknown sections in the file when it writes, and names the entry in its warning', async () => {
    const path = join(dir, 'partly.json');
    const warnings: string[] = [];
    const logger: Logger = { debug: () => {}, info: () => {}, warn: (obj, msg) => warnings.push(`${msg} ${JSON.stringify(obj)}`), error: () => {} };
    writeFileSync(path, JSON.stringify({ AccessToken: { 'bad-key': { secret: 1 } }, PeerExtension: { x: { y: 1 } } }));
    const store = new FileTokenCacheStore(path, { logger });
    assert.deepEqual(Object.keys(await store.read('default')), ['authflow-section:PeerExtension']);
    assert.match(warnings[0]!, /bad-key/);
    const at = accessToken(4);
    await store.write('default', { set: { [keyOf(at)]: at }, remove: [] });
    const written = JSON.parse(readFileSync(path, 'utf8')) as Record<string, Record<string, unknown>>;
    assert.deepEqual(written.AccessToken!['bad-key'], { secret: 1 });
    assert.deepEqual(written.AccessToken![keyOf(at)], at);
    assert.deepEqual(written.PeerExtension, { x: { y: 1 } });
  });

  it('holds one partition: another name is refused', async () => {
    const store = new FileTokenCacheStore(join(dir, 'one.json'));
    await store.read('default');
    await assert.rejects(store.read('session-2'), refusedWith('invalid_argument'));
    await assert.rejects(store.write('session-2', { set: {}, remove: [] }), refusedWith('invalid_argument'));
    assert.throws(() => new FileTokenCacheStore(''), refusedWith('invalid_config'));
  });
});

describe('a CLI sign-in survives a new process (file cache)', () => {
  let op: DevOp;
  let dir: string;
  before(async () => {
    op = await startDevOp();
    dir = mkdtempSync(join(tmpdir(), 'authflow-cli-cache-'));
  });
  after(async () => {
    await op.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function child(path: string): Promise<Record<string, unknown>> {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', CHILD], {
      env: { ...process.env, AUTHFLOW_TEST_ISSUER: op.issuer, AUTHFLOW_TEST_CACHE: path, AUTHFLOW_TEST_CLIENT_ID: op.clients.cli.clientId },
      timeout: 20_000,
    });
    const line = stdout.trim().split('\n').pop() ?? '';
    return JSON.parse(line) as Record<string, unknown>;
  }

  it('device-code sign-in in this process; a new process signs in silently from the file, and refreshes into it', async () => {
    const path = join(dir, 'cache.json');
    const client = publicClientFor(op, { cacheStore: new FileTokenCacheStore(path) });
    const flow = await client.initiateDeviceFlow({ scopes: ORDERS });
    const [result] = await Promise.all([
      client.acquireTokenByDeviceFlow(flow),
      op.signIn(flow.verificationUriComplete!, { username: 'bob' }),
    ]);
    assert.equal(mode(path), 0o600);

    op.resetStats();
    const first = await child(path);
    assert.deepEqual(
      { accounts: first.accounts, username: first.username, name: first.name, fromCache: first.fromCache },
      { accounts: 1, username: 'bob', name: op.users.bob.name, fromCache: true },
    );
    assert.equal(first.accessTokenSha256, createHash('sha256').update(result.accessToken).digest('hex'));
    assert.equal(op.stats().tokenRequests, 0, 'a cache hit: no token request');

    // The access token has expired: the next run refreshes, and the rotated refresh token is saved.
    const rtBefore = Object.values(JSON.parse(readFileSync(path, 'utf8')).RefreshToken as Record<string, RefreshTokenEntity>)[0]!.secret;
    await expireAccessTokens(client);
    const second = await child(path);
    assert.equal(second.fromCache, false);
    assert.equal(tokenRequests(op, 'refresh_token'), 1);
    const rtAfter = Object.values(JSON.parse(readFileSync(path, 'utf8')).RefreshToken as Record<string, RefreshTokenEntity>)[0]!.secret;
    assert.notEqual(rtAfter, rtBefore, 'the rotated refresh token is in the file');
    const third = await child(path);
    assert.equal(third.fromCache, true);
    assert.equal(third.accessTokenSha256, second.accessTokenSha256);
    assert.equal(mode(path), 0o600);
  });
});
