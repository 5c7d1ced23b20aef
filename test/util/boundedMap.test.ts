/** BoundedMap: a table of operations → the keys left, and the TTL / LRU / refuse rules. */
import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedMap } from '../../src/util/boundedMap.js';

type Op = ['set', string] | ['get', string] | ['peek', string] | ['delete', string];

describe('BoundedMap', () => {
  const table: Array<[string, { maxEntries: number; whenFull?: 'evict' | 'refuse' }, Op[], string[]]> = [
    ['keeps up to max', { maxEntries: 2 }, [['set', 'a'], ['set', 'b']], ['a', 'b']],
    ['drops the least recently set beyond max', { maxEntries: 2 }, [['set', 'a'], ['set', 'b'], ['set', 'c']], ['b', 'c']],
    ['a get marks an entry used (LRU, not FIFO)', { maxEntries: 2 }, [['set', 'a'], ['set', 'b'], ['get', 'a'], ['set', 'c']], ['a', 'c']],
    ['a peek does not', { maxEntries: 2 }, [['set', 'a'], ['set', 'b'], ['peek', 'a'], ['set', 'c']], ['b', 'c']],
    ['setting a key again moves it to the end', { maxEntries: 2 }, [['set', 'a'], ['set', 'b'], ['set', 'a'], ['set', 'c']], ['a', 'c']],
    ['delete frees a place', { maxEntries: 2 }, [['set', 'a'], ['set', 'b'], ['delete', 'a'], ['set', 'c']], ['b', 'c']],
    // The most recently used key is not moved again; the order must stay right around it.
    ['a get of the newest key keeps the order', { maxEntries: 2 }, [['set', 'a'], ['set', 'b'], ['get', 'b'], ['get', 'b'], ['set', 'c']], ['b', 'c']],
    ['the newest, deleted and set again, is the newest', { maxEntries: 2 }, [['set', 'a'], ['set', 'b'], ['delete', 'b'], ['set', 'b'], ['get', 'a'], ['set', 'c']], ['a', 'c']],
    ['a get after the newest was deleted moves the key', { maxEntries: 3 }, [['set', 'a'], ['set', 'b'], ['delete', 'b'], ['get', 'a'], ['set', 'c'], ['set', 'd'], ['set', 'e']], ['c', 'd', 'e']],
    ['gets alternating between two keys keep both in use', { maxEntries: 3 }, [['set', 'a'], ['set', 'b'], ['set', 'c'], ['get', 'a'], ['get', 'b'], ['get', 'a'], ['set', 'd']], ['b', 'a', 'd']],
    ['refuse keeps the old keys', { maxEntries: 2, whenFull: 'refuse' }, [['set', 'a'], ['set', 'b'], ['set', 'c']], ['a', 'b']],
    ['refuse still updates a known key', { maxEntries: 2, whenFull: 'refuse' }, [['set', 'a'], ['set', 'b'], ['set', 'a']], ['b', 'a']],
  ];
  for (const [name, options, ops, left] of table) {
    it(name, () => {
      const map = new BoundedMap<string, number>(options);
      for (const [op, key] of ops) map[op](key, 1);
      assert.deepEqual([...map.entries()].map(([k]) => k), left);
    });
  }

  it('expires entries after the map TTL or their own', () => {
    mock.timers.enable({ apis: ['Date'], now: 1_000 });
    try {
      const map = new BoundedMap<string, string>({ maxEntries: 10, ttlMs: 100 });
      map.set('short', 'x', 10);
      map.set('default', 'y');
      mock.timers.tick(50);
      assert.equal(map.get('short'), undefined);
      assert.equal(map.has('default'), true);
      mock.timers.tick(50);
      assert.equal(map.peek('default'), undefined);
      assert.equal(map.size, 0);
    } finally {
      mock.timers.reset();
    }
  });

  it('a refusing map takes new keys again once old ones expired', () => {
    mock.timers.enable({ apis: ['Date'], now: 1_000 });
    try {
      const map = new BoundedMap<string, true>({ maxEntries: 1, ttlMs: 10, whenFull: 'refuse' });
      assert.equal(map.set('a', true), true);
      assert.equal(map.set('b', true), false);
      mock.timers.tick(10);
      assert.equal(map.set('b', true), true);
    } finally {
      mock.timers.reset();
    }
  });

  it('refuses a bad bound', () => {
    for (const maxEntries of [0, -1, 1.5, NaN]) assert.throws(() => new BoundedMap({ maxEntries }), RangeError);
  });
});

describe('the bounded maps that use it', () => {
  it('LocalPartitionCache drops the least recently read partition, not the first written (was FIFO)', async () => {
    const { LocalPartitionCache } = await import('../../src/cache/localCache.js');
    const cache = new LocalPartitionCache(60_000, 2);
    cache.set('a', {});
    cache.set('b', {});
    assert.ok(cache.get('a'));
    cache.set('c', {});
    assert.ok(cache.get('a'), 'a was read last: kept');
    assert.equal(cache.get('b'), undefined);
  });

  it('memorySessionStore drops the least recently used session and refuses a bad maxSessions', async () => {
    const { memorySessionStore } = await import('../../src/stores/sessionStores.js');
    const store = memorySessionStore({ maxSessions: 2 });
    await store.set('a', { n: 1 }, 60_000);
    await store.set('b', { n: 2 }, 60_000);
    await store.get('a');
    await store.set('c', { n: 3 }, 60_000);
    assert.deepEqual(await store.get('a'), { n: 1 });
    assert.equal(await store.get('b'), undefined);
    assert.throws(() => memorySessionStore({ maxSessions: 0 }), /maxSessions/);
  });

  it('MemorySessionIndex keeps at most maxKeys OP sessions and claims an id once', async () => {
    const { MemorySessionIndex } = await import('../../src/stores/sessionIndex.js');
    const index = new MemorySessionIndex({ maxKeys: 2 });
    await index.add(['k1'], 'e1', 60);
    await index.add(['k2'], 'e2', 60);
    await index.add(['k3'], 'e3', 60);
    assert.deepEqual(await index.take('k1'), []);
    assert.deepEqual(await index.take('k3'), ['e3']);
    assert.equal(await index.claimOnce('jti', 60), true);
    assert.equal(await index.claimOnce('jti', 60), false);
    assert.throws(() => new MemorySessionIndex({ maxKeys: 0 }), /maxKeys/);
  });
});
