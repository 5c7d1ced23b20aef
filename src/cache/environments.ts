/**
 * Entra's host aliases: several host names are one "environment" for the token cache. MSAL learns
 * the groups from Entra's instance discovery (`/common/discovery/instance`) and files tokens under
 * each group's `preferred_cache` host (`login.windows.net` for the public cloud), whatever host the
 * authority names. authflow uses the same groups, fixed here: it never calls the internet at run
 * time, and they have not changed in years.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/authentication-national-cloud
 */

/** One alias group as Entra's instance discovery answers it. */
export interface EntraCloud {
  /** The host MSAL sends requests to. */
  readonly preferred_network: string;
  /** The host MSAL writes in the cache's `environment`. */
  readonly preferred_cache: string;
  /** Every host of the group (both preferred ones included). */
  readonly aliases: readonly string[];
}

/** Entra's alias groups (public cloud, China, Germany, US Government), as instance discovery returns them. */
export const ENTRA_CLOUDS: readonly EntraCloud[] = [
  { preferred_network: 'login.microsoftonline.com', preferred_cache: 'login.windows.net', aliases: ['login.microsoftonline.com', 'login.windows.net', 'login.microsoft.com', 'sts.windows.net'] },
  { preferred_network: 'login.partner.microsoftonline.cn', preferred_cache: 'login.partner.microsoftonline.cn', aliases: ['login.partner.microsoftonline.cn', 'login.chinacloudapi.cn'] },
  { preferred_network: 'login.microsoftonline.de', preferred_cache: 'login.microsoftonline.de', aliases: ['login.microsoftonline.de'] },
  { preferred_network: 'login.microsoftonline.us', preferred_cache: 'login.microsoftonline.us', aliases: ['login.microsoftonline.us', 'login.usgovcloudapi.net'] },
  { preferred_network: 'login-us.microsoftonline.com', preferred_cache: 'login-us.microsoftonline.com', aliases: ['login-us.microsoftonline.com'] },
];

const CACHE_HOST = new Map<string, string>(ENTRA_CLOUDS.flatMap((cloud) => cloud.aliases.map((alias) => [alias, cloud.preferred_cache] as [string, string])));

/** Whether a host is one of Entra's (any cloud, any alias). */
export const isEntraHost = (host: string): boolean => CACHE_HOST.has(host.toLowerCase());

/** The environment MSAL writes for a host: its group's `preferred_cache`, else the host itself (lower case). */
export function cacheEnvironment(host: string | null | undefined): string {
  const lower = (host ?? '').toLowerCase();
  return CACHE_HOST.get(lower) ?? lower;
}

/** Whether two environments are the same for lookups (equal, or aliases of one Entra cloud). */
export const sameEnvironment = (a: string | null | undefined, b: string | null | undefined): boolean => cacheEnvironment(a) === cacheEnvironment(b);
