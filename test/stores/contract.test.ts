/** The TokenCacheStore contract (contract.ts) against the memory, Redis and file stores. */
import { after, before } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { FileTokenCacheStore, MemoryTokenCacheStore, RedisTokenCacheStore } from '../../src/index.js';
import { connectRedis, deleteKeys, uniquePrefix } from '../helpers/redis.js';
import { storeContract } from './contract.js';

let redis: Redis;
const prefix = uniquePrefix('contract');
const dir = mkdtempSync(join(tmpdir(), 'authflow-contract-'));
let n = 0;
before(async () => {
  redis = await connectRedis();
});
after(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

storeContract({ name: 'memory', fresh: async () => ({ store: new MemoryTokenCacheStore(), partition: 'p1', another: 'p2' }) });
storeContract({
  name: 'redis',
  fresh: async () => ({ store: new RedisTokenCacheStore({ client: redis, prefix: `${prefix}${++n}:`, encryption: 'off' }), partition: 'p1', another: 'p2' }),
});
storeContract({
  name: 'redis, encrypted',
  fresh: async () => ({
    store: new RedisTokenCacheStore({ client: redis, prefix: `${prefix}${++n}:`, encryptionKeys: [{ id: 'k1', key: Buffer.alloc(32, 7).toString('base64') }] }),
    partition: 'p1',
    another: 'p2',
  }),
});
// A file holds one partition (a CLI's): `another` does not apply.
storeContract({ name: 'file', fresh: async () => ({ store: new FileTokenCacheStore(join(dir, `cache-${++n}.json`)), partition: 'default' }) });
