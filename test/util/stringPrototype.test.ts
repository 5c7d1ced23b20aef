/**
 * ioredis 6 leaves `String.prototype` in V8's dictionary mode (it declares `class VerbatimString
 * extends String` and builds none), which slows every string method in the process; authflow
 * turns it back to fast mode where it receives an ioredis client (src/util/stringPrototype.ts).
 * Checked against the real ioredis, in a child process run with `--allow-natives-syntax` so that
 * V8's own `%HasFastProperties` reports the state (no timing involved).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const source = (path: string): string => new URL(`../../src/${path}`, import.meta.url).href;

/** Runs `body` (an ES module) under tsx with V8's natives syntax; `fast()` reports String.prototype's mode. */
async function inChild(body: string): Promise<Record<string, unknown>> {
  const code = `const fast = new Function('return %HasFastProperties(String.prototype)');\n${body}`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    timeout: 60_000,
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe('String.prototype after ioredis 6 is loaded', () => {
  it('ioredis leaves it slow, and authflow makes it fast again when it receives a client', async () => {
    const seen = await inChild(`
      const before = fast();
      const { Redis } = await import('ioredis');
      const afterIoredis = fast();
      const { RedisTokenCacheStore } = await import(${JSON.stringify(source('index.ts'))});
      const afterImport = fast();
      const client = new Redis({ lazyConnect: true });
      new RedisTokenCacheStore({ client });
      const afterStore = fast();
      client.disconnect();
      console.log(JSON.stringify({ before, afterIoredis, afterImport, afterStore }));
    `);
    assert.equal(seen.before, true);
    // The cause, shown with the installed ioredis. If this fails, ioredis no longer does it and the remedy can go.
    assert.equal(seen.afterIoredis, false, 'ioredis no longer leaves String.prototype slow');
    assert.equal(seen.afterImport, false, 'importing authflow changes nothing by itself');
    assert.equal(seen.afterStore, true);
  });

  // V8 turns a prototype slow only the first time it becomes one: one child per constructor.
  for (const [name, module, build] of [
    ['RedisSessionIndex', 'index.ts', '({ RedisSessionIndex }) => new RedisSessionIndex({ client })'],
    ['redisSessionStore (Koa, Hono)', 'koa/index.ts', '({ redisSessionStore }) => redisSessionStore({ client })'],
    // The store guard's client (Express and Koa). Express apps load express-session, which happens to leave
    // String.prototype fast whichever loads first, so Koa's authSession shows it (its store given as a plain object).
    ['authSession(app, { redis }) (the store guard)', 'koa/index.ts', 'async ({ authSession }) => authSession(new (await import("koa")).default(), { baseUrl: "http://localhost:3000", store: { get() {}, set() {}, destroy() {} }, redis: client })'],
  ] as const) {
    it(`${name} applies it too`, async () => {
      const seen = await inChild(`
        const authflow = await import(${JSON.stringify(source(module))});
        const { Redis } = await import('ioredis');
        const client = new Redis({ lazyConnect: true });
        const slowed = !fast();
        await (${build})(authflow);
        console.log(JSON.stringify({ slowed, fast: fast() }));
        client.disconnect();
      `);
      assert.deepEqual(seen, { slowed: true, fast: true });
    });
  }

  it('stays fast once made fast, though String is subclassed again', async () => {
    const seen = await inChild(`
      const { Redis } = await import('ioredis');
      const { RedisTokenCacheStore } = await import(${JSON.stringify(source('index.ts'))});
      const client = new Redis({ lazyConnect: true });
      new RedisTokenCacheStore({ client });
      class Another extends String {}
      console.log(JSON.stringify({ fast: fast() }));
      client.disconnect();
    `);
    assert.deepEqual(seen, { fast: true });
  });

  it('leaves String.prototype itself as it was', async () => {
    const { keepStringPrototypeFast } = await import('../../src/util/stringPrototype.js');
    const names = Object.getOwnPropertyNames(String.prototype);
    const descriptors = Object.getOwnPropertyDescriptors(String.prototype);
    keepStringPrototypeFast();
    assert.deepEqual(Object.getOwnPropertyNames(String.prototype), names);
    assert.deepEqual(Object.getOwnPropertyDescriptors(String.prototype), descriptors);
    assert.equal(Object.isExtensible(String.prototype), true);
  });
});
