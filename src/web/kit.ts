/**
 * The adapter kit: everything an adapter uses, in one import. An adapter translates (request →
 * `WebRequest`, its `SessionPort`, `WebResult` → response, request decoration, its session
 * factory); what to run, body reading, the store guard, negotiation and failures are decided here.
 */
export { WebAuth, type GetTokenOptions, type WebRequest } from './webAuth.js';
export type { AuthOptions } from './options.js';
export type { WebResult } from './render.js';
export { setupMistake } from './report.js';
export { answerRoute, routeTable } from './routes.js';
export { CookieSessionPort, SESSION_KEY, authDataOf, type AuthSessionData, type SessionPort } from './session.js';
export { RequestStates } from './requestStates.js';
export { sessionSettings, type AuthSessionOptions } from './sessionSettings.js';
export { answerFailure, asStoreError, destroyIn, guardCallbackStore, guardPromiseStore, storeError, storeGuard, type SessionStoreOptions } from './storeGuard.js';
export { BearerGuard, type RequireBearerOptions } from './bearerGuard.js';
export type { BearerClaims } from '../bearer/index.js';
export type { AccountInfo } from '../results.js';
export { AuthError } from '../errors.js';
