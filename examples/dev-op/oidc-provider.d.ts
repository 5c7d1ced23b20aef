// Minimal ambient types for oidc-provider 9 (the package ships none), covering only what the
// dev OP uses. Models are loosely typed on purpose: their shapes live in oidc-provider's source.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export type AnyModel = any;

  export interface OIDCContext {
    params: Record<string, any>;
    body?: Record<string, unknown>;
    client?: AnyModel;
    entities: Record<string, AnyModel>;
    route: string;
    issuer: string;
    requestParamScopes: Set<string>;
    urlFor(name: string, opts?: Record<string, string>): string;
    entity(key: string, value: unknown): void;
    session?: AnyModel;
  }

  /** koa context as oidc-provider extends it */
  export interface KoaContextWithOIDC {
    oidc: OIDCContext;
    req: IncomingMessage;
    res: ServerResponse;
    method: string;
    path: string;
    url: string;
    status: number;
    body: any;
    type: string;
    query: Record<string, string | string[] | undefined>;
    querystring: string;
    headers: Record<string, string | string[] | undefined>;
    get(name: string): string;
    set(name: string, value: string): void;
    host: string;
  }

  export type Next = () => Promise<unknown>;
  export type Middleware = (ctx: KoaContextWithOIDC, next: Next) => Promise<unknown> | unknown;

  export type Configuration = Record<string, any>;

  export class Provider {
    constructor(issuer: string, configuration?: Configuration);
    /** The context of the request being handled (oidc-provider's AsyncLocalStorage). */
    static get ctx(): KoaContextWithOIDC | undefined;
    issuer: string;
    proxy: boolean;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    use(fn: Middleware): this;
    on(event: string, listener: (...args: any[]) => void): this;
    emit(event: string, ...args: unknown[]): boolean;
    registerGrantType(name: string, handler: (ctx: KoaContextWithOIDC) => Promise<void>, params?: string[] | Set<string>, dupes?: string[]): void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<AnyModel>;
    interactionFinished(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>, opts?: { mergeWithLastSubmission?: boolean }): Promise<void>;
    interactionResult(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>, opts?: { mergeWithLastSubmission?: boolean }): Promise<string>;
    urlFor(name: string, opts?: Record<string, string>): string;
    Grant: AnyModel;
    AccessToken: AnyModel;
    RefreshToken: AnyModel;
    AuthorizationCode: AnyModel;
    Client: AnyModel;
    Session: AnyModel;
    ResourceServer: AnyModel;
  }

  export const errors: {
    InvalidGrant: new (detail?: string) => Error;
    InvalidRequest: new (description?: string) => Error;
    InvalidScope: new (description?: string, scope?: string) => Error;
    InvalidTarget: new (description?: string) => Error;
    InvalidClient: new (detail?: string) => Error;
    AccessDenied: new (description?: string) => Error;
    CustomOIDCProviderError: new (error: string, description?: string) => Error & { status: number; statusCode: number };
  };

  export const interactionPolicy: { base(): AnyModel; Check: AnyModel };

  export default Provider;
}

declare module 'oidc-provider/lib/actions/grants/refresh_token.js' {
  import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
  export const handler: (provider: Provider, helpers: Record<string, unknown>, ctx: KoaContextWithOIDC) => Promise<void>;
  export const parameters: Set<string>;
}

declare module 'oidc-provider/lib/helpers/grants.js' {
  export function buildTokenResponse(provider: unknown, ...args: unknown[]): Record<string, unknown>;
  export function validateGrant(provider: unknown, ...args: unknown[]): Promise<unknown>;
}

declare module 'oidc-provider/lib/adapters/memory_adapter.js' {
  /** oidc-provider's in-memory adapter; `store` is the LRU it keeps entries in. */
  export default class MemoryAdapter {
    constructor(model: string, store?: unknown, clockTolerance?: number);
  }
}

declare module 'oidc-provider/lib/helpers/lru.js' {
  /** oidc-provider's small LRU map (the memory adapter's storage). */
  export default class LRU {
    constructor(options: { maxSize: number });
  }
}
