/**
 * The one place options are checked, when a client, store or middleware is built: every helper
 * takes the option's name and throws `invalid_config` naming it (`option "maxKeys" must be …`).
 * Constructors call these, never hand-rolled checks.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Authority } from '../authority.js';
import { configError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { structuredLogger } from '../telemetry/logs.js';
import { keepStringPrototypeFast } from './stringPrototype.js';

/** How a number option is bounded. */
export interface NumRule {
  /** Whole numbers only. */
  integer?: boolean;
  /** Greater than 0 (the default rule). */
  positive?: boolean;
  /** At least this (instead of `positive`). */
  min?: number;
  /** At most this. */
  max?: number;
}

/** A number option, `fallback` when absent; by default a positive number. */
export function num(name: string, value: unknown, fallback: number, rule: NumRule = { positive: true }): number {
  if (value === undefined) return fallback;
  const { integer = false, min, max } = rule;
  const positive = rule.positive ?? min === undefined;
  const ok = typeof value === 'number' && Number.isFinite(value) && (!integer || Number.isInteger(value))
    && (positive ? value > 0 : value >= (min ?? -Infinity)) && (max === undefined || value <= max);
  if (ok) return value as number;
  if (max !== undefined) throw configError(name, `must be ${integer ? 'an integer' : 'a number'} from ${positive ? 1 : min} to ${max}`);
  if (positive) throw configError(name, `must be a positive ${integer ? 'integer' : 'number'}`);
  throw configError(name, `must be ${integer ? 'an integer' : 'a number'} >= ${min}`);
}

/** A boolean option, `fallback` (false) when absent. */
export function flag(name: string, value: unknown, fallback = false): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw configError(name, 'must be a boolean');
  return value;
}

/** A string option matching `pattern` (described by `what`), `fallback` when absent. */
export function text(name: string, value: unknown, fallback: string, pattern: RegExp = /^.*$/s, what = 'a string'): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !pattern.test(value)) throw configError(name, `must be ${what}`);
  return value;
}

/** The options object itself. */
export function object<T>(value: T, name = 'options'): NonNullable<T> {
  if (value === null || typeof value !== 'object') throw configError(name, 'must be an object');
  return value as NonNullable<T>;
}

/** True for a non-empty array of non-blank strings. */
export function nonEmptyStrings(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && v.trim() !== '');
}

/**
 * A pino-style logger option (`debug`, `info`, `warn`, `error`; `console` is adapted to one JSON
 * object per line), `fallback` when absent; lines get `flow` and trace ids (src/telemetry/logs.ts).
 */
export function logger(value: unknown, fallback: Logger, name = 'logger'): Logger {
  if (value === undefined) return fallback === silentLogger ? fallback : structuredLogger(fallback);
  const l = value as Partial<Logger> | null;
  if (!l || (['debug', 'info', 'warn', 'error'] as const).some((level) => typeof l[level] !== 'function')) {
    throw configError(name, 'must have debug, info, warn and error methods (pino-style)');
  }
  return structuredLogger(l as Logger);
}

/**
 * `allowedTenants`: lower-cased tenant ids; required with a multi-tenant Entra authority
 * (`/common`, `/organizations`), whose issuer template accepts any tenant.
 */
export function tenants(value: unknown, authority: Authority): ReadonlySet<string> | undefined {
  if (value === undefined) {
    if (authority.multiTenant) {
      throw configError('allowedTenants', `is required with the multi-tenant authority "${authority.tenant}": list the tenant ids you accept`);
    }
    return undefined;
  }
  if (!nonEmptyStrings(value)) throw configError('allowedTenants', 'must be a non-empty array of tenant ids');
  return new Set(value.map((t) => t.toLowerCase()));
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** True for http://localhost, http://127.0.0.1 and http://[::1]: the only places plain http is accepted. */
export function isLoopback(url: URL): boolean {
  return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
}

/** The app's public URL: absolute, https (http on loopback), no query, fragment or credentials. */
export function appUrl(value: unknown, name = 'baseUrl'): URL {
  if (typeof value !== 'string') throw configError(name, 'is required: the app\'s public URL, e.g. https://app.example');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw configError(name, 'is not an absolute URL');
  }
  if (url.protocol !== 'https:' && !isLoopback(url)) throw configError(name, 'must be https:// (http:// only for localhost and 127.0.0.1)');
  if (url.search || url.hash || url.username || url.password) throw configError(name, 'must not have a query, fragment or credentials');
  return url;
}

/**
 * An ioredis `Redis` or `Cluster` the caller built (duck-typed: ioredis is an optional peer). Every
 * client enters authflow here, so here ioredis 6's slowing of all string methods is undone
 * (see `stringPrototype.ts`).
 */
export function redisClient(value: unknown, methods: readonly string[], name = 'client'): Redis | Cluster {
  const c = value as Record<string, unknown> | null | undefined;
  if (!c || typeof c !== 'object' || methods.some((m) => typeof c[m] !== 'function')) {
    throw configError(name, 'must be an ioredis Redis or Cluster instance');
  }
  keepStringPrototypeFast();
  return value as Redis | Cluster;
}

/** A Redis key prefix: a string without braces (braces would pin keys to one cluster slot). */
export function redisPrefix(value: unknown, fallback: string, name = 'prefix'): string {
  return text(name, value, fallback, /^[^{}]*$/, 'a string without braces');
}
