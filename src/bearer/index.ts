/**
 * Bearer token validation for web APIs (framework-neutral): `createBearerValidator` and
 * `validateBearer` in `validate.ts`, their options in `options.ts`, the OP's keys in `keys.ts`.
 */
export { createBearerValidator, validateBearer, MAX_BEARER_TOKEN_LENGTH } from './validate.js';
export type { BearerClaims, BearerFailureReason } from './validate.js';
export type { BearerOptions, BearerFetch } from './options.js';
export { CAE_CAPABILITY, caeClaimsChallenge, insufficientClaimsChallenge, isCaeToken, parseClaimsChallenge, type ClaimsChallengeOptions } from './cae.js';
