/**
 * A V8 performance cliff that ioredis 6 brings into every process that loads it, and its remedy.
 *
 * ioredis 6 declares `class VerbatimString extends String` (RESP3 verbatim replies) when it loads.
 * Making `String.prototype` the prototype of a new object puts it in V8's dictionary mode, and
 * V8 turns a prototype back to fast mode only when an object whose chain holds it is written to:
 * here, when a `VerbatimString` is built, which never happens without RESP3. Until then every
 * string method call in the process is slower. Measured on Node 20 (V8 11.3): a `charCodeAt` loop
 * 2.5x, jose's base64url decoding 2x, authflow's validation of new bearer tokens 22% fewer per
 * second with 8 in flight (19.1k against 24.6k) and 6% fewer sequentially. V8 does this
 * only the first time an object becomes a prototype, and express-session, as it loads, happens to
 * leave `String.prototype` fast, before or after ioredis: Express apps with sessions do not see it;
 * Koa, Hono and Fastify apps and web APIs without express-session do.
 * To see it: `node --allow-natives-syntax -e "require('ioredis'); console.log(%HasFastProperties(String.prototype))"`
 * prints false (true without ioredis). `test/util/stringPrototype.test.ts` checks the remedy.
 */

/**
 * Turns `String.prototype` back to V8's fast mode: one property write to a throwaway object whose
 * prototype is `String.prototype` (V8 makes the prototypes of a written object fast). No other
 * effect: the object is dropped, and `String.prototype` itself is not touched. authflow calls it
 * where it receives an ioredis client (`redisClient()`, the store guard), which is loaded by then;
 * a call costs a small allocation, and calling it again is harmless.
 */
export function keepStringPrototypeFast(): void {
  const probe = Object.create(String.prototype) as { written?: boolean };
  probe.written = true;
}
