/**
 * The TokenCacheStore contract, one suite run against every store (memory, Redis, file): what
 * authflow's cache layer relies on, whatever holds the partitions.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessTokenEntity, RefreshTokenEntity, TokenCacheStore } from '../../src/index.js';

/** How to get a store under test: `fresh()` gives a store (and its partition) with nothing in it. */
export interface StoreUnderTest {
  name: string;
  fresh(): Promise<{ store: TokenCacheStore; partition: string; another?: string }>;
}

export function accessToken(n: number): AccessTokenEntity {
  return {
    credential_type: 'AccessToken', secret: `at-${n}`, home_account_id: 'uid.utid', environment: 'login.example', client_id: 'cli',
    realm: 'utid', target: `api://x/scope${n}`, token_type: 'Bearer', cached_at: '1', expires_on: '4000000000', extended_expires_on: '4000000000',
  };
}
const refreshToken = (secret: string): RefreshTokenEntity => ({ credential_type: 'RefreshToken', secret, home_account_id: 'uid.utid', environment: 'login.example', client_id: 'cli' });
const atKey = (n: number): string => `uid.utid-login.example-accesstoken-cli-utid-api://x/scope${n}`;
const RT_KEY = 'uid.utid-login.example-refreshtoken-cli--';

export function storeContract(subject: StoreUnderTest): void {
  describe(`TokenCacheStore contract: ${subject.name}`, () => {
    it('an absent partition reads as {}', async () => {
      const { store, partition } = await subject.fresh();
      assert.deepEqual(await store.read(partition), {});
    });

    it('a write is read back as written', async () => {
      const { store, partition } = await subject.fresh();
      await store.write(partition, { set: { [atKey(1)]: accessToken(1), [RT_KEY]: refreshToken('rt-1') }, remove: [] });
      assert.deepEqual(await store.read(partition), { [atKey(1)]: accessToken(1), [RT_KEY]: refreshToken('rt-1') });
    });

    it('a write touches only the entities it names (no clobbering)', async () => {
      const { store, partition } = await subject.fresh();
      await store.write(partition, { set: { [atKey(1)]: accessToken(1), [RT_KEY]: refreshToken('rt-1') }, remove: [] });
      await store.write(partition, { set: { [atKey(2)]: accessToken(2), [RT_KEY]: refreshToken('rt-2') }, remove: [atKey(1)] });
      assert.deepEqual(await store.read(partition), { [atKey(2)]: accessToken(2), [RT_KEY]: refreshToken('rt-2') });
    });

    it('concurrent writes of different entities all land', async () => {
      const { store, partition } = await subject.fresh();
      await Promise.all([1, 2, 3, 4].map((n) => store.write(partition, { set: { [atKey(n)]: accessToken(n) }, remove: [] })));
      assert.deepEqual(Object.keys(await store.read(partition)).sort(), [1, 2, 3, 4].map(atKey).sort());
    });

    it('what a reader got cannot change what is stored', async () => {
      const { store, partition } = await subject.fresh();
      await store.write(partition, { set: { [atKey(1)]: accessToken(1) }, remove: [] });
      const read = await store.read(partition);
      // A store may hand out a copy (memory) or a frozen shared entity (Redis): either way, nothing changes.
      try {
        (read[atKey(1)] as AccessTokenEntity).secret = 'changed';
      } catch (err) {
        assert.ok(err instanceof TypeError, 'only a frozen entity may refuse the change');
      }
      assert.equal((await store.read(partition))[atKey(1)]?.['secret' as never], 'at-1');
    });

    it('clear removes the partition, and only it', async () => {
      const { store, partition, another } = await subject.fresh();
      await store.write(partition, { set: { [atKey(1)]: accessToken(1) }, remove: [] });
      if (another) await store.write(another, { set: { [atKey(2)]: accessToken(2) }, remove: [] });
      await store.clear(partition);
      assert.deepEqual(await store.read(partition), {});
      if (another) assert.deepEqual(Object.keys(await store.read(another)), [atKey(2)]);
    });

    it('a lock, when the store has one, is exclusive until released', async (t) => {
      const { store, partition } = await subject.fresh();
      if (!store.lock) return t.skip('no cross-process lock (a store local to one process)');
      const release = (await store.lock(partition))!;
      let second = false;
      const waiting = store.lock(partition).then((r) => {
        second = true;
        return r;
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(second, false, 'the second lock waited');
      await release();
      const again = await waiting;
      assert.ok(again, 'without doneWhileWaiting, lock() resolves to a held lock');
      await again();
      assert.equal(second, true);
    });
  });
}
