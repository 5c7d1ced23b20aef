/**
 * authflow: sign-in and token acquisition for Node web apps and web APIs, following the MSAL
 * model. This entry is framework-neutral; the adapters live at `authflow/express` and `authflow/koa`.
 */
export { ConfidentialClient } from './client.js';
export { AuthError, isOpErrorCode } from './errors.js';
export type { AuthErrorCode, AuthErrorOptions, AuthErrorReason, BodyFailureReason, LocalErrorCode, OpErrorCode, StoreFailureReason } from './errors.js';
export { defaultLogger, silentLogger, stderrLogger } from './logger.js';
export type { Logger } from './logger.js';
export type {
  CertificateCredential, ClientCredential, ConfidentialClientOptions, SecretCredential,
} from './config.js';
export type { AuthorityType } from './authority.js';
export type { AccountInfo, TenantProfile, TokenResult } from './results.js';
export type { AuthCodeFlow, AuthCodeFlowRequest, CallbackParams } from './flows/authCode.js';
export type { SilentRequest } from './flows/silent.js';
export type { OnBehalfOfRequest } from './flows/onBehalfOf.js';
export type { ClientCredentialsRequest } from './flows/clientCredentials.js';
export { MemoryTokenCacheStore } from './stores/memory.js';
export type { MemoryTokenCacheStoreOptions } from './stores/memory.js';
export type { CacheChanges, CacheWriteOptions, LockOptions, ReleaseLock, TokenCacheStore } from './stores/types.js';
export type {
  AccessTokenEntity, AccountEntity, AppMetadataEntity, CacheEntities, CacheEntity, IdTokenEntity, RefreshTokenEntity,
} from './cache/entities.js';
export type { MsalCacheJson } from './cache/serialize.js';
export { RedisTokenCacheStore } from './stores/redis.js';
export type { RedisTokenCacheStoreOptions } from './stores/redis.js';
export type { RedisDurability } from './stores/redisDurability.js';
export type { EncryptionKey } from './cache/crypto.js';
export { MemorySessionIndex } from './stores/sessionIndex.js';
export { RedisSessionIndex } from './stores/redisSessionIndex.js';
export type { SessionIndex } from './stores/sessionIndex.js';
export { validateBearer, createBearerValidator, MAX_BEARER_TOKEN_LENGTH } from './bearer/index.js';
export type { BearerOptions, BearerClaims, BearerFailureReason, BearerFetch } from './bearer/index.js';
export { CAE_CAPABILITY, caeClaimsChallenge, insufficientClaimsChallenge, isCaeToken, parseClaimsChallenge, type ClaimsChallengeOptions } from './bearer/index.js';
export { AADSTS_RULES, type AadstsRule, type EntraErrorReason } from './entraErrors.js';
export { PublicClient } from './publicClient.js';
export type { PublicSilentRequest } from './publicClient.js';
export type { ClientOptionsBase, PublicClientOptions } from './config.js';
export type { DeviceFlow, DeviceFlowRequest, DeviceFlowPollOptions, DevicePollInfo } from './flows/deviceCode.js';
export type { InteractiveRequest } from './flows/interactive.js';
export type { UsernamePasswordRequest } from './flows/usernamePassword.js';
export { FileTokenCacheStore } from './stores/file.js';
export type { FileTokenCacheStoreOptions } from './stores/file.js';
