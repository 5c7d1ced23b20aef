/**
 * RedisTokenCacheStore against a real Redis and the dev OP: one hash per partition, only changed
 * fields written (seen with MONITOR), EXPIRE set, encryption at rest with key rotation, and one
 * refresh across two app processes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { Redis } from 'ioredis';
import { AuthError, RedisTokenCacheStore, type ConfidentialClient, type Logger } from '../../src/index.js';
import { SCHEMA_FIELD } from '../../src/stores/redis.js';
import { clientFor, expireAccessTokens, signIn, startDevOp, tokenRequests, type DevOp } from '../helpers/op.js';
import { connectRedis, deleteKeys, redisUrl, uniquePrefix } from '../helpers/redis.js';

const ORDERS = ['api://orders/Orders.Read'];

describe('RedisTokenCacheStore', () => {
  let op: DevOp;
  let redis: Redis;
  const prefixes: string[] = [];

  before(async () => {
    op = await startDevOp();
    redis = await connectRedis();
  });
  after(async () => {
    for (const prefix of prefixes) await deleteKeys(redis, prefix);
    redis.disconnect();
    await op.close();
  });

  function storeAndClient(options: Partial<ConstructorParameters<typeof RedisTokenCacheStore>[0]> = {}, logger?: Logger) {
    const prefix = options.prefix ?? uniquePrefix('store');
    prefixes.push(prefix);
    const store = new RedisTokenCacheStore({ client: redis, ...options, prefix, ...(logger ? { logger } : {}) });
    const client = clientFor(op, 'webApp', { cacheStore: store });
    return { store, client, prefix };
  }

  it('keeps a partition as one hash of MSAL-keyed fields, with an EXPIRE', async () => {
    const { store, client } = storeAndClient();
    const result = await signIn(op, client, { partition: 'session-1' });
    const { [SCHEMA_FIELD]: schema, ...raw } = await redis.hgetall(store.keyOf('session-1'));
    assert.equal(schema, '2', 'the partition names its schema');
    const exported = JSON.parse(await client.exportCache('session-1')) as Record<string, Record<string, unknown>>;
    const exportedKeys = Object.values(exported).flatMap((section) => Object.keys(section));
    assert.deepEqual(Object.keys(raw).sort(), exportedKeys.sort());
    assert.ok(Object.keys(raw).some((k) => k.includes('-accesstoken-')));
    assert.equal(JSON.parse(Object.values(raw).find((v) => v.includes('"AccessToken"'))!).secret, result.accessToken);
    const ttl = await redis.ttl(store.keyOf('session-1'));
    assert.ok(ttl > 0 && ttl <= 14 * 24 * 3600, `ttl ${ttl}`);
    assert.match(store.keyOf('session-1'), /\{session-1\}$/, 'the partition is a hash tag (one cluster slot)');
  });

  it('reads a schema-1 partition (authflow\'s first release: 6-part keys, no schema field) and rewrites it without stale entries (issue 15)', async () => {
    const { store, client } = storeAndClient();
    const { account } = await signIn(op, client, { partition: 'v2' });
    const v2 = await redis.hgetall(store.keyOf('v2'));
    // The same entities as the first release filed them: 6-part keys (a trailing "-" fewer), no schema field.
    const v1: Record<string, string> = {};
    for (const [field, value] of Object.entries(v2)) if (field !== SCHEMA_FIELD) v1[field.replace(/-$/, '')] = value;
    await redis.hset(store.keyOf('v1'), v1);
    const hit = await client.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'v1' });
    assert.equal(hit.fromCache, true);
    const refreshed = await client.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'v1', forceRefresh: true });
    assert.equal(refreshed.fromCache, false);
    const after = await redis.hgetall(store.keyOf('v1'));
    assert.equal(after[SCHEMA_FIELD], '2');
    const refreshTokens = Object.keys(after).filter((k) => k.includes('-refreshtoken-'));
    assert.equal(refreshTokens.length, 1, 'the used refresh token under the old key is gone');
    assert.ok(refreshTokens[0]!.endsWith('---'), 'written under msal-node 7\'s key');
  });

  it('keeps every entity and field another MSAL wrote (pop tokens, null ids, unknown fields and sections) and exports them unchanged (issue 15)', async () => {
    const { client } = storeAndClient({ encryptionKeys: [{ id: 'k', key: randomBytes(32) }] });
    await signIn(op, client, { partition: 'peer' });
    const cache = JSON.parse(await client.exportCache('peer')) as Record<string, Record<string, Record<string, unknown>>>;
    const [atKey, at] = Object.entries(cache.AccessToken!)[0]!;
    cache.AccessToken![`${atKey}pop`] = { ...at, credential_type: 'AccessToken_With_AuthScheme', token_type: 'pop', key_id: 'kid-1', secret: 'a-pop-token' };
    const [accountKey, account] = Object.entries(cache.Account!)[0]!;
    cache.Account![accountKey] = { ...account, local_account_id: null, tenantProfiles: ['{"tenantId":"t"}'], some_future_field: { nested: true } };
    (cache as Record<string, unknown>).FutureSection = { k: { v: 1 } };
    await client.importCache('peer', cache);
    assert.deepEqual(JSON.parse(await client.exportCache('peer')), cache);
  });

  it('reads a partition with one HGETALL and writes only the fields a refresh changed', async () => {
    // A client of its own, whose every command (MULTI's included) is recorded on its way out.
    const counted = await connectRedis();
    const commands: Array<{ name: string; args: string[] }> = [];
    const send = counted.sendCommand.bind(counted);
    counted.sendCommand = ((command: { name: string; args: unknown[] }, ...rest: unknown[]) => {
      commands.push({ name: command.name.toLowerCase(), args: command.args.map(String) });
      return (send as (...a: unknown[]) => unknown)(command, ...rest);
    }) as typeof counted.sendCommand;
    try {
      const prefix = uniquePrefix('store');
      prefixes.push(prefix);
      const store = new RedisTokenCacheStore({ client: counted, prefix });
      const client = clientFor(op, 'webApp', { cacheStore: store, localCacheSeconds: 0 });
      const withLocalCopy = clientFor(op, 'webApp', { cacheStore: store });
      const { account } = await signIn(op, client, { partition: 'p' });
      await expireAccessTokens(client, 'p');
      const key = store.keyOf('p');
      const before = await redis.hgetall(key);
      const accountKey = Object.keys(before).find((k) => JSON.parse(before[k]!).authority_type)!;
      const metadataKey = Object.keys(before).find((k) => k.startsWith('appmetadata-'))!;

      commands.length = 0;
      await client.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'p' }); // refresh
      const refreshCommands = commands.splice(0);
      await client.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'p' }); // hit
      assert.deepEqual(commands.map((c) => c.name), ['hgetall'], 'a cache hit is one HGETALL');
      commands.length = 0;
      await withLocalCopy.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'p' });
      await withLocalCopy.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'p' });
      assert.deepEqual(commands.map((c) => c.name), ['hgetall'], 'with the local copy (the default), later hits cost no command');

      const names = refreshCommands.map((c) => c.name);
      assert.equal(names.filter((n) => n === 'hgetall').length, 2, 'read, and re-read under the lock');
      const hsets = refreshCommands.filter((c) => c.name === 'hset');
      assert.equal(hsets.length, 1);
      const written = hsets[0]!.args.slice(1).filter((_, i) => i % 2 === 0);
      assert.ok(written.some((f) => f.includes('-accesstoken-')), 'the new access token');
      assert.ok(written.some((f) => f.includes('-refreshtoken-')), 'the rotated refresh token');
      assert.ok(!written.includes(accountKey), 'the unchanged account is not rewritten');
      assert.ok(!written.includes(metadataKey), 'the unchanged app metadata is not rewritten');
      assert.deepEqual(names.filter((n) => ['multi', 'exec', 'expire'].includes(n)), ['multi', 'expire', 'exec']);
      assert.ok(names.includes('set'), 'refresh lock taken');
      assert.ok(names.includes('eval'), 'refresh lock released');
    } finally {
      counted.disconnect();
    }
  });

  it('encrypts values at rest; rotated keys still decrypt; a missing key means absent, not a crash', async () => {
    const keyA = { id: 'A', key: randomBytes(32).toString('base64') };
    const keyB = { id: 'B', key: randomBytes(32) };
    const warnings: string[] = [];
    const logger: Logger = { debug() {}, info() {}, warn: (obj, msg) => warnings.push(JSON.stringify({ obj, msg })), error() {} };
    const { store, client, prefix } = storeAndClient({ encryptionKeys: [keyA] });
    const { account, accessToken } = await signIn(op, client, { partition: 'enc' });

    const raw = await redis.hgetall(store.keyOf('enc'));
    assert.ok(raw[SCHEMA_FIELD], 'the schema field, encrypted like the rest');
    for (const value of Object.values(raw)) {
      assert.match(value, /^af1\.A\./);
      assert.ok(!value.includes(accessToken.slice(0, 40)));
      assert.throws(() => JSON.parse(value));
    }

    const rotated = storeAndClient({ prefix, encryptionKeys: [keyB, keyA] }).client;
    const hit = await rotated.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'enc' });
    assert.equal(hit.accessToken, accessToken);
    assert.equal(hit.fromCache, true);

    const withoutA = storeAndClient({ prefix, encryptionKeys: [keyB] }, logger).client;
    await assert.rejects(
      withoutA.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'enc' }),
      (err: unknown) => err instanceof AuthError && err.code === 'interaction_required',
    );
    await assert.rejects(withoutA.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'enc' }), { code: 'interaction_required' });
    assert.equal(warnings.length, 1, 'logged once');
    assert.match(warnings[0]!, /"keyId":"A"/);
    for (const value of Object.values(raw)) assert.ok(!warnings[0]!.includes(value.slice(0, 30)), 'the value is not logged');
  });

  it('refuses a value moved to another field or partition (authenticated location)', async () => {
    const keys = [{ id: 'k', key: randomBytes(32) }];
    const { store, client } = storeAndClient({ encryptionKeys: keys });
    await signIn(op, client, { partition: 'victim' });
    await signIn(op, client, { username: 'bob', partition: 'attacker' });
    const stolen = await redis.hgetall(store.keyOf('attacker'));
    // The store has just decoded these very texts under 'attacker' (it remembers recent ones): moved, they must not be served from that memory.
    assert.equal(Object.keys(await store.read('attacker')).length, Object.keys(stolen).length - 1, 'the attacker\'s own entities read back (the schema field aside)');
    // Copy bob's encrypted entities into alice's partition under their own field names.
    await redis.hset(store.keyOf('victim'), stolen);
    const victimView = await store.read('victim');
    for (const field of Object.keys(stolen)) assert.equal(victimView[field], undefined, 'moved values do not decrypt');
  });

  it('decodes an unchanged value once: later reads share its frozen entity; a changed value is decoded again (issue 17)', async () => {
    for (const encryptionKeys of [undefined, [{ id: 'k', key: randomBytes(32) }]]) {
      const { store, client } = storeAndClient(encryptionKeys ? { encryptionKeys } : {});
      const { account } = await signIn(op, client, { partition: 'memo' });
      const first = await store.read('memo');
      const second = await store.read('memo');
      const ordersToken = (entities: Record<string, unknown>): string => Object.keys(entities).find((k) => k.includes('-accesstoken-') && k.includes('orders.read'))!;
      const atKey = ordersToken(first);
      assert.equal(second[atKey], first[atKey], 'the same entity object: neither decrypted nor parsed again');
      assert.ok(Object.isFrozen(first[atKey]), 'shared, so frozen');
      await expireAccessTokens(client, 'memo');
      await client.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'memo' });
      const third = await store.read('memo');
      assert.notEqual(third[ordersToken(third)]?.['secret' as never], first[atKey]?.['secret' as never], 'a rewritten value is read as written');
    }
  });

  it('hands out the same frozen snapshot while a partition is unchanged; what another instance writes or removes is seen at the next read, not an earlier remembered hit (issue 17)', async () => {
    const { store, client, prefix } = storeAndClient();
    // A second instance on the same partitions, and no local copy on either: every lookup reads Redis.
    const first = clientFor(op, 'webApp', { cacheStore: store, localCacheSeconds: 0 });
    const second = clientFor(op, 'webApp', { cacheStore: new RedisTokenCacheStore({ client: redis, prefix }), localCacheSeconds: 0 });
    const { account } = await signIn(op, client, { partition: 'snap' });
    const a = await store.read('snap');
    assert.equal(await store.read('snap'), a, 'unchanged: the same object');
    assert.ok(Object.isFrozen(a));
    const hit = await first.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'snap' });
    assert.equal((await first.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'snap' })).accessToken, hit.accessToken);
    // The other instance refreshes: its new token is what the first serves next.
    const renewed = await second.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'snap', forceRefresh: true });
    assert.notEqual(renewed.accessToken, hit.accessToken);
    const b = await store.read('snap');
    assert.notEqual(b, a, 'changed: a new snapshot');
    assert.equal((await first.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'snap' })).accessToken, renewed.accessToken);
    // The other instance signs the account out: the first answers interaction_required, not the remembered token.
    await second.removeAccount(account!, { partition: 'snap' });
    await assert.rejects(first.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'snap' }), { code: 'interaction_required' });
  });

  it('refuses bad options by name', () => {
    assert.throws(() => new RedisTokenCacheStore({ client: {} as Redis }), /"client"/);
    assert.throws(() => new RedisTokenCacheStore({ client: redis, encryptionKeys: [{ id: 'a', key: 'c2hvcnQ=' }] }), /"encryptionKeys\[0\]\.key"/);
    assert.throws(() => new RedisTokenCacheStore({ client: redis, encryptionKeys: [{ id: 'a.b', key: randomBytes(32) }] }), /"encryptionKeys\[0\]\.id"/);
    assert.throws(() => new RedisTokenCacheStore({ client: redis, lockTtlMs: 0 }), /"lockTtlMs"/);
    assert.throws(() => new RedisTokenCacheStore({ client: redis, prefix: 'a{b}' }), /"prefix"/);
  });

  it('two processes, 50 concurrent silent calls each on one expired partition: one refresh, one rotated token', async () => {
    const { client, prefix } = storeAndClient();
    const { account } = await signIn(op, client, { partition: 'shared' });
    await expireAccessTokens(client, 'shared');
    const env = {
      ...process.env,
      REDIS_URL: await redisUrl(),
      ISSUER: op.issuer,
      CLIENT_ID: op.clients.webApp.clientId,
      CLIENT_SECRET: op.clients.webApp.clientSecret!,
      PREFIX: prefix,
      PARTITION: 'shared',
      SCOPE: ORDERS[0]!,
      CALLS: '50',
    };
    const workers = [0, 1].map(() => spawn(process.execPath, ['--import', 'tsx', new URL('./refresh-worker.ts', import.meta.url).pathname], { env, stdio: ['pipe', 'pipe', 'inherit'] }));
    const outputs = workers.map((worker) => createInterface({ input: worker.stdout! })[Symbol.asyncIterator]());
    for (const output of outputs) assert.equal((await output.next()).value, 'ready');
    op.resetStats();
    for (const worker of workers) worker.stdin!.write('go\n');
    const results = await Promise.all(outputs.map(async (output) => JSON.parse((await output.next()).value as string) as { tokens: string[]; errors: string[] }));
    for (const worker of workers) worker.stdin!.end();

    assert.deepEqual(results.map((r) => r.errors), [[], []]);
    assert.equal(tokenRequests(op, 'refresh_token'), 1, 'exactly one refresh at the OP');
    assert.equal(new Set(results.flatMap((r) => r.tokens)).size, 1, 'both processes got the same new token');
    const cached = await client.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'shared' });
    assert.equal(createHash('sha256').update(cached.accessToken).digest('base64url'), results[0]!.tokens[0]);
    // The rotated refresh token in Redis is the valid one: it redeems.
    const refreshed = await client.acquireTokenSilent({ scopes: ORDERS, account: account!, partition: 'shared', forceRefresh: true });
    assert.equal(refreshed.fromCache, false);
  });
});
