/**
 * (4) Bearer validation, measured in a process of its own, as a web API validates tokens: the dev
 * OP runs in the bench's process, and oidc-provider's AsyncLocalStorage turns on Node 20's promise
 * hooks there, which would charge every promise (authflow's and jose's alike) a hook call that a
 * web API without the OP does not pay.
 *
 * Variants, after warm-up (discovery and the JWKS fetched once): the floor, a bare `jose.jwtVerify`
 * with the OP's key imported here; authflow's `validateBearer` and `createBearerValidator` on NEW
 * tokens (16 distinct ones cycled through a 1-entry verified-token cache: every call a miss);
 * express-oauth2-jwt-bearer's `auth()` called directly with a minimal request; authflow on a
 * repeated token (a cache hit); `validateBearer` on new tokens with the cache off (diagnostic); the
 * floor's checks with node:crypto's `crypto.verify` instead of jose's WebCrypto (diagnostic).
 * Prints one JSON line ({@link BearerWorkerResult}); exits when stdin ends.
 */
import { auth as oauth2JwtBearer } from 'express-oauth2-jwt-bearer';
import type { NextFunction, Request, Response } from 'express';
import { decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import { createPublicKey, verify as cryptoVerify, type JsonWebKey as NodeJwk } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createBearerValidator, validateBearer } from '../../src/index.js';
import { VerifiedTokens, hashOf, signatureChecks } from '../../src/bearer/validate.js';
import { alternate, env, opsPerSecond, stdinLines } from '../common.js';

export interface BearerWorkerConfig {
  issuer: string;
  audience: string;
  /** Distinct access tokens of the dev OP; the first is also the floor's and the repeated one. */
  tokens: string[];
  rounds: number;
  roundMs: number;
  concurrency: number;
}

export interface BearerWorkerResult {
  /** Validations per second per round, sequential. */
  runs: Record<'floor' | 'validateBearer' | 'createBearerValidator' | 'oauth2JwtBearer' | 'repeated' | 'cacheOff' | 'nodeCrypto', number[]>;
  /** The same with `concurrency` calls in flight. */
  conc: Record<'floor' | 'validateBearer' | 'cacheOff' | 'nodeCrypto', number[]>;
  /** Share of the concurrent new-token calls that verified a signature (1: every one a miss). */
  missShare: number;
  /** Heap bytes per verified-token cache entry. */
  perEntry: number;
  memoryEntries: number;
}

const config = JSON.parse(env('BEARER_CONFIG')) as BearerWorkerConfig;
const { issuer, audience, tokens, rounds, roundMs, concurrency } = config;
const [token] = tokens as [string];
let next = 0;
const newToken = (): string => tokens[next++ % tokens.length]!;

const options = { authority: issuer, audience, scopes: ['Orders.Read'], allowInsecureRequests: true, verifiedTokenCache: { max: 1 } };
const validator = createBearerValidator(options);
const cached = createBearerValidator({ ...options, verifiedTokenCache: undefined });
/** Diagnostic: new tokens with the verified-token cache off (no hash, lookup or insert per call). */
const cacheOffOptions = { ...options, verifiedTokenCache: false as const };

// The floor: the OP's key, imported once, and jose alone.
const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json() as { jwks_uri: string; issuer: string };
const jwks = await (await fetch(discovery.jwks_uri)).json() as { keys: JWK[] };
const { kid } = decodeProtectedHeader(token);
const jwk = jwks.keys.find((k) => k.kid === kid);
if (!jwk) throw new Error('the token\'s key is not in the JWKS');
const key = await importJWK(jwk, 'RS256');

/**
 * Diagnostic: the floor's work with node:crypto instead of WebCrypto (jose 6 verifies with WebCrypto
 * only). `crypto.verify` with a callback runs on the libuv thread pool, as WebCrypto does; then the
 * payload is decoded and its exp, iss and aud checked. Not a validator: it shows what the platform's
 * other RSA path costs on this machine, beside jose's.
 */
const keyObject = createPublicKey({ key: jwk as NodeJwk, format: 'jwk' });
const viaNodeCrypto = (jwt: string): Promise<Record<string, unknown>> => new Promise((resolve, reject) => {
  const [header = '', payload = '', signature = ''] = jwt.split('.');
  cryptoVerify('sha256', Buffer.from(`${header}.${payload}`), keyObject, Buffer.from(signature, 'base64url'), (err, valid) => {
    if (err || !valid) return reject(err ?? new Error('signature does not verify'));
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const fits = claims.iss === discovery.issuer && typeof claims.exp === 'number' && claims.exp > Date.now() / 1000
      && (claims.aud === audience || (Array.isArray(claims.aud) && claims.aud.includes(audience)));
    if (fits) resolve(claims);
    else reject(new Error('claims do not fit'));
  });
});

// express-oauth2-jwt-bearer, accepting http because NODE_ENV is not production.
const middleware = oauth2JwtBearer({ issuerBaseURL: issuer, audience });
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
  const done: NextFunction = (err?: unknown) => (err ? reject(err as Error) : resolve());
  void middleware(req, res, done);
});

const variants = {
  floor: () => jwtVerify(token, key, { issuer: discovery.issuer, audience, algorithms: ['RS256'] }),
  validateBearer: () => validateBearer(newToken(), options),
  createBearerValidator: () => validator(newToken()),
  oauth2JwtBearer: viaOauth2JwtBearer,
  repeated: () => cached(token),
  cacheOff: () => validateBearer(newToken(), cacheOffOptions),
  nodeCrypto: () => viaNodeCrypto(token),
};
// Each must accept the token (and warm up: discovery, JWKS, JIT).
for (const fn of Object.values(variants)) await fn();
// The diagnostic checks the signature for real: a token with one character of its payload changed is refused.
const [headerPart, payloadPart, signaturePart] = token.split('.') as [string, string, string];
const tampered = `${headerPart}.${payloadPart.slice(0, 10)}${payloadPart[10] === 'A' ? 'B' : 'A'}${payloadPart.slice(11)}.${signaturePart}`;
if (await viaNodeCrypto(tampered).then(() => true, () => false)) throw new Error('the node:crypto diagnostic accepted a tampered token');
for (const fn of Object.values(variants)) await opsPerSecond(fn, 200);

const runs = await alternate(rounds, {
  floor: () => opsPerSecond(variants.floor, roundMs),
  validateBearer: () => opsPerSecond(variants.validateBearer, roundMs),
  createBearerValidator: () => opsPerSecond(variants.createBearerValidator, roundMs),
  oauth2JwtBearer: () => opsPerSecond(variants.oauth2JwtBearer, roundMs),
  repeated: () => opsPerSecond(variants.repeated, roundMs),
  cacheOff: () => opsPerSecond(variants.cacheOff, roundMs),
  nodeCrypto: () => opsPerSecond(variants.nodeCrypto, roundMs),
});
const checksBefore = signatureChecks.count;
let [newCalls, offCalls] = [0, 0];
const conc = await alternate(rounds, {
  floor: () => opsPerSecond(variants.floor, roundMs, concurrency),
  validateBearer: () => opsPerSecond(() => (newCalls++, variants.validateBearer()), roundMs, concurrency),
  cacheOff: () => opsPerSecond(() => (offCalls++, variants.cacheOff()), roundMs, concurrency),
  nodeCrypto: () => opsPerSecond(variants.nodeCrypto, roundMs, concurrency),
});
// Every call with the cache off verifies a signature; the rest are the cached validator's misses.
const missShare = (signatureChecks.count - checksBefore - offCalls) / newCalls;

const MEMORY_ENTRIES = 20_000;

/**
 * Heap bytes per verified-token cache entry: the heap grown by N entries, each with its own copy of
 * real claims (as jose gives each token), after gc. The token strings are made before measuring:
 * the cache keeps their hash, never the token.
 */
function cacheBytesPerEntry(claims: object): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const cache = new VerifiedTokens({ max: MEMORY_ENTRIES, ttlSeconds: 300 });
  const copies = Array.from({ length: MEMORY_ENTRIES }, (_, i) => `${token}${i}`);
  gc();
  const before = process.memoryUsage().heapUsed;
  for (const copy of copies) cache.remember(hashOf(copy), 'kid', structuredClone(claims) as never);
  gc();
  const bytes = (process.memoryUsage().heapUsed - before) / MEMORY_ENTRIES;
  if (cache.size !== MEMORY_ENTRIES) throw new Error(`the cache holds ${cache.size} entries, not ${MEMORY_ENTRIES}`);
  return bytes;
}

const result: BearerWorkerResult = { runs, conc, missShare, perEntry: cacheBytesPerEntry(await cached(token)), memoryEntries: MEMORY_ENTRIES };
process.stdout.write(`${JSON.stringify(result)}\n`);
for await (const _ of stdinLines()) { /* wait for the parent to close stdin */ }
