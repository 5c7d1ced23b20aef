import type { ConfidentialClient } from '../client.js';
import { configError } from '../errors.js';
import { normalizeScopes } from '../cache/scopes.js';
import { appUrl, isLoopback, num, object } from '../util/options.js';
import { MemorySessionIndex, type SessionIndex } from '../stores/sessionIndex.js';

/** Options of the sign-in middleware (`auth()` in `authflow/express` and `authflow/koa`). */
export interface AuthOptions {
  /** The app's confidential client. */
  client: ConfidentialClient;
  /** The app's public URL, e.g. `https://app.example` (http only for localhost / 127.0.0.1). */
  baseUrl: string;
  /** Scopes asked at sign-in besides `openid profile offline_access`. Default none. */
  scopes?: readonly string[];
  /** Paths, relative to `baseUrl`. Defaults `/login`, `/callback`, `/logout`; back-channel logout off unless set. */
  routes?: { login?: string; callback?: string; logout?: string; backchannelLogout?: string };
  /**
   * Also end the session at the OP on logout (RP-initiated logout). The browser is sent with
   * `client_id`, `post_logout_redirect_uri` and `logout_hint`; `{ idTokenHint: true }` adds the ID
   * token as `id_token_hint`, which some OPs need, at the cost of putting it in a browser URL.
   */
  idpLogout?: boolean | { idTokenHint?: boolean };
  /** Where the browser lands after logout. Default `baseUrl` + `/`. */
  postLogoutRedirectUri?: string;
  /** Sign-ins in flight kept per session (tabs); the oldest is dropped beyond it. Default 3. */
  maxSignIns?: number;
  /** Which sessions belong to an OP session, for back-channel logout. Default: in memory (one process). */
  sessionIndex?: SessionIndex;
}

export interface ResolvedWebOptions {
  client: ConfidentialClient;
  baseUrl: URL;
  scopes: string[];
  paths: { login: string; callback: string; logout: string; backchannelLogout: string | undefined };
  /** The same paths as the browser sees them (with the base URL's path in front). */
  publicPaths: { login: string; logout: string };
  redirectUri: string;
  idpLogout: false | { idTokenHint: boolean };
  postLogoutRedirectUri: string;
  maxSignIns: number;
  sessionIndex: SessionIndex;
  /** Whether cookies must be `Secure`: everywhere but http://localhost and http://127.0.0.1. */
  secureCookies: boolean;
}

/** Checks the middleware's options once, when it is built; each refusal names the option. */
export function resolveWebOptions(options: AuthOptions): ResolvedWebOptions {
  object(options);
  const { client } = options;
  if (!client || typeof client.initiateAuthCodeFlow !== 'function') throw configError('client', 'must be a ConfidentialClient');
  const baseUrl = appUrl(options.baseUrl);
  const basePath = baseUrl.pathname.replace(/\/+$/, '');
  const routes = options.routes ?? {};
  const paths = {
    login: routePath('routes.login', routes.login, '/login'),
    callback: routePath('routes.callback', routes.callback, '/callback'),
    logout: routePath('routes.logout', routes.logout, '/logout'),
    backchannelLogout: routes.backchannelLogout === undefined ? undefined : routePath('routes.backchannelLogout', routes.backchannelLogout, ''),
  };
  let scopes: string[];
  try {
    scopes = normalizeScopes(options.scopes ?? []);
  } catch {
    throw configError('scopes', 'must be an array of scope strings without spaces');
  }
  const maxSignIns = num('maxSignIns', options.maxSignIns, 3, { integer: true, min: 1, max: 20 });
  const idp = options.idpLogout;
  if (idp !== undefined && typeof idp !== 'boolean' && (typeof idp !== 'object' || idp === null)) throw configError('idpLogout', 'must be a boolean or { idTokenHint }');
  const sessionIndex = options.sessionIndex ?? new MemorySessionIndex();
  if (typeof sessionIndex.add !== 'function' || typeof sessionIndex.take !== 'function') throw configError('sessionIndex', 'must implement add and take');
  return {
    client,
    baseUrl,
    scopes,
    paths,
    publicPaths: { login: `${basePath}${paths.login}`, logout: `${basePath}${paths.logout}` },
    redirectUri: `${baseUrl.origin}${basePath}${paths.callback}`,
    idpLogout: idp ? { idTokenHint: typeof idp === 'object' && idp.idTokenHint === true } : false,
    postLogoutRedirectUri: parsePostLogout(options.postLogoutRedirectUri, `${baseUrl.origin}${basePath}/`),
    maxSignIns,
    sessionIndex,
    secureCookies: !isLoopback(baseUrl),
  };
}

function routePath(name: string, value: unknown, fallback: string): string {
  const path = value ?? fallback;
  if (typeof path !== 'string' || !/^\/[A-Za-z0-9._~\-/]*$/.test(path) || path.includes('//')) throw configError(name, 'must be a path like /login');
  return path;
}

function parsePostLogout(value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string') throw configError('postLogoutRedirectUri', 'must be a URL string');
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
    return url.href;
  } catch {
    throw configError('postLogoutRedirectUri', 'must be an absolute http(s) URL');
  }
}
