/**
 * (4) Bearer validation, validations per second, in this process, after warm-up (discovery and
 * JWKS fetched once): authflow's `validateBearer` (and `createBearerValidator`, the form the README
 * recommends for long-lived code) vs the floor, a bare `jose.jwtVerify` with the OP's public key
 * imported locally, and vs express-oauth2-jwt-bearer's `auth()` middleware called directly with a
 * minimal Express-like request (no HTTP server: the figure is the validation, not Express).
 * Rows 4a-4c are NEW tokens: authflow's validator keeps a verified-token cache (on by default), so
 * there they cycle through 16 distinct dev OP tokens with a cache of 1 entry: every call is a miss
 * (hash, lookup, full verification, insert), the cost a never-seen token pays. Row 4e is the
 * repeated token (a cache hit) against the same jose floor; 4f the cache's memory per entry.
 * All are dev OP access tokens (RS256, aud api://orders, scp Orders.Read).
 */
import { auth as oauth2JwtBearer } from 'express-oauth2-jwt-bearer';
import type { NextFunction, Request, Response } from 'express';
import { decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MemoryTokenCacheStore, createBearerValidator, validateBearer } from '../src/index.js';
import { VerifiedTokens, hashOf, signatureChecks } from '../src/bearer/validate.js';
import { alternate, clientFor, fmt, median, opsPerSecond, pairedRatio, signIn, type BenchContext, type MeasurementResult } from './common.js';

export async function bearer(ctx: BenchContext): Promise<MeasurementResult> {
  const { op } = ctx;
  const client = clientFor(op, 'webApp', { cacheStore: new MemoryTokenCacheStore() });
  const { accessToken: token } = await signIn(op, client, 'bearer');

  // Distinct tokens for the new-token rows (cycled through a 1-entry cache: every call misses).
  const tokens = [...new Set([token, ...await Promise.all(Array.from({ length: 15 }, async (_, i) => (await signIn(op, client, `bearer-${i}`)).accessToken))])];
  let next = 0;
  const newToken = (): string => tokens[next++ % tokens.length]!;

  const audience = 'api://orders';
  const options = { authority: op.issuer, audience, scopes: ['Orders.Read'], allowInsecureRequests: true, verifiedTokenCache: { max: 1 } };
  const validator = createBearerValidator(options);
  const cached = createBearerValidator({ ...options, verifiedTokenCache: undefined });

  // The floor: the OP's key, imported once, and jose alone.
  const discovery = await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json() as { jwks_uri: string; issuer: string };
  const jwks = await (await fetch(discovery.jwks_uri)).json() as { keys: JWK[] };
  const { kid } = decodeProtectedHeader(token);
  const jwk = jwks.keys.find((k) => k.kid === kid);
  if (!jwk) throw new Error('the token\'s key is not in the JWKS');
  const key = await importJWK(jwk, 'RS256');

  // express-oauth2-jwt-bearer, accepting http because NODE_ENV is not production.
  const middleware = oauth2JwtBearer({ issuerBaseURL: op.issuer, audience });
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, host: '127.0.0.1' };
  const req = {
    headers,
    query: {},
    body: undefined,
    method: 'GET',
    protocol: 'http',
    url: '/orders',
    originalUrl: '/orders',
    get: (name: string) => headers[name.toLowerCase()],
    is: () => false,
    socket: { remoteAddress: '127.0.0.1' },
  } as unknown as Request;
  const res = {} as Response;
  const viaOauth2JwtBearer = (): Promise<void> => new Promise((resolve, reject) => {
    const next: NextFunction = (err?: unknown) => (err ? reject(err as Error) : resolve());
    void middleware(req, res, next);
  });

  const variants = {
    floor: () => jwtVerify(token, key, { issuer: discovery.issuer, audience, algorithms: ['RS256'] }),
    validateBearer: () => validateBearer(newToken(), options),
    createBearerValidator: () => validator(newToken()),
    oauth2JwtBearer: viaOauth2JwtBearer,
    repeated: () => cached(token),
  };
  // Each must accept the token (and warm up: discovery, JWKS, JIT).
  for (const fn of Object.values(variants)) await fn();
  for (const fn of Object.values(variants)) await opsPerSecond(fn, 200);

  const roundMs = 200;
  const rounds = 20;
  const concurrency = 8;
  const runs = await alternate(rounds, {
    floor: () => opsPerSecond(variants.floor, roundMs),
    validateBearer: () => opsPerSecond(variants.validateBearer, roundMs),
    createBearerValidator: () => opsPerSecond(variants.createBearerValidator, roundMs),
    oauth2JwtBearer: () => opsPerSecond(variants.oauth2JwtBearer, roundMs),
    repeated: () => opsPerSecond(variants.repeated, roundMs),
  });
  const checksBefore = signatureChecks.count;
  let newCalls = 0;
  const conc = await alternate(rounds, {
    floor: () => opsPerSecond(variants.floor, roundMs, concurrency),
    validateBearer: () => opsPerSecond(() => (newCalls++, variants.validateBearer()), roundMs, concurrency),
  });
  const missShare = (signatureChecks.count - checksBefore) / newCalls;
  const [repeated, rRep] = [median(runs.repeated), pairedRatio(runs.repeated, runs.floor)];
  const perEntry = cacheBytesPerEntry(token, await cached(token));
  const [cFloor, cVb, rConc] = [median(conc.floor), median(conc.validateBearer), pairedRatio(conc.validateBearer, conc.floor)];
  const [floor, vb, cv, ej] = [median(runs.floor), median(runs.validateBearer), median(runs.createBearerValidator), median(runs.oauth2JwtBearer)];
  const list = (v: number[]): string => v.map((x) => fmt(x)).join(', ');
  const [rVb, rCv, rEj] = [pairedRatio(runs.validateBearer, runs.floor), pairedRatio(runs.createBearerValidator, runs.floor), pairedRatio(runs.validateBearer, runs.oauth2JwtBearer)];
  const x = (r: number): string => `${r.toFixed(2)}x`;
  return {
    rows: [
      {
        measurement: '4a. Bearer validation, validateBearer (validations/s)', authflow: fmt(vb), baseline: `bare jose.jwtVerify, local key: ${fmt(floor)}`,
        ratio: x(rVb), target: '>= 0.9x', met: rVb >= 0.9 ? 'yes' : 'no',
      },
      {
        measurement: '4b. Bearer validation, createBearerValidator (validations/s)', authflow: fmt(cv), baseline: `bare jose.jwtVerify, local key: ${fmt(floor)}`,
        ratio: x(rCv), target: '>= 0.9x', met: rCv >= 0.9 ? 'yes' : 'no',
      },
      {
        measurement: `4c. Bearer validation, validateBearer, ${concurrency} concurrent (validations/s)`, authflow: fmt(cVb), baseline: `bare jose.jwtVerify, local key: ${fmt(cFloor)}`,
        ratio: x(rConc), target: '>= 0.9x', met: rConc >= 0.9 ? 'yes' : 'no',
      },
      {
        measurement: '4e. Bearer validation, repeated token (verified-token cache hit; validations/s)', authflow: fmt(repeated), baseline: `bare jose.jwtVerify, local key: ${fmt(floor)}`,
        ratio: x(rRep), target: '>= 10x', met: rRep >= 10 ? 'yes' : 'no',
      },
      {
        measurement: '4f. Verified-token cache, memory per entry', authflow: `${fmt(perEntry)} B`, baseline: `default max 100,000: ~${fmt(perEntry * 100_000 / 2 ** 20)} MB`,
        ratio: '', target: '(reported)', met: 'n/a',
      },
      {
        measurement: '4d. Bearer validation vs express-oauth2-jwt-bearer', authflow: fmt(vb), baseline: `express-oauth2-jwt-bearer auth(): ${fmt(ej)}`,
        ratio: x(rEj), target: '(reported)', met: 'n/a',
      },
    ],
    details: [
      `(4) one RS256 access token from the dev OP; ${rounds} alternating rounds of ${roundMs} ms per variant, sequential awaits in this process; medians shown, ratios are medians of per-round ratios.`
        + ' express-oauth2-jwt-bearer\'s middleware is called directly with a minimal request object (headers, host, protocol, url), its next() awaited.',
      `    validations/s  jose floor [${list(runs.floor)}]`,
      `    validateBearer [${list(runs.validateBearer)}]`,
      `    createBearerValidator [${list(runs.createBearerValidator)}]`,
      `    express-oauth2-jwt-bearer [${list(runs.oauth2JwtBearer)}]`,
      `    repeated token (cache hit) [${list(runs.repeated)}]`,
      `    new-token rows cycle ${tokens.length} distinct tokens through a 1-entry cache; ${(missShare * 100).toFixed(1)}% of the ${concurrency}-concurrent calls verified a signature (misses).`,
      `    memory per entry: heap delta of ${MEMORY_ENTRIES} entries (the token's claims, a copy each as jose would give) / ${MEMORY_ENTRIES}, after gc.`,
      `    ${concurrency} concurrent: jose floor [${list(conc.floor)}]  validateBearer [${list(conc.validateBearer)}]`,
      '    jose 6 verifies RS256 with WebCrypto, on the libuv thread pool: sequentially the main thread idles ~2/3 of the time, so per-call main-thread work shows fully in the sequential figure.',
    ],
  };
}

const MEMORY_ENTRIES = 20_000;

/**
 * Heap bytes per verified-token cache entry: the heap grown by N entries, each with its own copy of
 * real claims (as jose gives each token), after gc. The token strings are made before measuring:
 * the cache keeps their hash, never the token.
 */
function cacheBytesPerEntry(token: string, claims: object): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const cache = new VerifiedTokens({ max: MEMORY_ENTRIES, ttlSeconds: 300 });
  const variants = Array.from({ length: MEMORY_ENTRIES }, (_, i) => `${token}${i}`);
  gc();
  const before = process.memoryUsage().heapUsed;
  for (const variant of variants) cache.remember(hashOf(variant), 'kid', structuredClone(claims) as never);
  gc();
  const bytes = (process.memoryUsage().heapUsed - before) / MEMORY_ENTRIES;
  if (cache.size !== MEMORY_ENTRIES) throw new Error(`the cache holds ${cache.size} entries, not ${MEMORY_ENTRIES}`);
  return bytes;
}
