/**
 * The package as a user meets it (`npm run test:package`, run by CI): `npm pack`, a fresh project
 * outside the repository, `npm install` of the tarball plus exactly the packages the README's
 * Install section names, then every TypeScript block of the README type-checked with the
 * consumer's tsc (the NestJS block with Nest's decorator settings), the Express, web API, Koa, Fastify,
 * Hono and NestJS programs of the README run against the dev OP (the Hono app calling the NestJS orders API), the
 * three entries required from CommonJS, and the Express blocks type-checked against
 * `@types/express@4` too. Nothing here imports authflow from the repository.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startDevOp, type DevOp } from '../examples/dev-op/index.js';
import { createInventoryApi } from '../examples/apis/inventory.js';
import { clientFor } from '../test/helpers/op.js';
import { Redis } from 'ioredis';
import { deleteKeys, redisUrl } from '../test/helpers/redis.js';
import { Browser } from '../test/helpers/browser.js';
import { freePort, npmInstall, packRepository, run, runOk, startProgram, tempDir, writeFiles, type Program } from './project.js';
import { installPackages, readReadme, tsSnippets, type Snippet } from './readme.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const readme = readReadme(join(repo, 'README.md'));
const snippets = tsSnippets(readme);
const keep = process.env.KEEP_PACKAGE_TEST === '1';
/** The NestJS block, compiled with its own (decorator) settings. */
const NEST = 'NestJS';
const nestFile = (): string => `snippets/${snippetUnder(NEST).file}`;

/**
 * The consumer's tsconfig: what the README's Install section asks for (NodeNext), strict, with the
 * libraries' .d.ts files checked too (`skipLibCheck: false`), so a broken authflow .d.ts fails.
 */
const tsconfig = (include: string[], emit: boolean, options: { exclude?: string[]; decorators?: boolean } = {}): string => JSON.stringify({
  compilerOptions: {
    target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true,
    // Packages' .d.ts files checked, TypeScript's own lib files not (they take most of the time).
    skipLibCheck: false, skipDefaultLibCheck: true,
    types: ['node'], rootDir: 'snippets', outDir: 'out', noEmit: !emit,
    // NestJS: TypeScript's legacy decorators, as `nest new` configures them.
    ...(options.decorators ? { experimentalDecorators: true, emitDecoratorMetadata: true } : {}),
  },
  include,
  ...(options.exclude ? { exclude: options.exclude } : {}),
}, null, 2);

function snippetUnder(heading: string): Snippet {
  const found = snippets.find((s) => s.heading === heading);
  assert.ok(found, `README has no ts block under "${heading}"`);
  return found;
}

describe('the packed package in a fresh project', () => {
  const work = tempDir('package');
  const project = join(work, 'consumer');
  let tarball = '';

  before(async () => {
    tarball = await packRepository(repo, work);
    writeFiles(project, {
      'package.json': JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2),
      'tsconfig.json': tsconfig(['snippets'], true, { exclude: [nestFile()] }),
      'tsconfig.nest.json': tsconfig([nestFile()], true, { decorators: true }),
      ...Object.fromEntries(snippets.map((s) => [`snippets/${s.file}`, s.code])),
    });
    const packages = installPackages(readme).map((name) => (name === 'authflow' ? tarball : name));
    await npmInstall(project, packages);
  });

  after(() => {
    if (keep) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  });

  test('the tarball holds dist, README, LICENSE and CHANGELOG; no tests, examples or source maps', async () => {
    const files = (await runOk('tar', ['-tzf', tarball], { cwd: work })).trim().split('\n').map((f) => f.replace(/^package\//, ''));
    for (const required of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/express/index.js', 'dist/src/koa/index.d.ts', 'dist/src/fastify/index.js', 'dist/src/fastify/index.d.ts', 'dist/src/hono/index.js', 'dist/src/hono/index.d.ts']) {
      assert.ok(files.includes(required), `the tarball lacks ${required}`);
    }
    const stray = files.filter((f) => !/^(package\.json|README\.md|LICENSE|CHANGELOG\.md|dist\/src\/.*\.(js|d\.ts))$/.test(f));
    assert.deepEqual(stray, [], 'only dist/src (.js, .d.ts), README, LICENSE, CHANGELOG');
  });

  test('every TypeScript block of the README type-checks against the installed package', async (t) => {
    assert.ok(snippets.length >= 5, `expected the README's ts blocks, found ${snippets.length}`);
    await typeCheck(t, project, 'tsconfig.json');
    await typeCheck(t, project, 'tsconfig.nest.json');
  });

  test('CommonJS code requires authflow, authflow/express, authflow/koa, authflow/fastify and authflow/hono (require(esm), Node >= 20.19)', async () => {
    writeFiles(project, {
      'cjs/package.json': JSON.stringify({ type: 'commonjs' }),
      'cjs/index.js': [
        "const core = require('authflow');",
        "const web = require('authflow/express');",
        "const koa = require('authflow/koa');",
        "const fastify = require('authflow/fastify');",
        "const hono = require('authflow/hono');",
        'console.log(JSON.stringify([typeof core.ConfidentialClient, typeof web.auth, typeof web.requireBearer, typeof koa.auth, typeof fastify.auth, typeof hono.auth]));',
      ].join('\n'),
    });
    const output = await runOk(process.execPath, ['cjs/index.js'], { cwd: project });
    assert.deepEqual(JSON.parse(output.trim().split('\n').at(-1)!), ['function', 'function', 'function', 'function', 'function', 'function']);
  });

  test('the README programs run: sign-in, req.getToken, On-Behalf-Of and logout, on Express, Koa, Fastify and Hono, and On-Behalf-Of on NestJS', async () => {
    await runReadmePrograms(project);
  });

  test('the root entry loads without express, koa, fastify, hono or ioredis; each adapter with its framework alone', async () => {
    const bare = join(work, 'bare');
    writeFiles(bare, { 'package.json': JSON.stringify({ name: 'bare', private: true, type: 'module' }) });
    await npmInstall(bare, [tarball]);
    const load = (entry: string): Promise<string> => runOk(process.execPath, ['--input-type=module', '-e', `const m = await import('${entry}'); console.log(Object.keys(m).length);`], { cwd: bare });
    assert.ok(Number((await load('authflow')).trim()) > 5, 'the root entry exports its API');
    const express = await run(process.execPath, ['--input-type=module', '-e', "await import('authflow/express')"], { cwd: bare });
    assert.match(express.output, /Cannot find package 'express'/, 'without express, authflow/express names express, the peer to install');
    // authflow/fastify loads with neither express nor koa installed (its own runtime packages are
    // dependencies; fastify itself is only a type import), so it cannot load either of them.
    for (const framework of ['express', 'koa', 'fastify']) assert.ok(!existsSync(join(bare, 'node_modules', framework)), `${framework} is not installed in the bare project`);
    await load('authflow/fastify');
    // authflow/hono with hono alone: it cannot load express, koa or fastify, none of them being installed.
    await npmInstall(bare, ['hono@4']);
    for (const framework of ['express', 'koa', 'fastify']) assert.ok(!existsSync(join(bare, 'node_modules', framework)), `${framework} is not installed beside hono`);
    await load('authflow/hono');
    await npmInstall(bare, ['express@5', 'koa@3']);
    await load('authflow/express');
    await load('authflow/koa');
    // Nor do the express and koa entries load fastify: it is still not installed here (an optional peer).
    assert.ok(!existsSync(join(bare, 'node_modules/fastify')), 'fastify is not installed in the bare project');
  });

  test('the Express blocks type-check against @types/express@4 too', async (t) => {
    await npmInstall(project, ['@types/express@4']);
    const version = (await runOk(process.execPath, ['-p', "require('@types/express/package.json').version"], { cwd: project })).trim();
    assert.match(version, /^4\./);
    const express = [snippetUnder('Web apps (Express)'), snippetUnder('Web APIs')].map((s) => `snippets/${s.file}`);
    writeFiles(project, { 'tsconfig.express4.json': tsconfig(express, false) });
    await typeCheck(t, project, 'tsconfig.express4.json');
  });
});

/**
 * Runs the consumer's tsc. Errors in the README's blocks or in authflow's .d.ts files fail; errors
 * inside other packages' .d.ts files are not authflow's to fix and are only reported (with both
 * express 5.3 and koa installed, `@types/koa` reads `content-disposition` 2's own types and fails;
 * `skipLibCheck: true` hides that, see the README's Install section).
 */
async function typeCheck(t: TestContext, project: string, config: string): Promise<void> {
  const result = await run(join(project, 'node_modules/.bin/tsc'), ['-p', config, '--pretty', 'false'], { cwd: project });
  const errors = result.output.split('\n').filter((line) => /error TS\d+/.test(line));
  const foreign = errors.filter((line) => line.startsWith('node_modules/') && !line.startsWith('node_modules/authflow/'));
  for (const line of foreign) t.diagnostic(`not authflow's: ${line}`);
  const ours = errors.filter((line) => !foreign.includes(line));
  assert.deepEqual(ours, [], `tsc -p ${config}:\n${result.output}`);
  assert.ok(result.code === 0 || errors.length > 0, `tsc -p ${config} failed without an error line:\n${result.output}`);
}

/**
 * The dev OP and the inventory API run here (from the repository); the README's web app, web API,
 * Koa, Fastify and Hono apps run in the consumer project from its compiled blocks, configured by environment
 * variables only, as a user would run them.
 */
async function runReadmePrograms(project: string): Promise<void> {
  const [expressPort, ordersPort, koaPort, fastifyPort, honoPort, nestPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const expressBase = `http://127.0.0.1:${expressPort}`;
  const koaBase = `http://127.0.0.1:${koaPort}`;
  const fastifyBase = `http://127.0.0.1:${fastifyPort}`;
  const honoBase = `http://127.0.0.1:${honoPort}`;
  const bases = [expressBase, koaBase, fastifyBase, honoBase];
  const op = await startDevOp({
    webApp: { redirectUris: bases.map((b) => `${b}/callback`), postLogoutRedirectUris: bases.map((b) => `${b}/`) },
  });
  const programs: Program[] = [];
  let inventory: Server | undefined;
  try {
    inventory = createInventoryApi(clientFor(op, 'inventory')).listen(0, '127.0.0.1');
    await new Promise((resolve) => inventory!.once('listening', resolve));
    const inventoryUrl = `http://127.0.0.1:${(inventory.address() as { port: number }).port}`;
    const shared = { AUTHORITY: op.issuer, CACHE_KEY: randomBytes(32).toString('base64'), REDIS_URL: await programsRedisUrl() };
    const webApp = { ...shared, CLIENT_ID: op.clients.webApp.clientId, CLIENT_SECRET: op.clients.webApp.clientSecret!, SESSION_SECRET: randomBytes(32).toString('base64'), ORDERS_URL: `http://127.0.0.1:${ordersPort}` };
    const compiled = (heading: string): string => `out/${snippetUnder(heading).file.replace(/\.ts$/, '.js')}`;

    programs.push(await startProgram(project, compiled('Web APIs'), {
      ...shared, PORT: String(ordersPort), CLIENT_ID: op.clients.orders.clientId, CLIENT_SECRET: op.clients.orders.clientSecret!, INVENTORY_URL: inventoryUrl,
    }, `http://127.0.0.1:${ordersPort}/orders`));
    programs.push(await startProgram(project, compiled('Web apps (Express)'), { ...webApp, PORT: String(expressPort), BASE_URL: expressBase }, expressBase));
    programs.push(await startProgram(project, compiled('Koa'), { ...webApp, PORT: String(koaPort), BASE_URL: koaBase }, koaBase));
    programs.push(await startProgram(project, compiled('Fastify'), { ...webApp, PORT: String(fastifyPort), BASE_URL: fastifyBase }, fastifyBase));
    // The NestJS orders API stands in for the Express one behind the Hono app.
    const nestOrders = `http://127.0.0.1:${nestPort}`;
    programs.push(await startProgram(project, compiled(NEST), {
      ...shared, PORT: String(nestPort), CLIENT_ID: op.clients.orders.clientId, CLIENT_SECRET: op.clients.orders.clientSecret!, INVENTORY_URL: inventoryUrl,
    }, `${nestOrders}/orders`));
    programs.push(await startProgram(project, compiled('Hono'), { ...webApp, PORT: String(honoPort), BASE_URL: honoBase, ORDERS_URL: nestOrders }, honoBase));

    for (const base of bases) {
      await signInCallLogOut(op, base).catch((err: Error) => {
        err.message += `\n--- program output ---\n${programs.map((p) => p.output()).join('\n---\n')}`;
        throw err;
      });
    }
  } finally {
    await Promise.all(programs.map((p) => p.stop()));
    if (inventory) await new Promise((resolve) => inventory!.close(resolve));
    await op.close();
    await deleteProgramsKeys();
  }
}

/**
 * The README programs keep the default key prefixes (`sess:`, `authflow:`), so they get a Redis
 * database of their own (the other suites use database 0 with their own prefixes), emptied of
 * those keys afterwards.
 */
const PROGRAMS_DB = 9;
async function programsRedisUrl(): Promise<string> {
  const url = new URL(await redisUrl());
  url.pathname = `/${PROGRAMS_DB}`;
  return url.href;
}

async function deleteProgramsKeys(): Promise<void> {
  const redis = new Redis(await programsRedisUrl(), { maxRetriesPerRequest: 1 });
  try {
    for (const prefix of ['sess:', 'authflow:']) await deleteKeys(redis, prefix);
  } finally {
    redis.disconnect();
  }
}

/** A user signs in at the dev OP, calls the orders API through the app (which calls inventory On-Behalf-Of), signs out. */
async function signInCallLogOut(op: DevOp, base: string): Promise<void> {
  const browser = new Browser(base);
  const toOp = await browser.get('/login?returnTo=/orders');
  assert.equal(toOp.status, 302, `${base}/login: ${toOp.status} ${toOp.body}`);
  assert.ok(toOp.location?.startsWith(op.url), `${base}/login redirects to the OP`);

  const orders = await browser.get(await op.signIn(toOp.location!, { username: 'alice' }));
  assert.equal(orders.status, 200, `${base}: after sign-in, /orders answers ${orders.status} ${orders.body}`);
  assert.equal(new URL(orders.url).pathname, '/orders', 'the callback returns to /orders');
  const answer = JSON.parse(orders.body) as { orders: unknown[]; inventory: { calledBy?: string; onBehalfOf?: string } };
  assert.ok(answer.orders.length > 0, 'the orders API accepted the token from req.getToken');
  assert.equal(answer.inventory.onBehalfOf, op.users.alice.oid, 'inventory was called On-Behalf-Of alice');
  assert.equal(answer.inventory.calledBy, op.clients.orders.clientId, 'by the orders API');

  // GET /logout only asks; the sign-out is the confirmation page's same-origin POST.
  const confirm = await browser.get('/logout');
  assert.equal(confirm.status, 200);
  assert.match(confirm.body, /<form method="post"/i);
  const toEndSession = await browser.post('/logout', {}, { origin: new URL(base).origin });
  assert.equal(toEndSession.status, 302);
  assert.ok(toEndSession.location?.startsWith(op.url), 'idpLogout: /logout continues at the OP');
  const landed = await op.signOut(toEndSession.location!);
  assert.equal(landed, `${base}/`, 'the OP sends the browser back to the app');
  const signedOut = await browser.get('/orders');
  assert.ok(signedOut.status === 302 && signedOut.location?.startsWith(op.url), `${base}: after logout /orders asks for a sign-in again`);
}
