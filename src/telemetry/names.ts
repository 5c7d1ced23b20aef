/**
 * The names authflow's telemetry uses: span names, attribute keys and metric instruments, in one
 * place (the README's Observability section lists them). Attribute values never hold a token, a
 * code, a verifier, a secret, a user name, an email, an IP or a cache key.
 */

/** Span names. */
export const SPAN = {
  /** One token acquisition (every `acquireToken*` call). */
  acquireToken: 'authflow.acquire_token',
  /** One token-cache store operation (read, write, clear, lock). */
  store: 'authflow.cache_store',
  /** A web route of the kit (`/login`, `/callback`, `/logout`, back-channel logout): `authflow.web <route>`. */
  webPrefix: 'authflow.web',
} as const;

/** The flows an acquisition is labelled with (`authflow.flow`). */
export type FlowName = 'silent' | 'auth_code' | 'obo' | 'client_credentials' | 'device_code' | 'interactive' | 'username_password';

/** Where a cached token came from: this process's recent reads, the store, or neither (the OP). */
export type CacheLayer = 'local' | 'store' | 'none';

/** How an acquisition ended (`authflow.outcome`). `shared`: joined an identical request already in flight. */
export type AcquisitionOutcome = 'cache_hit' | 'refresh' | 'network' | 'shared' | 'error';

/** Attribute keys. */
export const ATTR = {
  flow: 'authflow.flow',
  fromCache: 'authflow.from_cache',
  cacheLayer: 'authflow.cache.layer',
  refreshed: 'authflow.refreshed',
  lockWaitedMs: 'authflow.lock.waited_ms',
  outcome: 'authflow.outcome',
  grantType: 'authflow.grant_type',
  endpoint: 'authflow.op.endpoint',
  partitions: 'authflow.store.partitions',
  lockOutcome: 'authflow.lock.outcome',
  route: 'http.route',
  errorCode: 'error.code',
  errorType: 'error.type',
  httpMethod: 'http.request.method',
  httpStatus: 'http.response.status_code',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  dbSystem: 'db.system',
  dbOperation: 'db.operation',
} as const;

/** Metric instruments (OpenTelemetry naming: dotted, unit separate; durations in seconds). */
export const METRIC = {
  acquisitions: 'authflow.token.acquisitions',
  acquisitionDuration: 'authflow.token.acquisition.duration',
  tokenRequests: 'authflow.token_endpoint.requests',
  tokenRequestDuration: 'authflow.token_endpoint.duration',
  lockWaits: 'authflow.cache.lock.waits',
  storeErrors: 'authflow.cache.store.errors',
  storeDuration: 'authflow.cache.store.duration',
  signIns: 'authflow.sign_ins',
  bearerValidations: 'authflow.bearer.validations',
  bearerCacheHits: 'authflow.bearer.verified_cache.hits',
} as const;
